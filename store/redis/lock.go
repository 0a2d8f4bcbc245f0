package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ChatLocks give one replica at a time the right to handle a chat's updates,
// so a conversation stays in order when webhook deliveries of one chat reach
// different replicas.
type ChatLocks struct {
	c      goredis.UniversalClient
	prefix string
	ttl    time.Duration // how long a lock outlives a replica that died holding it
	wait   time.Duration // first pause between tries
}

// NewChatLocks keeps locks under prefix+"lock:chat:<id>" for at most ttl.
func NewChatLocks(c goredis.UniversalClient, prefix string, ttl time.Duration) *ChatLocks {
	return &ChatLocks{c: c, prefix: prefix + "lock:chat:", ttl: ttl, wait: 5 * time.Millisecond}
}

var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Lock waits until the chat's lock is free or ctx ends; unlock releases it
// only if it is still ours (it may have expired and been taken by another).
func (l *ChatLocks) Lock(ctx context.Context, chat int64) (func(), error) {
	key := l.prefix + strconv.FormatInt(chat, 10)
	b := make([]byte, 12)
	rand.Read(b)
	token := hex.EncodeToString(b)
	wait := l.wait
	for {
		ok, err := l.c.SetNX(ctx, key, token, l.ttl).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: lock chat: %w", err)
		}
		if ok {
			return func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				defer cancel()
				unlockScript.Run(ctx, l.c, []string{key}, token)
			}, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("redis: lock chat: %w", ctx.Err())
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}
