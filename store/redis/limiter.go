package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// SendLimiter paces the Telegram sends of every replica through one Redis: at most
// Rate messages a second in all, at most one a second to any chat, and none at
// all while the pause a 429 set stands.
//
// It is a GCRA with reservations: each call atomically takes the next free
// slot on a global grid (one every Interval), no earlier than the chat's next
// free slot or the end of a pause, and sleeps until it. Slots are spaced by
// the interval exactly, so the rate holds over any window however many
// replicas and workers ask at once, and one Redis call is made per message.
// Times are Redis's (TIME), so replicas need no synchronised clocks.
type SendLimiter struct {
	rdb          goredis.UniversalClient
	pauseKey     string
	globalKey    string
	chatPrefix   string
	interval     time.Duration
	chatInterval time.Duration
	tolerance    time.Duration
}

// SendLimiterConfig sets the limits. Zero fields take the defaults.
type SendLimiterConfig struct {
	// Rate is messages a second across every replica (default 25; Telegram
	// allows about 30 for a bot).
	Rate int
	// ChatInterval is the least time between two messages to one chat
	// (default 1 s).
	ChatInterval time.Duration
	// Guard is time left unused in every second (default 40 ms), so that
	// requests which leave at their slots but reach Telegram with a few
	// milliseconds of jitter still arrive no more than Rate in any second:
	// slots are (1 s + Guard) / Rate apart.
	Guard time.Duration
	// Tolerance is how late after its slot a message may still go (default
	// Guard / 2); a later one takes a new slot. Together with the guard it
	// keeps a loaded process's late wake-ups from crowding a second.
	Tolerance time.Duration
	// Prefix namespaces the keys (tests use one per test).
	Prefix string
}

// NewSendLimiter builds a limiter on rdb (a client or a cluster client: the keys
// share one hash slot).
func NewSendLimiter(rdb goredis.UniversalClient, cfg SendLimiterConfig) *SendLimiter {
	if cfg.Rate <= 0 {
		cfg.Rate = 25
	}
	if cfg.ChatInterval <= 0 {
		cfg.ChatInterval = time.Second
	}
	if cfg.Guard <= 0 {
		cfg.Guard = 40 * time.Millisecond
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = cfg.Guard / 2
	}
	base := cfg.Prefix + "sw:{send}:"
	return &SendLimiter{
		rdb:          rdb,
		pauseKey:     base + "pause",
		globalKey:    base + "global",
		chatPrefix:   base + "chat:",
		interval:     (time.Second + cfg.Guard) / time.Duration(cfg.Rate),
		chatInterval: cfg.ChatInterval + cfg.Guard,
		tolerance:    cfg.Tolerance,
	}
}

// Interval is the time between two slots.
func (l *SendLimiter) Interval() time.Duration { return l.interval }

// sendReserveScript takes the next slot for a chat and answers {1, µs to wait
// for it}. The slot is the latest of now, the end of a pause and the global
// grid's next slot; when the chat's next slot is later still it reserves
// nothing and answers {0, µs until the chat is free}. Lua numbers are doubles: µs since 1970
// (~1.8e15) are exact below 2^53.
var sendReserveScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local s = now
local p = redis.call('PTTL', KEYS[1])
if p > 0 then s = now + p * 1000 end
local g = tonumber(redis.call('GET', KEYS[2]) or '0')
if g > s then s = g end
local c = tonumber(redis.call('GET', KEYS[3]) or '0')
if c > s then
  -- The chat is the constraint: take nothing now (a global slot held until
  -- then would stall every other chat); ask again when the chat is free.
  return {0, math.floor(c - now)}
end
local ci = tonumber(ARGV[2])
redis.call('SET', KEYS[3], string.format('%.0f', s + ci), 'PX', math.ceil((s + ci - now) / 1000) + 1000)
local gi = tonumber(ARGV[1])
redis.call('SET', KEYS[2], string.format('%.0f', s + gi), 'PX', math.ceil((s + gi - now) / 1000) + 1000)
return {1, math.floor(s - now)}
`)

// sendPauseScript extends the pause to at least ARGV[1] ms from now; never shortens it.
var sendPauseScript = goredis.NewScript(`
local cur = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[1])
if cur < want then redis.call('SET', KEYS[1], '1', 'PX', want) end
return redis.call('PTTL', KEYS[1])
`)

// Wait blocks until a message may go to chat, or ctx ends.
func (l *SendLimiter) Wait(ctx context.Context, chat int64) error {
	chatKey := l.chatPrefix + strconv.FormatInt(chat, 10)
	misses := 0
	for {
		t0 := time.Now()
		res, err := sendReserveScript.Run(ctx, l.rdb, []string{l.pauseKey, l.globalKey, chatKey},
			l.interval.Microseconds(), l.chatInterval.Microseconds()).Int64Slice()
		if err != nil {
			return fmt.Errorf("redis: send limiter: %w", err)
		}
		reserved, wait := res[0] == 1, time.Duration(res[1])*time.Microsecond
		if !reserved {
			if err := sleepCtx(ctx, wait); err != nil {
				return err
			}
			continue
		}
		// The earliest local instant the slot can be: the script ran after t0.
		slot := t0.Add(wait)
		if wait > 0 {
			if err := sleepCtx(ctx, time.Until(slot)); err != nil {
				return err
			}
			// A 429 may have paused everyone while this slot was waited for.
			left, err := l.Paused(ctx)
			if err != nil {
				return err
			}
			if left > 0 {
				continue
			}
		}
		// A slot used late would crowd the next second: a busy process that
		// wakes (or hears from Redis) too late takes a fresh slot instead, a
		// few times at most so that it cannot starve.
		if time.Since(slot) > l.tolerance && misses < maxLateSlots {
			misses++
			continue
		}
		return nil
	}
}

// maxLateSlots is how many slots one message may give up for being late.
const maxLateSlots = 3

// Pause stops every replica's sending for d (Telegram's retry_after); a
// longer pause already set stands.
func (l *SendLimiter) Pause(ctx context.Context, d time.Duration) error {
	ms := d.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	if err := sendPauseScript.Run(ctx, l.rdb, []string{l.pauseKey}, ms).Err(); err != nil {
		return fmt.Errorf("redis: send limiter pause: %w", err)
	}
	return nil
}

// Paused is how long the pause still stands (0 when none).
func (l *SendLimiter) Paused(ctx context.Context) (time.Duration, error) {
	d, err := l.rdb.PTTL(ctx, l.pauseKey).Result()
	if err != nil {
		return 0, fmt.Errorf("redis: send limiter pause: %w", err)
	}
	if d < 0 {
		return 0, nil
	}
	return d, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
