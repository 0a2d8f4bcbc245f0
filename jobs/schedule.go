package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"socialwallet/wallet"
)

// Tick does whatever the schedule says is due by the clock and is not done
// yet: issue a period at 00:05 on its first day (or on start-up for a period
// not yet issued), write its issue notices, write each reminder wave when its
// plan says it starts, annul at the deadline and tell who lost what, expire
// activated value when the programme says. Every step is recorded in the same
// transaction as its notifications, so ticks in several processes, repeated
// ticks and a clock that jumps all come to the same: each step once.
func (j *Jobs) Tick(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.clock.Now()
	list, err := j.cfg.Store.ScheduleSteps(ctx)
	if err != nil {
		return fmt.Errorf("jobs: tick: %w", err)
	}
	steps := map[stepKey]wallet.ScheduleStep{}
	for _, s := range list {
		steps[stepKey{s.Period, s.Step}] = s
	}
	var errs []error
	periods := j.prog.Periods()
	for _, p := range periods {
		if now.Before(j.prog.IssueAt(p)) {
			break
		}
		if err := j.issue(ctx, p, now, steps); err != nil {
			errs = append(errs, err)
			continue // nothing else of p makes sense before it is issued
		}
		errs = append(errs, j.remind(ctx, p, now, steps))
		if err := j.annul(ctx, p, now, steps); err != nil {
			errs = append(errs, err)
			continue
		}
		if j.prog.FundsExpire == wallet.ExpireAtPeriodEnd {
			errs = append(errs, j.expire(ctx, p, j.prog.Deadline(p), now, steps))
		}
	}
	if j.prog.FundsExpire == wallet.ExpireAtProgramEnd && len(periods) > 0 {
		errs = append(errs, j.expire(ctx, periods[len(periods)-1], j.prog.End, now, steps))
	}
	return errors.Join(errs...)
}

type stepKey struct {
	p    wallet.Period
	step string
}

func (j *Jobs) done(steps map[stepKey]wallet.ScheduleStep, p wallet.Period, step string) bool {
	return steps[stepKey{p, step}].Done()
}

// skip records a step that will not happen, and why.
func (j *Jobs) skip(ctx context.Context, p wallet.Period, step string, now time.Time, note string) error {
	j.log.Warn("schedule step skipped", "period", p.String(), "step", step, "why", note)
	return j.cfg.Store.SaveStep(ctx, wallet.ScheduleStep{Period: p, Step: step, PlannedAt: now, DoneAt: now, Note: note})
}

// wave writes a notice wave and records its step; the plan is made by the
// store for the audience's exact size at the moment of writing.
func (j *Jobs) wave(ctx context.Context, w wallet.NoticeWave, plan func(n int) wallet.WavePlan) error {
	w.EligibilityDay = j.prog.EligibilityDay(w.Period)
	w.ApplicantMinors = j.prog.ApplicantMinors
	w.Plan = plan
	p, wrote, err := j.cfg.Store.QueueNotices(ctx, w)
	if err != nil {
		return fmt.Errorf("jobs: %s %s: %w", w.Step, w.Period, err)
	}
	if p.Recipients > 0 || wrote > 0 {
		j.logPlan(w.Period, w.Step, p, wrote)
		j.poke()
	}
	return nil
}

func (j *Jobs) logPlan(p wallet.Period, step string, plan wallet.WavePlan, wrote int64) {
	lvl := "info"
	if plan.Late {
		lvl = "warn"
	}
	args := []any{"period", p.String(), "step", step, "recipients", plan.Recipients, "written", wrote,
		"rate", plan.Rate, "nominal", plan.Nominal, "start", plan.Start, "finish", plan.Finish,
		"early", plan.Early, "late", plan.Late}
	if lvl == "warn" {
		j.log.Warn("wave cannot finish in time", args...)
	} else {
		j.log.Info("wave planned", args...)
	}
	j.metrics.plan(p, step, plan)
}

func (j *Jobs) issue(ctx context.Context, p wallet.Period, now time.Time, steps map[stepKey]wallet.ScheduleStep) error {
	if j.done(steps, p, "issue") {
		return nil
	}
	if !now.Before(j.prog.Deadline(p)) {
		return j.skip(ctx, p, "issue", now, "the period had ended when the schedule reached it")
	}
	n, err := j.cfg.Wallet.Issue(ctx, p)
	if err != nil {
		return fmt.Errorf("jobs: issue %s: %w", p, err)
	}
	j.log.Info("period issued", "period", p.String(), "vouchers", n)
	return j.wave(ctx, wallet.NoticeWave{Kind: wallet.NoticeIssued, Period: p, Step: "issue", Now: now},
		func(k int) wallet.WavePlan { return j.prog.PlanWave(k, j.cfg.PlanRate, now, now, time.Time{}) })
}

