package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// jtEnv is the jobs tests' world: one database, the pilot programme, a frozen
// clock in January 2026.
type jtEnv struct {
	ctx   context.Context
	store *postgres.Store
	svc   *wallet.Service
	clock *clock.Offset
	prog  *wallet.Program
	jan   wallet.Period
}

var jtSecret = []byte("jobs-store-test-secret")

func jtNew(t *testing.T) *jtEnv {
	t.Helper()
	prog := program.Default()
	st := postgres.New(pgtest.Pool(t))
	clk := clock.Frozen(time.Date(2026, 1, 10, 12, 0, 0, 0, prog.Location))
	return &jtEnv{ctx: context.Background(), store: st, svc: wallet.NewService(prog, clk, jtSecret, st), clock: clk, prog: prog,
		jan: wallet.Period{Year: 2026, Month: time.January}}
}

// families imports n families of the given sizes (cycled) and issues January.
func (e *jtEnv) families(t *testing.T, n int, sizes ...int) {
	t.Helper()
	g := fixtures.NewGen()
	var people []fixtures.Person
	for i := 0; i < n; i++ {
		people = append(people, g.Family(i, "kokshetau", sizes[i%len(sizes)])...)
	}
	var buf bytes.Buffer
	if err := fixtures.WriteRegistry(&buf, people); err != nil {
		t.Fatal(err)
	}
	if res, err := e.svc.ImportRegistry(e.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry() = %+v, %v", res, err)
	}
	if _, err := e.svc.Issue(e.ctx, e.jan); err != nil {
		t.Fatalf("Issue(%v) = %v", e.jan, err)
	}
}

