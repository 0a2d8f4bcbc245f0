package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

// The jobs' side of the store: the schedule's steps, the notifications written
// set-based for a wave, the dispatcher's claim of due rows and the record of
// how each message ended. The jobs package declares the interface; these are
// its methods.

// ScheduleSteps lists every step planned or done.
func (s *Store) ScheduleSteps(ctx context.Context) ([]wallet.ScheduleStep, error) {
	rows, err := s.pool.Query(ctx, `SELECT period, step, recipients, nominal_start, planned_start, planned_finish,
		early, late, planned_at, done_at, coalesce(note, '') FROM job_steps ORDER BY period, step`)
	if err != nil {
		return nil, fmt.Errorf("postgres: schedule steps: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.ScheduleStep, error) {
		var st wallet.ScheduleStep
		var period time.Time
		var nominal, start, finish, planned, done *time.Time
		err := r.Scan(&period, &st.Step, &st.Plan.Recipients, &nominal, &start, &finish, &st.Plan.Early, &st.Plan.Late,
			&planned, &done, &st.Note)
		st.Period = wallet.PeriodOfDate(period)
		st.Plan.Nominal, st.Plan.Start, st.Plan.Finish = tv(nominal), tv(start), tv(finish)
		st.PlannedAt, st.DoneAt = tv(planned), tv(done)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: schedule steps: %w", err)
	}
	return out, nil
}

const upsertStep = `INSERT INTO job_steps AS j (period, step, recipients, nominal_start, planned_start, planned_finish,
		early, late, planned_at, done_at, note)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''))
	ON CONFLICT (period, step) DO UPDATE SET recipients = EXCLUDED.recipients, nominal_start = EXCLUDED.nominal_start,
		planned_start = EXCLUDED.planned_start, planned_finish = EXCLUDED.planned_finish, early = EXCLUDED.early,
		late = EXCLUDED.late, planned_at = EXCLUDED.planned_at, done_at = EXCLUDED.done_at, note = EXCLUDED.note
	WHERE j.done_at IS NULL`

func stepArgs(st wallet.ScheduleStep) []any {
	return []any{st.Period.FirstDay(), st.Step, st.Plan.Recipients, nullTime(st.Plan.Nominal), nullTime(st.Plan.Start),
		nullTime(st.Plan.Finish), st.Plan.Early, st.Plan.Late, nullTime(st.PlannedAt), nullTime(st.DoneAt), st.Note}
}

// SaveStep records a step's plan, or marks it done when st.DoneAt is set. A
// step once done stays as it was: the first to finish it wins.
func (s *Store) SaveStep(ctx context.Context, st wallet.ScheduleStep) error {
	if _, err := s.pool.Exec(ctx, upsertStep, stepArgs(st)...); err != nil {
		return fmt.Errorf("postgres: save step %s %s: %w", st.Period, st.Step, err)
	}
	return nil
}

// audienceSQL selects, into the temporary table audience(member_id), the
// members a wave tells: linked to Telegram, not blocked, covering (their own;
// the applicant also minors') a voucher in the state the kind is about. It
// mirrors wallet.Program.Audience; a test holds the two together. The two
// halves (own vouchers; the applicant's minors') each join on an index
// (vouchers by their key, made of month and member; members by family), so the
// plan stays linear even before the tables have statistics.
func audienceSQL(kind wallet.NoticeKind) (string, error) {
	months, cond, actor := `vp.period = @period`, `true`, ``
	switch kind {
	case wallet.NoticeIssued:
	case wallet.NoticeReminder:
		cond = `v.state = 'issued'`
		actor = ` AND date_part('year', age(@elig::date, a.birth_date)) >= 18`
	case wallet.NoticeAnnulled:
		cond = `v.state = 'annulled'`
	case wallet.NoticeExpired:
		months = `true`
		cond = `v.expires_at = @expires AND v.state = 'expired'
			AND EXISTS (SELECT 1 FROM ledger x WHERE x.voucher_id = v.id AND x.kind = 'expiry')`
	default:
		return "", fmt.Errorf("no wave of %q notices", kind)
	}
	return `CREATE TEMP TABLE audience ON COMMIT DROP AS
		SELECT l.member_id
		FROM telegram_links l
		JOIN members a ON a.id = l.member_id
		JOIN periods vp ON ` + months + `
		JOIN vouchers v ON v.id = voucher_id(vp.period, a.id) AND ` + cond + `
		WHERE l.blocked_at IS NULL` + actor + `
		UNION
		SELECT l.member_id
		FROM telegram_links l
		JOIN members a ON a.id = l.member_id AND a.role = 'applicant'
		JOIN members t ON t.family_id = a.family_id AND t.id <> a.id
			AND date_part('year', age(@elig::date, t.birth_date)) < 18
		JOIN periods vp ON ` + months + `
		JOIN vouchers v ON v.id = voucher_id(vp.period, t.id) AND ` + cond + `
		WHERE l.blocked_at IS NULL AND @minors` + actor, nil
}

func audienceArgs(w wallet.NoticeWave) pgx.NamedArgs {
	return pgx.NamedArgs{"elig": w.EligibilityDay, "minors": w.ApplicantMinors, "period": w.Period.FirstDay(),
		"expires": nullTime(w.ExpiresAt)}
}

// createAudience fills the audience table inside tx.
func createAudience(ctx context.Context, tx pgx.Tx, w wallet.NoticeWave) (int, error) {
	q, err := audienceSQL(w.Kind)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, q, audienceArgs(w)); err != nil {
		return 0, err
	}
	var n int
	err = tx.QueryRow(ctx, `SELECT count(*) FROM audience`).Scan(&n)
	return n, err
}

