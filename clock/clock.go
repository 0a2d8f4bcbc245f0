// Package clock provides the clocks the service runs on: the system clock in
// production, and a clock that starts at a chosen instant and runs on (with
// jumps) for tests and the sandbox. Rules never read time.Now directly.
package clock

import (
	"sync"
	"time"
)

// System reads the machine's clock.
type System struct{}

// Now is time.Now.
func (System) Now() time.Time { return time.Now() }

// Offset runs at real speed from a chosen start; Set jumps it. Safe for
// concurrent use.
type Offset struct {
	mu     sync.RWMutex
	offset time.Duration
	frozen bool
	at     time.Time
}

// StartingAt returns a clock that reads start now and runs on.
func StartingAt(start time.Time) *Offset {
	return &Offset{offset: time.Until(start)}
}

// Frozen returns a clock that stays at t until Set or Advance moves it.
func Frozen(t time.Time) *Offset { return &Offset{frozen: true, at: t} }

// Now reads the clock.
func (c *Offset) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen {
		return c.at
	}
	return time.Now().Add(c.offset)
}

// Set jumps the clock to t; a running clock runs on from there.
func (c *Offset) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = t
		return
	}
	c.offset = time.Until(t)
}

// Advance moves the clock forward by d.
func (c *Offset) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		c.at = c.at.Add(d)
		return
	}
	c.offset += d
}