func (e *jtEnv) exec(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	tag, err := e.store.Pool().Exec(e.ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag.RowsAffected()
}

// link links the members chosen by where (SQL on members m) to chats 10^6+id.
func (e *jtEnv) link(t *testing.T, where string) {
	t.Helper()
	e.exec(t, `INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at)
		SELECT 1000000 + m.id, m.id, 1000000 + m.id, CASE WHEN m.id % 2 = 0 THEN 'kk' ELSE 'ru' END, now()
		FROM members m WHERE `+where+` ON CONFLICT DO NOTHING`)
}

func (e *jtEnv) views(t *testing.T) []wallet.FamilyView {
	t.Helper()
	rows, _ := e.store.Pool().Query(e.ctx, `SELECT id FROM families ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out []wallet.FamilyView
	for _, id := range ids {
		fv, err := e.store.FamilyView(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fv)
	}
	return out
}

func (e *jtEnv) wave(kind wallet.NoticeKind, days int) wallet.NoticeWave {
	now := e.clock.Now()
	step := string(kind)
	if kind == wallet.NoticeReminder {
		step = wallet.ReminderStep(days)
	}
	switch kind {
	case wallet.NoticeIssued:
		step = "issue"
	case wallet.NoticeAnnulled:
		step = "annul"
	case wallet.NoticeExpired:
		step = "expire"
	}
	return wallet.NoticeWave{Kind: kind, Period: e.jan, DaysBefore: days, Step: step,
		EligibilityDay: e.prog.EligibilityDay(e.jan), ApplicantMinors: e.prog.ApplicantMinors,
		ExpiresAt: e.prog.ActivatedFundsExpiry(e.jan), Now: now,
		Plan: func(n int) wallet.WavePlan { return e.prog.PlanWave(n, 25, now, now, time.Time{}) }}
}

// queued reads the notifications of a kind: member → slot.
func (e *jtEnv) queued(t *testing.T, kind wallet.NoticeKind) map[int64]time.Time {
	t.Helper()
	rows, err := e.store.Pool().Query(e.ctx, `SELECT member_id, not_before FROM notifications WHERE kind = $1`, string(kind))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		out[id] = at
	}
	return out
}

// audience is the wallet rule over every family.
func (e *jtEnv) audience(t *testing.T, kind wallet.NoticeKind) map[int64]wallet.Tiyn {
	t.Helper()
	out := map[int64]wallet.Tiyn{}
	for _, fv := range e.views(t) {
		for id, a := range e.prog.Audience(fv, e.jan, kind) {
			out[id] = a
		}
	}
	return out
}

// activate activates, as each member chosen by where, every voucher they may.
func (e *jtEnv) activate(t *testing.T, where string) {
	t.Helper()
	rows, _ := e.store.Pool().Query(e.ctx, `SELECT m.id FROM members m WHERE `+where+` ORDER BY m.id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := e.svc.GiveConsent(e.ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Activate(e.ctx, id, e.jan); err != nil {
			t.Fatalf("Activate(%d) = %v", id, err)
		}
	}
}

func TestAudienceSQLMatchesTheWalletRule(t *testing.T) {
	e := jtNew(t)
	e.families(t, 12, 4, 2, 5, 1)
	// Most applicants and fathers linked, a few children too; one applicant
	// blocked the bot.
	e.link(t, `m.role = 'applicant' OR (m.id % 3 = 0)`)
	e.exec(t, `UPDATE telegram_links SET blocked_at = now() WHERE member_id = (SELECT min(id) FROM members WHERE role = 'applicant')`)
	// Some applicants activated everything, some fathers their own.
	e.activate(t, `m.role = 'applicant' AND m.family_id IN ('F0000001', 'F0000004')`)
	e.activate(t, `m.role = 'member' AND m.birth_date < '1990-01-01' AND m.family_id IN ('F0000002', 'F0000006')`)

	check := func(kind wallet.NoticeKind, days int) {
		t.Helper()
		want := e.audience(t, kind)
		n, err := e.store.CountAudience(e.ctx, e.wave(kind, days))
		if err != nil || n != len(want) {
			t.Fatalf("CountAudience(%s) = %d, %v; want %d", kind, n, err, len(want))
		}
		_, wrote, err := e.store.QueueNotices(e.ctx, e.wave(kind, days))
		if err != nil || wrote != int64(len(want)) {
			t.Fatalf("QueueNotices(%s) = %d, %v; want %d", kind, wrote, err, len(want))
		}
		got := e.queued(t, kind)
		for id := range want {
			if _, ok := got[id]; !ok {
				t.Errorf("%s: member %d is in the wallet rule's audience, not in SQL's", kind, id)
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				t.Errorf("%s: member %d is in SQL's audience, not in the wallet rule's", kind, id)
			}
		}
		// What each notice says equals what the rule says is at stake.
		rows, _ := e.store.Pool().Query(e.ctx, `SELECT id, member_id FROM notifications WHERE kind = $1`, string(kind))
		type row struct{ id, member int64 }
		rs, _ := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.member)
		})
		for _, r := range rs {
			n, st, err := e.store.LoadNotice(e.ctx, r.id, e.prog, e.clock.Now())
			if err != nil || !st.Linked {
				t.Fatalf("LoadNotice(%d) = %+v, %v", r.id, st, err)
			}
			if n.Total() != want[r.member] {
				t.Errorf("%s to member %d: total %d; want %d (lines %+v)", kind, r.member, n.Total(), want[r.member], n.Lines)
			}
			if len(n.Lines) > 0 && n.Lines[0].MemberID == r.member && !n.Lines[0].Self {
				t.Errorf("%s to member %d: own line not marked Self", kind, r.member)
			}
		}
	}
	check(wallet.NoticeIssued, 0)
	check(wallet.NoticeReminder, 7)
	if len(e.queued(t, wallet.NoticeReminder)) == 0 || len(e.queued(t, wallet.NoticeIssued)) == 0 {
		t.Fatal("fixture gives an empty audience; the comparison shows nothing")
	}

	e.clock.Set(e.prog.Deadline(e.jan))
	if _, err := e.svc.Annul(e.ctx, e.jan); err != nil {
		t.Fatal(err)
	}
	check(wallet.NoticeAnnulled, 0)
}