// CountAudience counts who a wave would tell now, for planning it ahead.
func (s *Store) CountAudience(ctx context.Context, w wallet.NoticeWave) (int, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadWrite})
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s audience %s: %w", w.Kind, w.Period, err)
	}
	defer tx.Rollback(ctx)
	n, err := createAudience(ctx, tx, w)
	if err != nil {
		return 0, fmt.Errorf("postgres: count %s audience %s: %w", w.Kind, w.Period, err)
	}
	return n, nil
}

// QueueNotices writes the wave's notifications set-based, each at its slot of
// the plan made for the audience's exact size, and marks the wave's step done,
// all in one transaction. A member already told (the unique index) is skipped,
// so a repeated call adds nothing. It returns the plan and how many rows it wrote.
func (s *Store) QueueNotices(ctx context.Context, w wallet.NoticeWave) (wallet.WavePlan, int64, error) {
	fail := func(what string, err error) (wallet.WavePlan, int64, error) {
		return wallet.WavePlan{}, 0, fmt.Errorf("postgres: queue %s notices %s: %s: %w", w.Kind, w.Period, what, err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback(ctx)
	// One wave at a time per step: a second process waits here and then finds
	// the step done.
	var done *time.Time
	err = tx.QueryRow(ctx, `INSERT INTO job_steps (period, step) VALUES ($1, $2)
		ON CONFLICT (period, step) DO UPDATE SET step = EXCLUDED.step RETURNING done_at`, w.Period.FirstDay(), w.Step).Scan(&done)
	if err != nil {
		return fail("lock step", err)
	}
	if done != nil {
		return wallet.WavePlan{}, 0, nil
	}
	n, err := createAudience(ctx, tx, w)
	if err != nil {
		return fail("audience", err)
	}
	plan := w.Plan(n)
	froms := make([]time.Time, len(plan.Windows))
	firsts := make([]int64, len(plan.Windows))
	counts := make([]int64, len(plan.Windows))
	for i, win := range plan.Windows {
		froms[i], firsts[i], counts[i] = win.From, int64(win.First), int64(win.Count)
	}
	const insert = `INSERT INTO notifications (member_id, kind, period, days_before, created_at, not_before)
		SELECT r.member_id, $1, $2, $3, $4, w.from_at + (r.rn - w.first) * $8::bigint * interval '1 microsecond'
		FROM (SELECT member_id, row_number() OVER (ORDER BY member_id) - 1 AS rn FROM audience) r
		JOIN unnest($5::timestamptz[], $6::bigint[], $7::bigint[]) AS w(from_at, first, cnt)
		  ON r.rn >= w.first AND r.rn < w.first + w.cnt
		ON CONFLICT DO NOTHING`
	var days *int
	if w.Kind == wallet.NoticeReminder {
		days = &w.DaysBefore
	}
	tag, err := tx.Exec(ctx, insert, string(w.Kind), w.Period.FirstDay(), days, w.Now, froms, firsts, counts,
		plan.Interval().Microseconds())
	if err != nil {
		return fail("insert", err)
	}
	st := wallet.ScheduleStep{Period: w.Period, Step: w.Step, Plan: plan, PlannedAt: w.Now, DoneAt: w.Now}
	if _, err := tx.Exec(ctx, upsertStep, stepArgs(st)...); err != nil {
		return fail("mark step", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail("commit", err)
	}
	return plan, tag.RowsAffected(), nil
}

// DispatchNotices claims up to limit notifications without a slot and up to
// limit whose slot has come, marks them queued and hands them to enqueue inside
// the same transaction, so a row becomes exactly one job: if enqueue or the
// commit fails, nothing is marked. Concurrent dispatchers skip each other's rows.
func (s *Store) DispatchNotices(ctx context.Context, now time.Time, limit int,
	enqueue func(ctx context.Context, tx pgx.Tx, claimed []wallet.Notice) error) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: dispatch notices: %w", err)
	}
	defer tx.Rollback(ctx)
	// Slotless rows (receipts) and rows whose slot has come, each through its
	// own partial index, locked as they are read; at most limit of each.
	const claim = `WITH now_rows AS (
			SELECT id FROM notifications WHERE queued_at IS NULL AND not_before IS NULL
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
		), due_rows AS (
			SELECT id FROM notifications WHERE queued_at IS NULL AND not_before <= $1
			ORDER BY not_before, id LIMIT $2 FOR UPDATE SKIP LOCKED
		)
		UPDATE notifications n SET queued_at = $1
		FROM (SELECT id FROM now_rows UNION ALL SELECT id FROM due_rows) c WHERE n.id = c.id
		RETURNING n.id, n.kind, n.member_id, n.period, coalesce(n.days_before, 0), coalesce(n.ref_id, 0)`
	rows, err := tx.Query(ctx, claim, now, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: dispatch notices: claim: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Notice, error) {
		var n wallet.Notice
		var period *time.Time
		err := r.Scan(&n.ID, &n.Kind, &n.MemberID, &period, &n.DaysBefore, &n.RefID)
		if period != nil {
			n.Period = wallet.PeriodOfDate(*period)
		}
		return n, err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: dispatch notices: claim: %w", err)
	}
	if len(claimed) == 0 {
		return 0, nil
	}
	if err := enqueue(ctx, tx, claimed); err != nil {
		return 0, fmt.Errorf("postgres: dispatch notices: enqueue: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: dispatch notices: commit: %w", err)
	}
	return len(claimed), nil
}

// LoadNotice reads notification id as it should be rendered now: where it
// goes, and the figures of the vouchers it is about, read at this moment (a
// reminder names what is still to activate when it is sent).
func (s *Store) LoadNotice(ctx context.Context, id int64, prog *wallet.Program, now time.Time) (wallet.Notice, wallet.NoticeState, error) {
	var n wallet.Notice
	var st wallet.NoticeState
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return n, st, fmt.Errorf("postgres: notice %d: %w", id, err)
	}
	defer tx.Rollback(ctx)
	var period *time.Time
	var chat *int64
	var lang *string
	var blocked *time.Time
	var familyID string
	const head = `SELECT n.kind, n.member_id, n.period, coalesce(n.days_before, 0), coalesce(n.ref_id, 0),
			n.sent_at IS NOT NULL, n.failed_at IS NOT NULL, l.chat_id, l.lang, l.blocked_at, f.city, f.id
		FROM notifications n JOIN members m ON m.id = n.member_id JOIN families f ON f.id = m.family_id
		LEFT JOIN telegram_links l ON l.member_id = n.member_id
		WHERE n.id = $1`
	err = tx.QueryRow(ctx, head, id).Scan(&n.Kind, &n.MemberID, &period, &n.DaysBefore, &n.RefID,
		&st.Sent, &st.Failed, &chat, &lang, &blocked, &n.City, &familyID)
	if err != nil {
		return n, st, notFound(err, "notice %d", id)
	}
	n.ID, n.Now = id, now
	if period != nil {
		n.Period = wallet.PeriodOfDate(*period)
		n.Deadline = prog.Deadline(n.Period)
	}
	if chat != nil {
		st.Linked = true
		n.ChatID, n.Lang = *chat, *lang
		st.Blocked = blocked != nil
	}
	var lines string
	switch n.Kind {
	case wallet.NoticeIssued:
		lines = `SELECT t.id, t.full_name, v.amount FROM members t JOIN vouchers v ON v.id = voucher_id(@period, t.id)
			WHERE t.family_id = @family AND ` + coversSQL
	case wallet.NoticeReminder:
		lines = `SELECT t.id, t.full_name, v.amount FROM members t JOIN vouchers v ON v.id = voucher_id(@period, t.id)
			WHERE t.family_id = @family AND v.state = 'issued'
			AND date_part('year', age(@elig::date, (SELECT birth_date FROM members WHERE id = @member))) >= 18 AND ` + coversSQL
	case wallet.NoticeAnnulled:
		lines = `SELECT t.id, t.full_name, v.amount FROM members t JOIN vouchers v ON v.id = voucher_id(@period, t.id)
			WHERE t.family_id = @family AND v.state = 'annulled' AND ` + coversSQL
	case wallet.NoticeExpired:
		lines = `SELECT t.id, t.full_name, -sum(x.amount)::bigint
			FROM members t JOIN periods vp ON true JOIN vouchers v ON v.id = voucher_id(vp.period, t.id)
			JOIN ledger x ON x.voucher_id = v.id AND x.kind = 'expiry'
			WHERE t.family_id = @family AND v.expires_at = @expires AND v.state = 'expired' AND ` + coversSQL + `
			GROUP BY t.id, t.full_name`
	}
	if lines != "" && period != nil {
		p := n.Period
		expires := prog.ActivatedFundsExpiry(p)
		if n.Kind == wallet.NoticeExpired {
			n.ExpiredAt = expires
		}
		if n.Kind == wallet.NoticeAnnulled {
			if next := p.Next(); prog.CheckPeriod(next) == nil {
				n.NextIssue = prog.IssueAt(next)
			}
		}
		rows, err := tx.Query(ctx, lines, pgx.NamedArgs{"family": familyID, "period": p.FirstDay(), "member": n.MemberID,
			"elig": prog.EligibilityDay(p), "minors": prog.ApplicantMinors, "expires": expires})
		if err != nil {
			return n, st, fmt.Errorf("postgres: notice %d: lines: %w", id, err)
		}
		n.Lines, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.NoticeLine, error) {
			var l wallet.NoticeLine
			var full string
			err := r.Scan(&l.MemberID, &full, &l.Amount)
			l.Name, l.Self = wallet.ShortName(full), l.MemberID == n.MemberID
			return l, err
		})
		if err != nil {
			return n, st, fmt.Errorf("postgres: notice %d: lines: %w", id, err)
		}
		n.SortLines()
	}
	return n, st, nil
}

