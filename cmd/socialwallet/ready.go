package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Readiness settings: a dependency that stops answering is seen within
// readyEvery + readyTimeout (1.5 s), inside the 2 s an operator's load
// balancer is promised. The schema is compared with the binary less often:
// it changes only when someone runs migrate.
const (
	readyEvery       = 500 * time.Millisecond
	readyTimeout     = time.Second
	readySchemaEvery = 30 * time.Second
)

// probe is one dependency readiness asks after.
type probe struct {
	name string
	// check answers nil when the dependency is usable.
	check func(ctx context.Context) error
	// every is how often it is asked (default readyEvery).
	every time.Duration
	// after names a probe that must pass first: the schema is asked after
	// only when PostgreSQL answers, and again as soon as it comes back.
	after string
}

// readiness keeps the last answer of every probe, asked in the background so
// /readyz answers at once and the bot can tell a user the service is down
// without waiting for a timeout of its own.
type readiness struct {
	probes []probe
	log    *slog.Logger

	mu    sync.RWMutex
	state map[string]error // nil: ready; absent: not asked yet
}

func newReadiness(log *slog.Logger, probes ...probe) *readiness {
	return &readiness{probes: probes, log: log, state: map[string]error{}}
}

var errNotChecked = errors.New("not checked yet")

// run asks every probe on its schedule until ctx ends.
func (r *readiness) run(ctx context.Context) error {
	last := make([]time.Time, len(r.probes))
	t := time.NewTicker(readyEvery)
	defer t.Stop()
	for {
		r.round(ctx, last)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// round asks the probes that are due, the independent ones at once.
func (r *readiness) round(ctx context.Context, last []time.Time) {
	now := time.Now()
	var wg sync.WaitGroup
	for i, p := range r.probes {
		if p.after != "" {
			continue
		}
		if !last[i].IsZero() && now.Sub(last[i]) < every(p) {
			continue
		}
		last[i] = now
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.ask(ctx, p)
		}()
	}
	wg.Wait()
	for i, p := range r.probes {
		if p.after == "" {
			continue
		}
		if r.err(p.after) != nil {
			// Unknown while what it depends on is down; asked again at once
			// when that returns.
			r.set(p.name, r.err(p.after))
			last[i] = time.Time{}
			continue
		}
		if !last[i].IsZero() && now.Sub(last[i]) < every(p) {
			continue
		}
		last[i] = now
		r.ask(ctx, p)
	}
}

func every(p probe) time.Duration {
	if p.every > 0 {
		return p.every
	}
	return readyEvery
}

func (r *readiness) ask(ctx context.Context, p probe) {
	c, cancel := context.WithTimeout(ctx, readyTimeout)
	err := p.check(c)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: keep the last answer
	}
	r.set(p.name, err)
}

func (r *readiness) set(name string, err error) {
	r.mu.Lock()
	prev, known := r.state[name]
	r.state[name] = err
	r.mu.Unlock()
	switch {
	case err != nil && (prev == nil || !known):
		r.log.Warn("not ready", "dependency", name, "err", err)
	case err == nil && known && prev != nil:
		r.log.Info("ready again", "dependency", name)
	}
}

// err is the last answer of the named probe.
func (r *readiness) err(name string) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	err, ok := r.state[name]
	if !ok {
		return errNotChecked
	}
	return err
}

// Down reports PostgreSQL as known to be down, for the bot: nothing of value
// can be read or changed then. Before the first answer it is not "down".
func (r *readiness) Down() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	err, ok := r.state["postgres"]
	return ok && err != nil
}

// errSchemaBehind: the database's schema is older than the binary.
var errSchemaBehind = errors.New("the schema is behind this binary: run socialwallet migrate")

// SessionsDown reports Redis as known to be down, for the bot.
func (r *readiness) SessionsDown() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	err, ok := r.state["redis"]
	return ok && err != nil
}

// ServeHTTP is /readyz: 200 when every probe last answered, else 503, with
// each dependency's state as JSON. The address may be public (the webhook's),
// so a failure shows as "down": its details are in the log.
func (r *readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	body := map[string]string{}
	ready := true
	for _, p := range r.probes {
		switch err := r.err(p.name); {
		case err == nil:
			body[p.name] = "ok"
		case errors.Is(err, errSchemaBehind), errors.Is(err, errNotChecked):
			ready = false
			body[p.name] = err.Error()
		default:
			ready = false
			body[p.name] = "down"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}
