// Package redistest gives each test its own Redis key prefix on the real server
// (database 15 by default), so packages can run in parallel. With CI=true a
// missing server fails the test; elsewhere it skips.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"socialwallet/internal/pgtest"
)

// URL is TEST_REDIS_URL or the local server's database 15.
func URL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// Client returns a client and a unique key prefix for this test; the test's
// keys are deleted when it ends.
func Client(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	opt, err := goredis.ParseURL(URL())
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		pgtest.Unavailable(t, "Redis", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "swtest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}