// coversSQL is wallet.Program.Covers for target t and recipient @member on
// eligibility day @elig (@minors: the applicant activates minors' vouchers).
const coversSQL = `(t.id = @member OR (@minors AND date_part('year', age(@elig::date, t.birth_date)) < 18
	AND EXISTS (SELECT 1 FROM members a WHERE a.id = @member AND a.role = 'applicant' AND a.family_id = t.family_id)))`

// FinishNotice records how notification id ended and, in the same
// transaction, calls complete (the job's completion), so a message is marked
// sent exactly when its job is finished. A 403 marks the member's link to that
// chat blocked. A notification already marked sent stays as it was.
func (s *Store) FinishNotice(ctx context.Context, id int64, out wallet.NoticeOutcome,
	complete func(ctx context.Context, tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: finish notice %d: %w", id, err)
	}
	defer tx.Rollback(ctx)
	var memberID int64
	if out.Sent {
		err = tx.QueryRow(ctx, `UPDATE notifications SET sent_at = coalesce(sent_at, $2), failed_at = NULL, error = NULL
			WHERE id = $1 RETURNING member_id`, id, out.At).Scan(&memberID)
	} else {
		reason := out.Reason
		if out.Skipped {
			reason = "skipped: " + reason
		}
		err = tx.QueryRow(ctx, `UPDATE notifications SET failed_at = CASE WHEN sent_at IS NULL THEN $2::timestamptz END,
			error = CASE WHEN sent_at IS NULL THEN $3::text END WHERE id = $1 RETURNING member_id`, id, out.At, reason).Scan(&memberID)
	}
	if err != nil {
		return notFound(err, "finish notice %d", id)
	}
	if out.Blocked {
		if _, err := tx.Exec(ctx, `UPDATE telegram_links SET blocked_at = $3
			WHERE member_id = $1 AND chat_id = $2 AND blocked_at IS NULL`, memberID, out.ChatID, out.At); err != nil {
			return fmt.Errorf("postgres: finish notice %d: block link: %w", id, err)
		}
	}
	if complete != nil {
		if err := complete(ctx, tx); err != nil {
			return fmt.Errorf("postgres: finish notice %d: complete job: %w", id, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: finish notice %d: commit: %w", id, err)
	}
	return nil
}
