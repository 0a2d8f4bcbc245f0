package sandbox

import (
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Redis is an embedded Redis (miniredis) on a free port of 127.0.0.1, for a
// sandbox without REDIS_URL. Its keys expire in real time as Redis's do:
// miniredis itself only ages keys when told, so a ticker tells it.
type Redis struct {
	m    *miniredis.Miniredis
	stop chan struct{}
	done sync.WaitGroup
}

// redisTick is how often keys are aged; an expiry is late by at most this.
const redisTick = 250 * time.Millisecond

// StartRedis starts the embedded Redis.
func StartRedis() (*Redis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	r := &Redis{m: m, stop: make(chan struct{})}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(redisTick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-r.stop:
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return r, nil
}

// URL is the redis:// URL clients connect to.
func (r *Redis) URL() string { return "redis://" + r.m.Addr() + "/0" }

// Addr is the host:port it listens on.
func (r *Redis) Addr() string { return r.m.Addr() }

// Close stops it and frees the port.
func (r *Redis) Close() {
	close(r.stop)
	r.done.Wait()
	r.m.Close()
}
