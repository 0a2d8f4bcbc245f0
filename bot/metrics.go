package bot

import (
	"errors"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the bot's Prometheus series. One set serves a process: the
// conversation and the notification sender share the Telegram counters
// (pass ObserveAPI as each API's Observe hook).
type Metrics struct {
	updates  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	calls    *prometheus.CounterVec
	callTime *prometheus.HistogramVec
}

// Update outcomes, the label of socialwallet_bot_updates_total.
const (
	outcomeOK          = "ok"          // answered as the flow meant
	outcomeRefused     = "refused"     // a coded wallet error answered in the user's words
	outcomeUnavailable = "unavailable" // storage failed or is down: "temporarily unavailable"
	outcomeSendFailed  = "send_failed" // an answer could not be delivered
	outcomeDuplicate   = "duplicate"   // a redelivered update, claimed before
	outcomeIgnored     = "ignored"     // not a person in a private chat
	outcomePanic       = "panic"
)

// NewMetrics registers the bot's series on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "bot", Name: "updates_total",
			Help: "Telegram updates handled, by kind (command, text, contact, location, button, other) and outcome (ok, refused, unavailable, send_failed, duplicate, ignored, panic)."},
			[]string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "socialwallet", Subsystem: "bot", Name: "update_duration_seconds",
			Help:    "Time to handle one update, from claim to the last answer, by kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}},
			[]string{"kind"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "socialwallet", Subsystem: "telegram", Name: "requests_total",
			Help: "Bot API calls by method and result code (200, 400, 403, 429, 5xx; 0 for a transport failure or timeout)."},
			[]string{"method", "code"}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "socialwallet", Subsystem: "telegram", Name: "request_duration_seconds",
			Help:    "Bot API call latency by method (getUpdates includes its long poll).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15, 60}},
			[]string{"method"}),
	}
	for _, c := range []prometheus.Collector{m.updates, m.duration, m.calls, m.callTime} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("bot: metrics registered twice on one registry")
			}
			return nil, err
		}
	}
	return m, nil
}

// ObserveAPI is an API's Observe hook.
func (m *Metrics) ObserveAPI(method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(method, strconv.Itoa(code)).Inc()
	m.callTime.WithLabelValues(method).Observe(d.Seconds())
}

func (m *Metrics) update(kind, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.updates.WithLabelValues(kind, outcome).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}

// updateKind names what an update is, for metrics and the log: never its
// content.
func updateKind(u tgbotapi.Update) string {
	switch m := u.Message; {
	case u.CallbackQuery != nil:
		return "button"
	case m == nil:
		return "other"
	case m.Contact != nil:
		return "contact"
	case m.Location != nil:
		return "location"
	case m.IsCommand():
		return "command"
	case m.Text != "":
		return "text"
	}
	return "other"
}
