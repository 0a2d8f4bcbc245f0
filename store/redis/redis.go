// Package redis keeps what may be lost without losing money: conversation
// sessions, update de-duplication, rate limits, the short fallback codes of QR
// tokens and the send limiter shared by every replica. Everything of value
// lives in PostgreSQL.
package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// Open connects to url (redis://host:port/db) and checks the connection.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse REDIS_URL: %w", err)
	}
	c := goredis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", opt.Addr, err)
	}
	return c, nil
}
