package jobs_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"socialwallet/internal/tcpproxy"
	"socialwallet/locales"
	"socialwallet/wallet"
)

func sameSet(t *testing.T, what string, got map[int64]bool, want map[int64]wallet.Tiyn) {
	t.Helper()
	for id := range want {
		if !got[id] {
			t.Errorf("%s: member %d should be told, is not", what, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: member %d is told, should not be", what, id)
		}
	}
	if len(want) == 0 {
		t.Errorf("%s: the rule's audience is empty; the fixture shows nothing", what)
	}
}

func TestIssueAt0005OnThePeriodsFirstDay(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.January, 4, 12, 0, 0))
	w.families(t, 6, 4)
	w.link(t, `m.birth_date < '2000-01-01'`)
	j := w.client(t, clientOpts{})
	feb := w.jan.Next()
	vouchers := func(p wallet.Period) int {
		return w.count(t, `SELECT count(*) FROM vouchers WHERE period = $1`, p.FirstDay())
	}
	members := w.count(t, `SELECT count(*) FROM members`)

	tests := []struct {
		name   string
		now    time.Time
		period wallet.Period
		want   int
	}{
		{"the day before the programme starts", w.at(time.January, 4, 23, 59, 59), w.jan, 0},
		{"00:04 on the start date", w.at(time.January, 5, 0, 4, 59), w.jan, 0},
		{"00:05 on the start date", w.at(time.January, 5, 0, 5, 0), w.jan, members},
		{"January's last second", w.at(time.January, 31, 23, 59, 59), feb, 0},
		{"00:04 on 1 February", w.at(time.February, 1, 0, 4, 0), feb, 0},
		{"00:05 on 1 February", w.at(time.February, 1, 0, 5, 0), feb, members},
	}
	for _, tt := range tests {
		w.clock.Set(tt.now)
		if err := j.Tick(w.ctx); err != nil {
			t.Fatalf("%s: Tick() = %v", tt.name, err)
		}
		if got := vouchers(tt.period); got != tt.want {
			t.Errorf("%s: %d vouchers of %s; want %d", tt.name, got, tt.period, tt.want)
		}
	}
	// Each linked member is told once per period; the notices wait for 09:00.
	sameSet(t, "issued January", w.notified(t, w.jan, wallet.NoticeIssued, 0), w.audience(t, w.jan, wallet.NoticeIssued))
	sameSet(t, "issued February", w.notified(t, feb, wallet.NoticeIssued, 0), w.audience(t, feb, wallet.NoticeIssued))
	w.noQuietSlots(t)
	// The dispatcher looks one period (1 s) ahead; the send job holds a
	// message released at 08:59:59 until 09:00 (TestNothingGoesInQuietHours).
	w.clock.Set(w.at(time.February, 1, 8, 59, 58))
	if _, err := j.Dispatch(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.count(t, `SELECT count(*) FROM notifications WHERE period = $1 AND queued_at IS NOT NULL`, feb.FirstDay()); n != 0 {
		t.Errorf("%d February notices queued at 08:59:58; want none before quiet hours end", n)
	}

	// At 09:00 they go out: how much, for whom, and the deadline.
	w.clock.Set(w.at(time.February, 1, 9, 30, 0))
	issued := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'issued'`)
	w.deliver(t, issued)
	// January's notices were due in January: sent now, they would be stale.
	if n := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'issued' AND period = $1 AND error = 'skipped: deadline passed'`,
		w.jan.FirstDay()); n != len(w.audience(t, w.jan, wallet.NoticeIssued)) {
		t.Errorf("%d of January's issue notices skipped on 1 February; want all", n)
	}
	applicant := w.ids(t, `SELECT id FROM members WHERE role = 'applicant' ORDER BY id LIMIT 2`)
	for _, m := range applicant {
		// January lapsed unactivated: its annulment notice, then February's issue.
		msgs := w.tg.Messages(chatOf(m))
		if len(msgs) != 2 {
			t.Fatalf("applicant %d got %d messages; want January's annulment and February's issue", m, len(msgs))
		}
		lang := "ru"
		if m%2 == 0 {
			lang = "kk"
		}
		var body string
		for _, x := range msgs {
			if strings.Contains(x.Body(), locales.Month(lang, feb)) {
				body = x.Body()
			}
		}
		// Her own voucher and her two children's.
		for _, want := range []string{locales.Money(3 * wallet.TengeToTiyn(4325)), locales.LastDay(lang, w.prog, feb), locales.Month(lang, feb)} {
			if !strings.Contains(body, want) {
				t.Errorf("issue notice to %d (%s) = %q; want it to name %q", m, lang, body, want)
			}
		}
	}
}

