package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Dedupe claims Telegram update ids so that an update delivered twice (a
// webhook retried, a poll offset lost in a restart, two replicas) is handled
// once.
type Dedupe struct {
	c      goredis.UniversalClient
	prefix string
	ttl    time.Duration
}

// NewDedupe claims update ids of bot botID under prefix+"update:<bot>:<id>"
// for ttl (Telegram keeps undelivered updates for 24 hours).
func NewDedupe(c goredis.UniversalClient, prefix string, botID int64, ttl time.Duration) *Dedupe {
	return &Dedupe{c: c, prefix: prefix + "update:" + strconv.FormatInt(botID, 10) + ":", ttl: ttl}
}

// Claim reports whether this is the first claim of updateID.
func (d *Dedupe) Claim(ctx context.Context, updateID int64) (bool, error) {
	ok, err := d.c.SetNX(ctx, d.prefix+strconv.FormatInt(updateID, 10), 1, d.ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis: claim update: %w", err)
	}
	return ok, nil
}