func TestQueueNoticesOnceAtPlannedSlots(t *testing.T) {
	e := jtNew(t)
	e.families(t, 30, 4)
	e.link(t, `true`)
	// An issue-notice wave written at 00:05 waits for 09:00 and goes one
	// every 40 ms (25/s).
	e.clock.Set(time.Date(2026, 1, 10, 0, 5, 0, 0, e.prog.Location))
	w := e.wave(wallet.NoticeIssued, 0)
	plan, wrote, err := e.store.QueueNotices(e.ctx, w)
	if err != nil || wrote != 120 || plan.Recipients != 120 {
		t.Fatalf("QueueNotices() = %+v, %d, %v; want 120 rows", plan, wrote, err)
	}
	if _, again, err := e.store.QueueNotices(e.ctx, w); err != nil || again != 0 {
		t.Errorf("second QueueNotices() wrote %d, %v; want 0 (step done)", again, err)
	}
	e.exec(t, `DELETE FROM job_steps`)
	if _, again, err := e.store.QueueNotices(e.ctx, w); err != nil || again != 0 {
		t.Errorf("QueueNotices() with the step forgotten wrote %d, %v; want 0 (unique per member, kind, period)", again, err)
	}

	got := e.queued(t, wallet.NoticeIssued)
	ids := make([]int64, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i, id := range ids {
		if want := plan.Slot(i); !got[id].Equal(want) {
			t.Errorf("slot of recipient %d (member %d) = %v; want %v", i, id, got[id], want)
		}
	}
	if first := got[ids[0]]; !first.Equal(time.Date(2026, 1, 10, 9, 0, 0, 0, e.prog.Location)) {
		t.Errorf("first slot %v; want 09:00, when quiet hours end", first)
	}
	steps, err := e.store.ScheduleSteps(e.ctx)
	if err != nil || len(steps) != 1 || steps[0].Step != "issue" || !steps[0].Done() {
		t.Fatalf("ScheduleSteps() = %+v, %v; want issue done", steps, err)
	}
}

func TestSaveStepKeepsTheFirstDone(t *testing.T) {
	e := jtNew(t)
	t0 := e.clock.Now()
	planned := wallet.ScheduleStep{Period: e.jan, Step: "remind-7", PlannedAt: t0,
		Plan: wallet.WavePlan{Recipients: 10, Nominal: t0, Start: t0, Finish: t0.Add(time.Second)}}
	if err := e.store.SaveStep(e.ctx, planned); err != nil {
		t.Fatal(err)
	}
	done := planned
	done.DoneAt, done.Note = t0.Add(time.Hour), "superseded by remind-3"
	if err := e.store.SaveStep(e.ctx, done); err != nil {
		t.Fatal(err)
	}
	later := done
	later.DoneAt, later.Note = t0.Add(2*time.Hour), "again"
	if err := e.store.SaveStep(e.ctx, later); err != nil {
		t.Fatal(err)
	}
	steps, err := e.store.ScheduleSteps(e.ctx)
	if err != nil || len(steps) != 1 {
		t.Fatalf("ScheduleSteps() = %+v, %v", steps, err)
	}
	if s := steps[0]; !s.DoneAt.Equal(done.DoneAt) || s.Note != done.Note || s.Plan.Recipients != 10 {
		t.Errorf("step = %+v; want the first done (%v, %q)", s, done.DoneAt, done.Note)
	}
	if err := e.store.SaveStep(e.ctx, wallet.ScheduleStep{Period: e.jan, Step: "reminder"}); err == nil {
		t.Errorf("SaveStep(bad name) = nil; want the CHECK to refuse it")
	}
}

func TestDispatchClaimsEachDueRowOnce(t *testing.T) {
	e := jtNew(t)
	e.families(t, 50, 4)
	e.link(t, `true`)
	e.clock.Set(time.Date(2026, 1, 10, 12, 0, 0, 0, e.prog.Location))
	if _, n, err := e.store.QueueNotices(e.ctx, e.wave(wallet.NoticeIssued, 0)); err != nil || n != 200 {
		t.Fatalf("QueueNotices() = %d, %v", n, err)
	}
	// A receipt-like row without a slot goes first.
	e.exec(t, `INSERT INTO notifications (member_id, kind, ref_id, created_at) SELECT min(id), 'frozen', 7, now() FROM members`)

	// Nothing but the slotless row is due before the wave's first slot.
	var first []wallet.Notice
	n, err := e.store.DispatchNotices(e.ctx, e.clock.Now().Add(-time.Second), 100, func(_ context.Context, _ pgx.Tx, c []wallet.Notice) error {
		first = c
		return nil
	})
	if err != nil || n != 1 || first[0].Kind != wallet.NoticeFrozen || first[0].RefID != 7 {
		t.Fatalf("DispatchNotices(before the wave) = %d %+v, %v; want the frozen notice only", n, first, err)
	}

	// An enqueue that fails leaves every row unclaimed.
	boom := errors.New("river down")
	if _, err := e.store.DispatchNotices(e.ctx, e.clock.Now().Add(time.Hour), 100, func(context.Context, pgx.Tx, []wallet.Notice) error {
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("DispatchNotices(failing enqueue) = %v; want %v", err, boom)
	}
	var unqueued int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM notifications WHERE queued_at IS NULL`).Scan(&unqueued)
	if unqueued != 200 {
		t.Fatalf("after a failed enqueue %d rows unqueued; want 200", unqueued)
	}

	// Four dispatchers at once, 8 s into the wave (25/s: 200 rows due), in
	// batches of 30: each row claimed exactly once.
	now := e.clock.Now().Add(8 * time.Second)
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := e.store.DispatchNotices(e.ctx, now, 30, func(_ context.Context, _ pgx.Tx, c []wallet.Notice) error {
					mu.Lock()
					defer mu.Unlock()
					for _, x := range c {
						seen[x.ID]++
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					var left int
					e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM notifications WHERE queued_at IS NULL AND not_before <= $1`, now).Scan(&left)
					if left == 0 {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Errorf("dispatched %d rows; want 200", len(seen))
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("row %d dispatched %d times; want once", id, k)
		}
	}
}

