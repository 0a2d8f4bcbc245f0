package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// jobLog is River middleware: each attempt of each job ends in one log line
// and the metrics, with its kind, duration and outcome. Job arguments are
// ids, never a person's data, and are not logged.
type jobLog struct {
	river.MiddlewareDefaults
	j *Jobs
}

var _ rivertype.WorkerMiddleware = (*jobLog)(nil)

func (m *jobLog) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	err := doInner(ctx)
	d := time.Since(start)
	outcome := "ok"
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	switch {
	case err == nil:
	case errors.As(err, &snooze):
		outcome = "snoozed"
	case errors.As(err, &cancel):
		outcome = "cancelled"
	default:
		outcome = "failed"
	}
	m.j.metrics.runs.WithLabelValues(job.Kind, outcome).Inc()
	m.j.metrics.runTime.WithLabelValues(job.Kind).Observe(d.Seconds())
	attrs := []any{"job", job.ID, "kind", job.Kind, "attempt", job.Attempt, "outcome", outcome, "ms", float64(d.Microseconds()) / 1000}
	if outcome == "failed" {
		m.j.log.Warn("job", append(attrs, "err", err)...)
	} else {
		m.j.log.Info("job", attrs...)
	}
	return err
}
