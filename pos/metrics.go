package pos

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count what the API answered; RegisterMetrics exports them.
type metrics struct {
	redemptions *prometheus.CounterVec
	voids       *prometheus.CounterVec
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

func newMetrics() *metrics {
	return &metrics{
		redemptions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "pos", Name: "redemptions_total",
			Help: "Purchase requests (POST /v1/redemptions) by outcome: created, replayed (the same Idempotency-Key again), or the problem code (token_used, insufficient_funds, …)."},
			[]string{"outcome"}),
		voids: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "pos", Name: "voids_total",
			Help: "Void requests by outcome: voided or the problem code."},
			[]string{"outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "pos", Name: "requests_total",
			Help: "Cashier API requests by route and HTTP status."},
			[]string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "socialwallet", Subsystem: "pos", Name: "request_duration_seconds",
			Help:    "Cashier API latency by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15}},
			[]string{"route"}),
	}
}

// RegisterMetrics exports the API's counters on reg.
func (s *Server) RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{s.metrics.redemptions, s.metrics.voids, s.metrics.requests, s.metrics.duration} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) observe(r *http.Request, rec *recorder, d time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
	outcome := rec.code
	switch route {
	case "POST /v1/redemptions":
		if rec.status == http.StatusCreated {
			outcome = "created"
			if rec.Header().Get("Idempotent-Replayed") == "true" {
				outcome = "replayed"
			}
		}
		m.redemptions.WithLabelValues(orError(outcome)).Inc()
	case "POST /v1/redemptions/{id}/void":
		if rec.status == http.StatusOK {
			outcome = "voided"
		}
		m.voids.WithLabelValues(orError(outcome)).Inc()
	}
}

func orError(s string) string {
	if s == "" {
		return "error"
	}
	return s
}