func TestFinishNoticeRecordsWithTheJob(t *testing.T) {
	e := jtNew(t)
	e.families(t, 2, 2)
	e.link(t, `true`)
	if _, n, err := e.store.QueueNotices(e.ctx, e.wave(wallet.NoticeIssued, 0)); err != nil || n != 4 {
		t.Fatalf("QueueNotices() = %d, %v", n, err)
	}
	rows, _ := e.store.Pool().Query(e.ctx, `SELECT id FROM notifications ORDER BY id`)
	ids, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	at := e.clock.Now()

	// The job's completion fails: nothing is recorded.
	boom := errors.New("job gone")
	err := e.store.FinishNotice(e.ctx, ids[0], wallet.NoticeOutcome{At: at, Sent: true}, func(context.Context, pgx.Tx) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("FinishNotice(failing completion) = %v; want %v", err, boom)
	}
	_, st, _ := e.store.LoadNotice(e.ctx, ids[0], e.prog, at)
	if st.Sent {
		t.Fatalf("notice marked sent although its job's completion failed")
	}

	completed := 0
	complete := func(_ context.Context, tx pgx.Tx) error {
		completed++
		_, err := tx.Exec(e.ctx, `SELECT 1`)
		return err
	}
	tests := []struct {
		name    string
		id      int64
		out     wallet.NoticeOutcome
		want    wallet.NoticeState
		errText string
	}{
		{"sent", ids[0], wallet.NoticeOutcome{At: at, Sent: true}, wallet.NoticeState{Linked: true, Sent: true}, ""},
		{"skipped", ids[1], wallet.NoticeOutcome{At: at, Skipped: true, Reason: "nothing to activate"},
			wallet.NoticeState{Linked: true, Failed: true}, "skipped: nothing to activate"},
		{"blocked marks the link", ids[2], wallet.NoticeOutcome{At: at, Blocked: true, ChatID: 0, Reason: "blocked"},
			wallet.NoticeState{Linked: true, Failed: true}, "blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.out.Blocked {
				n, _, _ := e.store.LoadNotice(e.ctx, tt.id, e.prog, at)
				tt.out.ChatID = n.ChatID
				tt.want.Blocked = true
			}
			if err := e.store.FinishNotice(e.ctx, tt.id, tt.out, complete); err != nil {
				t.Fatal(err)
			}
			_, st, err := e.store.LoadNotice(e.ctx, tt.id, e.prog, at)
			if err != nil || st != tt.want {
				t.Errorf("after FinishNotice(%+v): state %+v, %v; want %+v", tt.out, st, err, tt.want)
			}
			var msg *string
			e.store.Pool().QueryRow(e.ctx, `SELECT error FROM notifications WHERE id = $1`, tt.id).Scan(&msg)
			if got := ""; msg != nil {
				got = *msg
				if got != tt.errText {
					t.Errorf("error = %q; want %q", got, tt.errText)
				}
			} else if tt.errText != "" {
				t.Errorf("error = NULL; want %q", tt.errText)
			}
		})
	}
	if completed != 3 {
		t.Errorf("completion called %d times; want 3", completed)
	}
	// A sent notice stays sent if a repeated job reports a failure.
	if err := e.store.FinishNotice(e.ctx, ids[0], wallet.NoticeOutcome{At: at, Reason: "late duplicate"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, st, _ := e.store.LoadNotice(e.ctx, ids[0], e.prog, at); !st.Sent || st.Failed {
		t.Errorf("sent notice after a failure report: %+v; want still sent, not failed", st)
	}
	// The blocked link stays blocked for every later notice to that member.
	var member int64
	e.store.Pool().QueryRow(e.ctx, `SELECT member_id FROM notifications WHERE id = $1`, ids[2]).Scan(&member)
	e.exec(t, `INSERT INTO notifications (member_id, kind, created_at) VALUES ($1, 'frozen', now())`, member)
	var later int64
	e.store.Pool().QueryRow(e.ctx, `SELECT max(id) FROM notifications`).Scan(&later)
	if _, st, _ := e.store.LoadNotice(e.ctx, later, e.prog, at); !st.Blocked {
		t.Errorf("a later notice to a member who blocked the bot: %+v; want Blocked", st)
	}
}

func TestLoadNoticeReadsFiguresWhenSent(t *testing.T) {
	e := jtNew(t)
	e.families(t, 1, 4) // mother (applicant), father, two children
	e.link(t, `m.birth_date < '2000-01-01'`)
	amount := wallet.TengeToTiyn(4325)
	if _, _, err := e.store.QueueNotices(e.ctx, e.wave(wallet.NoticeReminder, 7)); err != nil {
		t.Fatal(err)
	}
	var mother, motherNotice int64
	e.store.Pool().QueryRow(e.ctx, `SELECT m.id, n.id FROM members m JOIN notifications n ON n.member_id = m.id
		WHERE m.role = 'applicant'`).Scan(&mother, &motherNotice)
	n, _, err := e.store.LoadNotice(e.ctx, motherNotice, e.prog, e.clock.Now())
	if err != nil || n.Total() != 3*amount || len(n.Lines) != 3 || !n.Lines[0].Self {
		t.Fatalf("reminder to the applicant = %+v, %v; want her own and two children's vouchers, hers first", n.Lines, err)
	}
	if !n.Deadline.Equal(e.prog.Deadline(e.jan)) || n.ChatID != 1000000+mother {
		t.Errorf("reminder deadline %v chat %d; want %v, %d", n.Deadline, n.ChatID, e.prog.Deadline(e.jan), 1000000+mother)
	}
	// She activates between the wave and the send: the notice now says nothing is left.
	e.activate(t, fmt.Sprintf(`m.id = %d`, mother))
	n, _, _ = e.store.LoadNotice(e.ctx, motherNotice, e.prog, e.clock.Now())
	if n.Total() != 0 || len(n.Lines) != 0 {
		t.Errorf("reminder after activating everything = %+v; want no lines", n.Lines)
	}

	// Annulment: the father did not activate; his notice says when the next come.
	e.clock.Set(e.prog.Deadline(e.jan))
	if _, err := e.svc.Annul(e.ctx, e.jan); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.QueueNotices(e.ctx, e.wave(wallet.NoticeAnnulled, 0)); err != nil {
		t.Fatal(err)
	}
	var annulled []wallet.Notice
	rows, _ := e.store.Pool().Query(e.ctx, `SELECT id FROM notifications WHERE kind = 'annulled'`)
	ids, _ := pgx.CollectRows(rows, pgx.RowTo[int64])
	for _, id := range ids {
		n, _, _ := e.store.LoadNotice(e.ctx, id, e.prog, e.clock.Now())
		annulled = append(annulled, n)
	}
	if len(annulled) != 1 || annulled[0].Total() != amount || !annulled[0].NextIssue.Equal(e.prog.IssueAt(e.jan.Next())) {
		t.Fatalf("annulled notices = %+v; want one, to the father, %d, next issue %v", annulled, amount, e.prog.IssueAt(e.jan.Next()))
	}

	// Expiry: at the programme's end the mother's activated value lapses.
	e.clock.Set(e.prog.End)
	if n, lapsed, err := e.svc.ExpireFunds(e.ctx); err != nil || n != 3 || lapsed != 3*amount {
		t.Fatalf("ExpireFunds() = %d, %d, %v; want 3 vouchers, %d", n, lapsed, err, 3*amount)
	}
	if _, _, err := e.store.QueueNotices(e.ctx, e.wave(wallet.NoticeExpired, 0)); err != nil {
		t.Fatal(err)
	}
	rows, _ = e.store.Pool().Query(e.ctx, `SELECT id, member_id FROM notifications WHERE kind = 'expired'`)
	type row struct{ id, member int64 }
	rs, _ := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.member)
	})
	if len(rs) != 1 || rs[0].member != mother {
		t.Fatalf("expired notices = %+v; want one, to the applicant", rs)
	}
	n, _, _ = e.store.LoadNotice(e.ctx, rs[0].id, e.prog, e.clock.Now())
	if n.Total() != 3*amount || !n.ExpiredAt.Equal(e.prog.End) {
		t.Errorf("expired notice = %+v; want %d lapsed at %v", n, 3*amount, e.prog.End)
	}
	var names []string
	for _, l := range n.Lines {
		names = append(names, l.Name)
	}
	if len(names) != 3 || reflect.DeepEqual(names[0], "") {
		t.Errorf("expired lines = %v; want three short names", names)
	}
}