func TestIssueOnStartUpMidPeriod(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.February, 14, 12, 0, 0))
	w.families(t, 3, 3)
	w.link(t, `m.role = 'applicant'`)
	// A process starting mid-February: its first tick (River's RunOnStart)
	// issues February and tells the linked members; January is long gone.
	run(t, w.client(t, clientOpts{id: "starter", schedule: true, tick: time.Hour}))
	w.waitFinished(t, 3, 20*time.Second)
	feb := w.jan.Next()
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE period = $1`, feb.FirstDay()); n != 9 {
		t.Errorf("February vouchers after start-up = %d; want 9", n)
	}
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE period = $1`, w.jan.FirstDay()); n != 0 {
		t.Errorf("January vouchers issued on 14 February: %d; want none", n)
	}
	if got := w.deliveredTo(); len(got) != 3 {
		t.Errorf("issue notices delivered to %d chats; want 3 applicants: %v", len(got), got)
	}
}

// A process whose PostgreSQL is away while it starts keeps trying instead of
// ending (it serves the bot and the tills meanwhile), and does what is due
// once the database answers.
func TestStartsWhenPostgreSQLComesBack(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.February, 14, 12, 0, 0))
	w.families(t, 2, 3)
	u, err := url.Parse(w.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.New(t, u.Host)
	proxy.Cut()
	u.Host = proxy.Addr()
	j := w.client(t, clientOpts{id: "patient", schedule: true, tick: time.Hour, dbURL: u.String()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Run() with PostgreSQL away = %v; want it to wait for the database", err)
	case <-time.After(1500 * time.Millisecond):
	}
	proxy.Restore()
	feb := w.jan.Next()
	deadline := time.Now().Add(20 * time.Second)
	for w.count(t, `SELECT count(*) FROM vouchers WHERE period = $1`, feb.FirstDay()) != 6 {
		if time.Now().After(deadline) {
			t.Fatalf("February not issued within 20 s of PostgreSQL coming back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() after the database came back = %v; want nil at shutdown", err)
	}
}

func TestRemindersAtD7D3D1OnlyToWhoStillHasSomethingToActivate(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	w.families(t, 8, 4)
	w.link(t, `m.birth_date < '2000-01-01' OR m.id % 7 = 0`) // adults, and a few children too
	j := w.client(t, clientOpts{})
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	finished := w.count(t, `SELECT count(*) FROM notifications`)
	w.deliver(t, finished)

	wave := func(name string, before, at time.Time, days int) map[int64]bool {
		t.Helper()
		w.clock.Set(before)
		if err := j.Tick(w.ctx); err != nil {
			t.Fatal(err)
		}
		if got := w.notified(t, w.jan, wallet.NoticeReminder, days); len(got) != 0 {
			t.Fatalf("%s: %d reminders written before %v", name, len(got), at)
		}
		w.clock.Set(at)
		want := w.audience(t, w.jan, wallet.NoticeReminder)
		if err := j.Tick(w.ctx); err != nil {
			t.Fatal(err)
		}
		got := w.notified(t, w.jan, wallet.NoticeReminder, days)
		sameSet(t, name, got, want)
		return got
	}
	d7 := wave("D-7", w.at(time.January, 25, 9, 59, 59), w.at(time.January, 25, 10, 0, 0), 7)
	finished += len(d7)
	w.deliver(t, finished)

	// Family 1 activates everything; family 2's father his own.
	w.activate(t, `m.family_id = 'F0000001' AND m.birth_date < '2000-01-01'`)
	w.activate(t, `m.family_id = 'F0000002' AND m.role = 'member' AND m.birth_date < '2000-01-01'`)
	d3 := wave("D-3", w.at(time.January, 29, 9, 59, 0), w.at(time.January, 29, 10, 0, 0), 3)
	for _, m := range w.ids(t, `SELECT id FROM members WHERE family_id = 'F0000001'`) {
		if d3[m] {
			t.Errorf("member %d of a family that activated everything got a D-3 reminder", m)
		}
	}
	// Family 3's applicant activates after the D-3 wave is written, before
	// it is sent: her reminder is dropped, not sent.
	w.activate(t, `m.family_id = 'F0000003' AND m.role = 'applicant'`)
	late := w.ids(t, `SELECT id FROM members WHERE family_id = 'F0000003' AND role = 'applicant'`)[0]
	finished += len(d3)
	w.deliver(t, finished)
	if n := w.count(t, `SELECT count(*) FROM notifications WHERE member_id = $1 AND days_before = 3
		AND sent_at IS NULL AND error = 'skipped: nothing left to activate'`, late); n != 1 {
		t.Errorf("D-3 reminder of a member who activated before it went: %d skipped; want 1", n)
	}
	if msgs := w.tg.Messages(chatOf(late)); len(msgs) != 2 {
		t.Errorf("member %d got %d messages; want 2 (issued, D-7), not the D-3 reminder", late, len(msgs))
	}

	d1 := wave("D-1", w.at(time.January, 31, 9, 0, 0), w.at(time.January, 31, 10, 0, 0), 1)
	if d1[late] {
		t.Errorf("member %d who activated everything got a D-1 reminder", late)
	}
	finished += len(d1)
	w.deliver(t, finished)
	w.noQuietSlots(t)

	// The D-1 reminder: amount at stake, the deadline, a day left, in the
	// member's language, with the Activate button that works in place.
	for m := range d1 {
		msgs := w.tg.Messages(chatOf(m))
		last := msgs[len(msgs)-1]
		lang := "ru"
		if m%2 == 0 {
			lang = "kk"
		}
		for _, want := range []string{locales.LastDay(lang, w.prog, w.jan), w.bundle.T(lang, "days", nil, 1)} {
			if !strings.Contains(last.Body(), want) {
				t.Errorf("D-1 reminder to %d = %q; want %q in it", m, last.Body(), want)
			}
		}
		if _, ok := last.ButtonWithData("act:2026-01"); !ok {
			t.Errorf("D-1 reminder to %d has buttons %+v; want one with data act:2026-01", m, last.Buttons())
		}
	}
	// Nobody got a message of a wave they were not in.
	for chat, n := range w.deliveredTo() {
		m := chat - 1000000
		want := w.count(t, `SELECT count(*) FROM notifications WHERE member_id = $1 AND sent_at IS NOT NULL`, m)
		if n != want {
			t.Errorf("chat %d received %d messages; %d notifications to the member are marked sent", chat, n, want)
		}
	}
}

func TestNothingGoesInQuietHours(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	w.families(t, 2, 2)
	w.link(t, `true`)
	j := w.client(t, clientOpts{})
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.deliver(t, 4)
	sent := len(w.tg.CallsTo("sendMessage"))

	// A reminder due at 20:59:59 reaches its job at 21:00 (the clock jumped):
	// the job waits for 09:00 instead of sending.
	w.clock.Set(w.at(time.January, 25, 20, 59, 59))
	m := w.ids(t, `SELECT min(id) FROM members`)[0]
	w.exec(t, `INSERT INTO notifications (member_id, kind, period, days_before, created_at, not_before)
		VALUES ($1, 'reminder', '2026-01-01', 7, now(), $2)`, m, w.clock.Now())
	if n, err := j.Dispatch(w.ctx); err != nil || n != 1 {
		t.Fatalf("Dispatch() = %d, %v", n, err)
	}
	w.clock.Set(w.at(time.January, 25, 21, 0, 0))
	run(t, w.client(t, clientOpts{id: "night"}))
	deadline := time.Now().Add(10 * time.Second)
	for {
		var state string
		var at time.Time
		err := w.pool.QueryRow(w.ctx, `SELECT state, scheduled_at FROM river_job WHERE kind = 'sw_notice'
			AND (args->>'notification_id')::bigint = (SELECT max(id) FROM notifications)`).Scan(&state, &at)
		if err == nil && state == "scheduled" {
			if wait := time.Until(at); wait < 11*time.Hour || wait > 12*time.Hour+time.Minute {
				t.Errorf("reminder at 21:00 snoozed for %v; want 12 h, until 09:00", wait)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reminder job at 21:00: state %q, %v; want it snoozed", state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := len(w.tg.CallsTo("sendMessage")); got != sent {
		t.Errorf("%d messages sent at 21:00; want none", got-sent)
	}
}

func TestAnnulmentAt0000WithItsNotices(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	w.families(t, 6, 3)
	w.link(t, `m.birth_date < '2000-01-01'`)
	j := w.client(t, clientOpts{})
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.activate(t, `m.family_id IN ('F0000000', 'F0000003') AND m.birth_date < '2000-01-01'`)
	activated := w.count(t, `SELECT count(*) FROM vouchers WHERE state = 'activated'`)

	w.clock.Set(w.at(time.January, 31, 23, 59, 59))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE state = 'annulled'`); n != 0 {
		t.Fatalf("%d vouchers annulled at 23:59:59; want none", n)
	}
	w.clock.Set(w.at(time.February, 1, 0, 0, 0))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE period = '2026-01-01' AND state = 'issued'`); n != 0 {
		t.Errorf("%d January vouchers still issued at 00:00; want none", n)
	}
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE state = 'activated'`); n != activated {
		t.Errorf("%d vouchers activated after annulment; want %d untouched", n, activated)
	}
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE period = '2026-02-01'`); n != 0 {
		t.Errorf("February issued at 00:00 (%d); want at 00:05", n)
	}
	want := w.audience(t, w.jan, wallet.NoticeAnnulled)
	sameSet(t, "annulled", w.notified(t, w.jan, wallet.NoticeAnnulled, 0), want)
	w.noQuietSlots(t)
	if _, err := j.Dispatch(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'annulled' AND queued_at IS NOT NULL`); n != 0 {
		t.Errorf("%d annulment notices queued at 00:00; want them held until 09:00", n)
	}

	w.clock.Set(w.at(time.February, 1, 9, 0, 5))
	w.deliver(t, w.count(t, `SELECT count(*) FROM notifications`))
	for m, amount := range want {
		msgs := w.tg.Messages(chatOf(m))
		lang := "ru"
		if m%2 == 0 {
			lang = "kk"
		}
		body := msgs[len(msgs)-1].Body()
		next := locales.Date(lang, w.prog.IssueAt(w.jan.Next()))
		if !strings.Contains(body, locales.Money(amount)) || !strings.Contains(body, next) {
			t.Errorf("annulment notice to %d = %q; want %s lapsed and next vouchers on %s", m, body, locales.Money(amount), next)
		}
	}
}

func TestClockJumpsDoEachStepOnce(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	w.families(t, 3, 2)
	w.link(t, `true`)
	j := w.client(t, clientOpts{})
	j2 := w.client(t, clientOpts{id: "second"})
	steps := func() map[string]string {
		out := map[string]string{}
		rows, _ := w.pool.Query(w.ctx, `SELECT to_char(period, 'YYYY-MM') || ' ' || step, coalesce(note, '') FROM job_steps WHERE done_at IS NOT NULL`)
		defer rows.Close()
		for rows.Next() {
			var k, v string
			rows.Scan(&k, &v)
			out[k] = v
		}
		return out
	}
	tick := func() {
		t.Helper()
		// Two processes tick at once: the database makes each step once.
		errs := make(chan error, 2)
		go func() { errs <- j.Tick(w.ctx) }()
		go func() { errs <- j2.Tick(w.ctx) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	tick()
	// The clock jumps over D-7 to 30 January: D-7 is skipped, D-3 goes now.
	w.clock.Set(w.at(time.January, 30, 12, 0, 0))
	tick()
	got := steps()
	if got["2026-01 remind-7"] != "superseded by remind-3" || got["2026-01 remind-3"] != "" {
		t.Errorf("steps after jumping to 30 January = %v; want remind-7 superseded, remind-3 done", got)
	}
	if n := len(w.notified(t, w.jan, wallet.NoticeReminder, 3)); n != 6 {
		t.Errorf("D-3 reminders after the jump = %d; want 6", n)
	}
	// And over the deadline to 3 February: D-1 skipped, January annulled,
	// February issued.
	w.clock.Set(w.at(time.February, 3, 12, 0, 0))
	tick()
	tick()
	got = steps()
	for _, k := range []string{"2026-01 remind-1", "2026-01 annul", "2026-02 issue"} {
		if _, ok := got[k]; !ok {
			t.Errorf("step %s not done after jumping to 3 February: %v", k, got)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'issued'`); n != 12 {
		t.Errorf("issue notices after two ticks in two processes = %d; want 12 (6 members × 2 periods)", n)
	}
	if n := w.count(t, `SELECT count(*) FROM vouchers WHERE period = '2026-02-01'`); n != 6 {
		t.Errorf("February vouchers = %d; want 6", n)
	}
}

func TestAWaveTooLargeForTheDayStartsEarly(t *testing.T) {
	w := newWorld(t)
	w.prog.ReminderDays = []int{1}
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	w.families(t, 10, 2)
	w.link(t, `true`)
	// 20 recipients at one per 2 340 s take 13 h: more than the 11 h from
	// 10:00 to 21:00 on the last day, and the 12 h from 09:00. The wave must
	// start at 20:00 the evening before.
	reg := prometheus.NewRegistry()
	j := w.client(t, clientOpts{planRate: 1.0 / 2340, metrics: reg})
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(w.at(time.January, 30, 19, 59, 0))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(w.notified(t, w.jan, wallet.NoticeReminder, 1)); n != 0 {
		t.Fatalf("%d reminders written at 19:59; want none before the planned start", n)
	}
	var start time.Time
	var early bool
	if err := w.pool.QueryRow(w.ctx, `SELECT planned_start, early FROM job_steps WHERE step = 'remind-1'`).Scan(&start, &early); err != nil {
		t.Fatal(err)
	}
	if want := w.at(time.January, 30, 20, 0, 0); !start.Equal(want) || !early {
		t.Errorf("planned start %v (early %v); want %v, early", start.In(w.prog.Location), early, want)
	}
	if v := gauge(t, reg, "socialwallet_wave_early_start_seconds", "remind-1"); v != (14 * time.Hour).Seconds() {
		t.Errorf("exported early start = %v s; want %v (from 20:00 the day before to 10:00)", v, (14 * time.Hour).Seconds())
	}
	w.clock.Set(w.at(time.January, 30, 20, 0, 0))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(w.notified(t, w.jan, wallet.NoticeReminder, 1)); n != 20 {
		t.Fatalf("%d reminders at 20:00; want 20", n)
	}
	w.noQuietSlots(t)
	var last time.Time
	w.pool.QueryRow(w.ctx, `SELECT max(not_before) FROM notifications WHERE kind = 'reminder'`).Scan(&last)
	if end := w.at(time.January, 31, 21, 0, 0); !last.Before(end) {
		t.Errorf("last reminder planned at %v; want before %v", last.In(w.prog.Location), end)
	}
}

// gauge reads a wave gauge for a step from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name, step string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "step" && l.GetValue() == step {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{step=%q}", name, step)
	return 0
}

func TestExpiryOfActivatedValue(t *testing.T) {
	tests := []struct {
		name   string
		expire wallet.FundsExpiry
		before time.Time // the last instant value is still good
		at     time.Time // when it lapses
	}{
		{"at the programme's end", wallet.ExpireAtProgramEnd,
			time.Date(2026, time.April, 30, 23, 59, 59, 0, time.FixedZone("+05", 5*3600)),
			time.Date(2026, time.May, 1, 0, 0, 0, 0, time.FixedZone("+05", 5*3600))},
		{"at the period's deadline", wallet.ExpireAtPeriodEnd,
			time.Date(2026, time.January, 31, 23, 59, 59, 0, time.FixedZone("+05", 5*3600)),
			time.Date(2026, time.February, 1, 0, 0, 0, 0, time.FixedZone("+05", 5*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.prog.FundsExpire = tt.expire
			w.clock.Set(w.at(time.January, 10, 12, 0, 0))
			w.families(t, 4, 2)
			w.link(t, `true`)
			j := w.client(t, clientOpts{})
			if err := j.Tick(w.ctx); err != nil {
				t.Fatal(err)
			}
			w.activate(t, `m.family_id IN ('F0000000', 'F0000002')`)
			w.clock.Set(tt.before)
			if err := j.Tick(w.ctx); err != nil {
				t.Fatal(err)
			}
			if n := w.count(t, `SELECT count(*) FROM vouchers WHERE state = 'expired'`); n != 0 {
				t.Fatalf("%d vouchers expired at %v; want none", n, tt.before)
			}
			w.clock.Set(tt.at)
			if err := j.Tick(w.ctx); err != nil {
				t.Fatal(err)
			}
			if n := w.count(t, `SELECT count(*) FROM vouchers WHERE state = 'expired'`); n != 4 {
				t.Errorf("%d vouchers expired at %v; want the 4 activated", n, tt.at)
			}
			got := w.notified(t, w.jan, wallet.NoticeExpired, 0)
			if tt.expire == wallet.ExpireAtProgramEnd {
				got = w.notified(t, wallet.Period{Year: 2026, Month: time.April}, wallet.NoticeExpired, 0)
			}
			want := w.ids(t, `SELECT id FROM members WHERE family_id IN ('F0000000', 'F0000002')`)
			if len(got) != len(want) {
				t.Errorf("expiry notices to %v; want the four members whose value lapsed %v", got, want)
			}
			for _, m := range want {
				if !got[m] {
					t.Errorf("member %d lost activated value and was not told", m)
				}
			}
			w.noQuietSlots(t)
			w.clock.Set(tt.at.Add(9*time.Hour + time.Minute))
			w.deliver(t, w.count(t, `SELECT count(*) FROM notifications`))
			lang := "ru"
			if want[0]%2 == 0 {
				lang = "kk"
			}
			lapsed := w.bundle.T(lang, "notice_expired", map[string]any{"Total": locales.Money(wallet.TengeToTiyn(4325)),
				"Lines": "", "Date": locales.Date(lang, tt.before)})
			head := lapsed[:strings.Index(lapsed, "\n")]
			told := false
			for _, m := range w.tg.Messages(chatOf(want[0])) {
				told = told || (strings.HasPrefix(m.Body(), head) && strings.Contains(m.Body(), locales.Date(lang, tt.before)))
			}
			if !told {
				t.Errorf("member %d was not told %q with the last day %s", want[0], head, locales.Date(lang, tt.before))
			}
		})
	}
}
