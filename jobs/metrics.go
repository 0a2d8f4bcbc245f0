package jobs

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialwallet/wallet"
)

// metrics export the wave plans (so an operator sees a wave that had to start
// early or cannot finish) and what became of each send.
type metrics struct {
	recipients *prometheus.GaugeVec
	nominal    *prometheus.GaugeVec
	start      *prometheus.GaugeVec
	finish     *prometheus.GaugeVec
	early      *prometheus.GaugeVec
	late       *prometheus.GaugeVec
	sends      *prometheus.CounterVec
	pauses     prometheus.Counter
	wait       prometheus.Histogram
	runs       *prometheus.CounterVec
	runTime    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	wave := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "socialwallet", Subsystem: "wave", Name: name, Help: help},
			[]string{"period", "step"})
	}
	m := &metrics{
		recipients: wave("recipients", "Members a notice wave tells."),
		nominal:    wave("nominal_start_timestamp_seconds", "When the schedule says the wave starts."),
		start:      wave("planned_start_timestamp_seconds", "When the wave starts under the send limiter."),
		finish:     wave("planned_finish_timestamp_seconds", "When the wave's last message is due."),
		early:      wave("early_start_seconds", "How much earlier than scheduled the wave starts to finish in time."),
		late:       wave("late", "1 when the wave cannot finish by its end even starting at the earliest."),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "notify", Name: "sends_total",
			Help: "Notification sends by kind and result (sent, blocked, skipped, failed, throttled, retried)."}, []string{"kind", "result"}),
		pauses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "notify", Name: "pauses_total",
			Help: "429 answers that paused every replica's sending."}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "socialwallet", Subsystem: "notify", Name: "limiter_wait_seconds",
			Help:    "How long a send waited for the shared limiter (the global rate, one a second per chat, 429 pauses).",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2, 5, 10, 30}}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "jobs", Name: "runs_total",
			Help: "Job attempts by kind and outcome (ok, snoozed, failed, cancelled); failed attempts are retried until their last."},
			[]string{"kind", "outcome"}),
		runTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "socialwallet", Subsystem: "jobs", Name: "run_duration_seconds",
			Help:    "Duration of one job attempt by kind.",
			Buckets: []float64{.005, .01, .05, .1, .5, 1, 5, 15, 30, 60, 240}},
			[]string{"kind"}),
	}
	var err error
	reg1 := func(g **prometheus.GaugeVec) {
		if err == nil {
			*g, err = register(reg, *g)
		}
	}
	for _, g := range []**prometheus.GaugeVec{&m.recipients, &m.nominal, &m.start, &m.finish, &m.early, &m.late} {
		reg1(g)
	}
	if err == nil {
		m.sends, err = register(reg, m.sends)
	}
	if err == nil {
		m.pauses, err = register(reg, m.pauses)
	}
	if err == nil {
		m.wait, err = register(reg, m.wait)
	}
	if err == nil {
		m.runs, err = register(reg, m.runs)
	}
	if err == nil {
		m.runTime, err = register(reg, m.runTime)
	}
	return m, err
}

// register adds c to reg, or returns the collector already there (several
// job clients in one process share the counters).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) plan(p wallet.Period, step string, w wallet.WavePlan) {
	l := prometheus.Labels{"period": p.String(), "step": step}
	unix := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	}
	m.recipients.With(l).Set(float64(w.Recipients))
	m.nominal.With(l).Set(unix(w.Nominal))
	m.start.With(l).Set(unix(w.Start))
	m.finish.With(l).Set(unix(w.Finish))
	early := 0.0
	if w.Early {
		early = w.Nominal.Sub(w.Start).Seconds()
	}
	m.early.With(l).Set(early)
	late := 0.0
	if w.Late {
		late = 1
	}
	m.late.With(l).Set(late)
}

func (m *metrics) send(k wallet.NoticeKind, result string) {
	m.sends.WithLabelValues(string(k), result).Inc()
}
