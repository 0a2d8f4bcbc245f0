package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialwallet/wallet"
)

// Gauges read from the database when Prometheus scrapes, so they never drift
// from the ledger: vouchers by state for the current period, and River's job
// queue by state. A scrape within ttl of the last one reuses its answer, so
// several scrapers (or a dashboard refreshing) cost one pair of queries.
type gauges struct {
	s       *Store
	current func() wallet.Period
	ttl     time.Duration

	vouchers, amount, queue *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

// Collector exports the database's gauges; current says which period is
// "current" (the service clock's). ttl bounds how stale an answer may be.
func (s *Store) Collector(current func() wallet.Period, ttl time.Duration) prometheus.Collector {
	return &gauges{
		s: s, current: current, ttl: ttl,
		vouchers: prometheus.NewDesc("socialwallet_vouchers", "Vouchers of the current period by state (issued, activated, spent, annulled, expired).",
			[]string{"period", "state"}, nil),
		amount: prometheus.NewDesc("socialwallet_vouchers_amount_tiyn", "Face value of the current period's vouchers by state, in tiyn.",
			[]string{"period", "state"}, nil),
		queue: prometheus.NewDesc("socialwallet_job_queue_jobs", "River jobs by queue and state: available, scheduled and retryable are the queue's depth; discarded jobs failed for good (kept 7 days).",
			[]string{"queue", "state"}, nil),
	}
}

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.vouchers
	ch <- g.amount
	ch <- g.queue
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cached == nil || time.Since(g.at) >= g.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		ms, err := g.read(ctx)
		cancel()
		if err != nil {
			// The rest of /metrics is still served; these series are
			// missing from this scrape and the error is shown in their place.
			ch <- prometheus.NewInvalidMetric(g.vouchers, err)
			return
		}
		g.cached, g.at = ms, time.Now()
	}
	for _, m := range g.cached {
		ch <- m
	}
}

var voucherStates = []string{"issued", "activated", "spent", "annulled", "expired"}

func (g *gauges) read(ctx context.Context) ([]prometheus.Metric, error) {
	p := g.current()
	// Every state is reported, zero or not, so a graph shows a state that
	// empties rather than a series that vanishes.
	rows, err := g.s.pool.Query(ctx, `
		SELECT s.state, count(v.id), coalesce(sum(v.amount), 0)
		FROM unnest($2::text[]) AS s(state)
		LEFT JOIN vouchers v ON v.`+idsOf("$1")+` AND v.state = s.state
		GROUP BY s.state`, p.FirstDay(), voucherStates)
	if err != nil {
		return nil, fmt.Errorf("postgres: vouchers by state: %w", err)
	}
	var out []prometheus.Metric
	for rows.Next() {
		var state string
		var n, amount int64
		if err := rows.Scan(&state, &n, &amount); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: vouchers by state: %w", err)
		}
		out = append(out,
			prometheus.MustNewConstMetric(g.vouchers, prometheus.GaugeValue, float64(n), p.String(), state),
			prometheus.MustNewConstMetric(g.amount, prometheus.GaugeValue, float64(amount), p.String(), state))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: vouchers by state: %w", err)
	}
	rows, err = g.s.pool.Query(ctx, `
		WITH states (state) AS (
			SELECT unnest('{available,scheduled,retryable,running,discarded}'::river_job_state[])),
		queues (name) AS (
			SELECT name FROM river_queue
			UNION SELECT DISTINCT queue FROM river_job WHERE state IN (SELECT state FROM states))
		SELECT q.name, s.state::text, count(j.id)
		FROM queues q CROSS JOIN states s
		LEFT JOIN river_job j ON j.queue = q.name AND j.state = s.state
		GROUP BY q.name, s.state`)
	if err != nil {
		return nil, fmt.Errorf("postgres: job queue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var queue, state string
		var n int64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			return nil, fmt.Errorf("postgres: job queue: %w", err)
		}
		out = append(out, prometheus.MustNewConstMetric(g.queue, prometheus.GaugeValue, float64(n), queue, state))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: job queue: %w", err)
	}
	return out, nil
}