// remind writes each reminder wave of p once its plan says it starts: at the
// programme's hour on its day, or earlier when the wave is too large for the
// sending time left that day. A wave whose successor is already due is
// skipped rather than sent late ("7 days left" on the third day before).
func (j *Jobs) remind(ctx context.Context, p wallet.Period, now time.Time, steps map[stepKey]wallet.ScheduleStep) error {
	deadline := j.prog.Deadline(p)
	sched := j.prog.ReminderSchedule(p)
	var errs []error
	for i, days := range sched {
		step := wallet.ReminderStep(days)
		if j.done(steps, p, step) {
			continue
		}
		nominal := j.prog.ReminderAt(p, days)
		if !now.Before(deadline) {
			errs = append(errs, j.skip(ctx, p, step, now, "the deadline passed before the wave was due"))
			continue
		}
		if i+1 < len(sched) && !now.Before(j.prog.ReminderAt(p, sched[i+1])) {
			errs = append(errs, j.skip(ctx, p, step, now, "superseded by "+wallet.ReminderStep(sched[i+1])))
			continue
		}
		end := j.prog.NextQuiet(nominal)
		if end.IsZero() || end.After(deadline) {
			end = deadline
		}
		if now.Before(nominal) {
			start, err := j.plannedStart(ctx, p, days, step, nominal, end, now, steps)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if now.Before(start) {
				continue
			}
		}
		w := wallet.NoticeWave{Kind: wallet.NoticeReminder, Period: p, DaysBefore: days, Step: step, Now: now}
		errs = append(errs, j.wave(ctx, w, func(k int) wallet.WavePlan {
			return j.prog.PlanWave(k, j.cfg.PlanRate, now, nominal, end)
		}))
	}
	return errors.Join(errs...)
}

// plannedStart is when the reminder wave must start: its nominal instant
// unless the audience is too large for the time left, counted at most hourly
// within PlanHorizon of the nominal start and kept in job_steps.
func (j *Jobs) plannedStart(ctx context.Context, p wallet.Period, days int, step string, nominal, end, now time.Time,
	steps map[stepKey]wallet.ScheduleStep) (time.Time, error) {
	if now.Before(nominal.Add(-j.cfg.PlanHorizon)) {
		return nominal, nil
	}
	if st, ok := steps[stepKey{p, step}]; ok && !st.PlannedAt.IsZero() && now.Sub(st.PlannedAt) < time.Hour && !now.Before(st.PlannedAt) {
		return st.Plan.Start, nil
	}
	w := wallet.NoticeWave{Kind: wallet.NoticeReminder, Period: p, DaysBefore: days, Step: step, Now: now,
		EligibilityDay: j.prog.EligibilityDay(p), ApplicantMinors: j.prog.ApplicantMinors}
	n, err := j.cfg.Store.CountAudience(ctx, w)
	if err != nil {
		return nominal, fmt.Errorf("jobs: plan %s %s: %w", step, p, err)
	}
	plan := j.prog.PlanWave(n, j.cfg.PlanRate, j.prog.IssueAt(p), nominal, end)
	if plan.Early || plan.Late {
		j.logPlan(p, step, plan, 0)
	}
	j.metrics.plan(p, step, plan)
	if err := j.cfg.Store.SaveStep(ctx, wallet.ScheduleStep{Period: p, Step: step, Plan: plan, PlannedAt: now}); err != nil {
		return nominal, err
	}
	return plan.Start, nil
}

func (j *Jobs) annul(ctx context.Context, p wallet.Period, now time.Time, steps map[stepKey]wallet.ScheduleStep) error {
	if j.done(steps, p, "annul") || now.Before(j.prog.Deadline(p)) {
		return nil
	}
	n, err := j.cfg.Wallet.Annul(ctx, p)
	if err != nil {
		return fmt.Errorf("jobs: annul %s: %w", p, err)
	}
	j.log.Info("period annulled", "period", p.String(), "vouchers", n)
	return j.wave(ctx, wallet.NoticeWave{Kind: wallet.NoticeAnnulled, Period: p, Step: "annul", Now: now},
		func(k int) wallet.WavePlan { return j.prog.PlanWave(k, j.cfg.PlanRate, now, now, time.Time{}) })
}

// expire lapses activated value at the instant the programme says (each
// period's deadline, or the programme's end) and tells the members whose
// value lapsed; the notice is filed under period p.
func (j *Jobs) expire(ctx context.Context, p wallet.Period, at, now time.Time, steps map[stepKey]wallet.ScheduleStep) error {
	if j.done(steps, p, "expire") || now.Before(at) {
		return nil
	}
	n, lapsed, err := j.cfg.Wallet.ExpireFunds(ctx)
	if err != nil {
		return fmt.Errorf("jobs: expire %s: %w", p, err)
	}
	j.log.Info("activated value expired", "period", p.String(), "vouchers", n, "tiyn", int64(lapsed))
	return j.wave(ctx, wallet.NoticeWave{Kind: wallet.NoticeExpired, Period: p, Step: "expire", ExpiresAt: at, Now: now},
		func(k int) wallet.WavePlan { return j.prog.PlanWave(k, j.cfg.PlanRate, now, now, time.Time{}) })
}
