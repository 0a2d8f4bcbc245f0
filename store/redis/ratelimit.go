package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// WrongCodesPerMinute is how many wrong fallback codes a merchant may type in
// a minute before every typed code is refused for a while.
const WrongCodesPerMinute = 10

// CodeLimiter bounds the wrong fallback codes a merchant types, shared by every
// replica (GCRA in Redis, go-redis/redis_rate). An 8-digit code is guessable
// where a signed QR token is not, so each typed code takes a unit before it is
// looked up — parallel guesses cannot overshoot — and a code that turns out
// right gives its unit back.
type CodeLimiter struct {
	l      *redis_rate.Limiter
	prefix string
	limit  redis_rate.Limit
}

// NewCodeLimiter limits to WrongCodesPerMinute; prefix namespaces the keys.
func NewCodeLimiter(c *goredis.Client, prefix string) *CodeLimiter {
	return NewCodeLimiterWith(c, prefix, redis_rate.PerMinute(WrongCodesPerMinute))
}

// NewCodeLimiterWith uses another limit (tests use a short period).
func NewCodeLimiterWith(c *goredis.Client, prefix string, limit redis_rate.Limit) *CodeLimiter {
	return &CodeLimiter{l: redis_rate.NewLimiter(c), prefix: prefix, limit: limit}
}

func (c *CodeLimiter) key(merchantID int64) string {
	return c.prefix + "wrongcode:" + strconv.FormatInt(merchantID, 10)
}

// Reserve takes a unit for a code about to be looked up. When the merchant has
// none left, ok is false and retryAfter says when one will be.
func (c *CodeLimiter) Reserve(ctx context.Context, merchantID int64) (ok bool, retryAfter time.Duration, err error) {
	res, err := c.l.Allow(ctx, c.key(merchantID), c.limit)
	if err != nil {
		return false, 0, fmt.Errorf("redis: wrong-code limit of merchant %d: %w", merchantID, err)
	}
	if res.Allowed == 0 {
		return false, max(res.RetryAfter, time.Second), nil
	}
	return true, 0, nil
}

// Release gives back the unit of a code that was right.
func (c *CodeLimiter) Release(ctx context.Context, merchantID int64) error {
	key := c.key(merchantID)
	res, err := c.l.AllowN(ctx, key, c.limit, -1)
	if err != nil {
		return fmt.Errorf("redis: wrong-code limit of merchant %d: release: %w", merchantID, err)
	}
	// The script stores nothing when the give-back would empty the record
	// (the bucket is full again), leaving the reserved unit in place: say so
	// by removing the record.
	if res.ResetAfter <= 0 {
		if err := c.l.Reset(ctx, key); err != nil {
			return fmt.Errorf("redis: wrong-code limit of merchant %d: reset: %w", merchantID, err)
		}
	}
	return nil
}
