package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"socialwallet/wallet"
)

// SendArgs is the job that delivers one notification.
type SendArgs struct {
	NotificationID int64  `json:"notification_id"`
	NoticeKind     string `json:"notice_kind"` // for operators reading river_job; the row is the truth
}

// Kind names the job in River's table.
func (SendArgs) Kind() string { return "sw_notice" }

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	j *Jobs
}

// quietWaitInPlace is the longest end of quiet hours a send waits for in
// place rather than giving its job back to River.
const quietWaitInPlace = 3 * time.Second

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

// throttleRetries is how many 429s one attempt waits out (each pausing every
// replica) before it gives the job back to River.
const throttleRetries = 5

// Work delivers the notification and records the outcome in the transaction
// that completes the job: sent, skipped (no longer applies), blocked (403: the
// link is marked and nothing more goes to it) or failed. Temporary failures
// (5xx, timeouts) return an error and River retries with backoff (NextRetry).
//
// Exactly once holds except in one window: Telegram has delivered the message
// but the process dies, or the answer is lost to a timeout, before the
// transaction commits. The job is then run again and the person gets the
// message twice. README.md, "Jobs and notifications", says so.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	j := w.j
	id := job.Args.NotificationID
	now := j.clock.Now()
	n, st, err := j.cfg.Store.LoadNotice(ctx, id, j.prog, now)
	if err != nil {
		if wallet.IsCode(err, wallet.CodeNotFound) {
			return river.JobCancel(err)
		}
		return err
	}
	finish := func(out wallet.NoticeOutcome, result string) error {
		out.At = j.clock.Now()
		err := j.cfg.Store.FinishNotice(ctx, id, out, func(ctx context.Context, tx pgx.Tx) error {
			_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
			return err
		})
		if err != nil {
			return err
		}
		j.metrics.send(n.Kind, result)
		return nil
	}
	switch {
	case st.Sent || st.Failed:
		return nil // finished by an earlier run of this job
	case !st.Linked:
		return finish(wallet.NoticeOutcome{Skipped: true, Reason: "member not linked"}, "skipped")
	case st.Blocked:
		return finish(wallet.NoticeOutcome{Skipped: true, Reason: "bot blocked by the member"}, "skipped")
	}
	if why := obsolete(n, now); why != "" {
		return finish(wallet.NoticeOutcome{Skipped: true, Reason: why}, "skipped")
	}
	if n.Kind.Scheduled() && j.prog.InQuietHours(now) {
		// Waves are planned outside quiet hours; this guards a clock that
		// jumped, a send that slipped past 21:00, and the first slots of a
		// morning released a moment before 09:00.
		wait := j.prog.QuietEnd(now).Sub(now)
		if wait > quietWaitInPlace {
			return river.JobSnooze(wait)
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
	for try := 0; ; try++ {
		t0 := time.Now()
		if err := j.cfg.Limiter.Wait(ctx, n.ChatID); err != nil {
			return err
		}
		j.metrics.wait.Observe(time.Since(t0).Seconds())
		err := j.cfg.Sender.Send(ctx, n)
		if err == nil {
			return finish(wallet.NoticeOutcome{Sent: true}, "sent")
		}
		var de *wallet.DeliveryError
		if !errors.As(err, &de) {
			de = &wallet.DeliveryError{Failure: wallet.DeliveryTemporary, Err: err}
		}
		switch de.Failure {
		case wallet.DeliveryThrottled:
			j.metrics.send(n.Kind, "throttled")
			j.metrics.pauses.Inc()
			j.log.Warn("telegram asked to slow down; pausing every sender", "retry_after", de.RetryAfter.String())
			if err := j.cfg.Limiter.Pause(ctx, de.RetryAfter); err != nil {
				return err
			}
			if try < throttleRetries {
				continue
			}
			return err
		case wallet.DeliveryBlocked:
			return finish(wallet.NoticeOutcome{Blocked: true, ChatID: n.ChatID, Reason: "bot blocked by the member"}, "blocked")
		case wallet.DeliveryRejected:
			j.log.Error("notification rejected", "notification", id, "kind", string(n.Kind), "err", err)
			return finish(wallet.NoticeOutcome{Reason: "rejected: " + errText(de)}, "failed")
		}
		if job.Attempt >= job.MaxAttempts {
			j.log.Error("notification given up", "notification", id, "kind", string(n.Kind), "attempts", job.Attempt, "err", err)
			return finish(wallet.NoticeOutcome{Reason: fmt.Sprintf("gave up after %d attempts: %s", job.Attempt, errText(de))}, "failed")
		}
		j.metrics.send(n.Kind, "retried")
		return err
	}
}

// errText is a delivery error's text for the record: the class and
// Telegram's code, never the message.
func errText(de *wallet.DeliveryError) string {
	s := de.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// obsolete says why a notice no longer applies when its job runs, or "".
func obsolete(n wallet.Notice, now time.Time) string {
	switch n.Kind {
	case wallet.NoticeReminder:
		if !now.Before(n.Deadline) {
			return "deadline passed"
		}
		if n.Total() == 0 {
			return "nothing left to activate"
		}
	case wallet.NoticeIssued:
		if !now.Before(n.Deadline) {
			return "deadline passed"
		}
		if n.Total() == 0 {
			return "no vouchers"
		}
	case wallet.NoticeAnnulled, wallet.NoticeExpired:
		if n.Total() == 0 {
			return "nothing lapsed"
		}
	}
	return ""
}

// NextRetry backs off 1 s, 2 s, 4 s … up to 10 minutes, with jitter so that
// sends failed by one Telegram outage do not all return at once. River
// schedules in real time, whatever the service clock says.
func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(backoff(job.Attempt))
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 10)
	d = min(d, 10*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d/5)+1))
}
