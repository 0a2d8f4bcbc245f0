package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/internal/redistest"
	"socialwallet/jobs"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

var secret = []byte("jobs-test-secret-0123")

// world is one test's service: its own database, a Redis key prefix, the
// fake Bot API, the pilot programme and a clock the test moves.
type world struct {
	ctx    context.Context
	url    string
	pool   *pgxpool.Pool
	store  *postgres.Store
	prog   *wallet.Program
	clock  *clock.Offset
	svc    *wallet.Service
	tg     *telegramtest.Server
	prefix string
	bundle *locales.Bundle
	jan    wallet.Period
}

func newWorld(t testing.TB) *world {
	t.Helper()
	// A running clock: waves are planned one slot every 1/rate seconds, and
	// the dispatcher releases them as the clock reaches each. Tests jump it
	// with Set.
	clk := clock.StartingAt(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	url := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	_, prefix := redistest.Client(t)
	prog := program.Default()
	st := postgres.New(pool)
	return &world{ctx: context.Background(), url: url, pool: pool, store: st, prog: prog, clock: clk,
		svc: wallet.NewService(prog, clk, secret, st), tg: telegramtest.New(t), prefix: prefix,
		bundle: locales.MustLoad(), jan: wallet.Period{Year: 2026, Month: time.January}}
}

// at is a local time in the programme's zone.
func (w *world) at(month time.Month, day, hour, min, sec int) time.Time {
	return time.Date(2026, month, day, hour, min, sec, 0, w.prog.Location)
}

// families imports n families of size people (applicant mother, father,
// children under 18), alternating cities.
func (w *world) families(t testing.TB, n, size int) {
	t.Helper()
	g := fixtures.NewGen()
	cities := []string{"kokshetau", "akkol", "pavlodar"}
	var people []fixtures.Person
	for i := 0; i < n; i++ {
		people = append(people, g.Family(i, cities[i%3], size)...)
	}
	var buf bytes.Buffer
	if err := fixtures.WriteRegistry(&buf, people); err != nil {
		t.Fatal(err)
	}
	if res, err := w.svc.ImportRegistry(w.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry() = %+v, %v", res, err)
	}
}

// link links the members chosen by where (SQL over members m) to Telegram:
// chat id = 10^6 + member id, Kazakh for even ids, Russian for odd.
func (w *world) link(t testing.TB, where string) {
	t.Helper()
	w.exec(t, `INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at)
		SELECT 1000000 + m.id, m.id, 1000000 + m.id, CASE WHEN m.id % 2 = 0 THEN 'kk' ELSE 'ru' END, now()
		FROM members m WHERE `+where+` ON CONFLICT DO NOTHING`)
}

func chatOf(member int64) int64 { return 1000000 + member }

func (w *world) exec(t testing.TB, sql string, args ...any) int64 {
	t.Helper()
	tag, err := w.pool.Exec(w.ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag.RowsAffected()
}

func (w *world) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := w.pool.QueryRow(w.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (w *world) ids(t testing.TB, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := w.pool.Query(w.ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// activate gives consent and activates, as each member chosen by where,
// everything they may activate now.
func (w *world) activate(t testing.TB, where string) {
	t.Helper()
	for _, id := range w.ids(t, `SELECT m.id FROM members m WHERE `+where+` ORDER BY m.id`) {
		if err := w.svc.GiveConsent(w.ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Activate(w.ctx, id, w.svc.CurrentPeriod()); err != nil {
			t.Fatalf("Activate(member %d) = %v", id, err)
		}
	}
}

// audience is the wallet rule's audience of a notice about p over every family.
func (w *world) audience(t testing.TB, p wallet.Period, kind wallet.NoticeKind) map[int64]wallet.Tiyn {
	t.Helper()
	out := map[int64]wallet.Tiyn{}
	rows, _ := w.pool.Query(w.ctx, `SELECT id FROM families ORDER BY id`)
	fams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range fams {
		fv, err := w.store.FamilyView(w.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for m, a := range w.prog.Audience(fv, p, kind) {
			out[m] = a
		}
	}
	return out
}

// notified lists the members with a notification of kind about p (and, for
// reminders, that many days before).
func (w *world) notified(t testing.TB, p wallet.Period, kind wallet.NoticeKind, days int) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	for _, id := range w.ids(t, `SELECT member_id FROM notifications WHERE kind = $1 AND period = $2
		AND coalesce(days_before, 0) = $3`, string(kind), p.FirstDay(), days) {
		out[id] = true
	}
	return out
}

// clientOpts shape a job client.
type clientOpts struct {
	id       string
	rate     int
	planRate float64
	workers  int
	schedule bool // run the periodic tick
	tick     time.Duration
	metrics  prometheus.Registerer
	dbURL    string // the client's way to PostgreSQL, when not the world's (a proxy)
}

// client builds a job client as a serve process would: its own database
// pool, Redis connection, Bot API client and limiter.
func (w *world) client(t testing.TB, o clientOpts) *jobs.Jobs {
	t.Helper()
	if o.rate == 0 {
		o.rate = 25
	}
	if o.dbURL == "" {
		o.dbURL = w.url
	}
	pool, err := pgxpool.New(context.Background(), o.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	api, err := bot.NewAPI(ctx, w.tg.Token(), w.tg.Endpoint(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := goredis.ParseURL(redistest.URL())
	rc := goredis.NewClient(opt)
	t.Cleanup(func() { rc.Close() })
	st := postgres.New(pool)
	svc := wallet.NewService(w.prog, w.clock, secret, st)
	j, err := jobs.New(pool, jobs.Config{
		Program: w.prog, Clock: w.clock, Wallet: svc, Store: st,
		Sender:      bot.NewSender(api, w.bundle, w.prog, svc, bot.RenderReceipt),
		Limiter:     rstore.NewSendLimiter(rc, rstore.SendLimiterConfig{Rate: o.rate, Prefix: w.prefix}),
		Log:         testLog(),
		Rate:        o.rate,
		PlanRate:    o.planRate,
		Workers:     o.workers,
		Tick:        o.tick,
		NoSchedule:  !o.schedule,
		Metrics:     o.metrics,
		ID:          o.id,
		JobTimeout:  5 * time.Second,
		RescueAfter: 6 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// run runs j until the test ends.
func run(t testing.TB, j *jobs.Jobs) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
}

// waitFinished waits until n notifications are sent or given up.
func (w *world) waitFinished(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := w.count(t, `SELECT count(*) FROM notifications WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL`)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d notifications finished after %v", got, n, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deliveredTo counts the messages each chat received.
func (w *world) deliveredTo() map[int64]int {
	out := map[int64]int{}
	for _, c := range w.tg.CallsTo("sendMessage") {
		if c.Status == 200 {
			out[c.ChatID]++
		}
	}
	return out
}

var logOnce sync.Once

// testLog writes the jobs' warnings to stderr with SW_TEST_LOG=1.
func testLog() *slog.Logger {
	if os.Getenv("SW_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	logOnce.Do(func() { fmt.Fprintln(os.Stderr, "jobs test log on") })
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// deliver runs one job client until n notifications in all are finished,
// then stops it, so a test decides what happens between a wave and its sending.
func (w *world) deliver(t testing.TB, n int) {
	t.Helper()
	j := w.client(t, clientOpts{id: "deliver", rate: 100, workers: 8})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	w.waitFinished(t, n, 30*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}
}

// noQuietSlots checks that no notification is planned in quiet hours.
func (w *world) noQuietSlots(t testing.TB) {
	t.Helper()
	rows, err := w.pool.Query(w.ctx, `SELECT id, not_before FROM notifications WHERE not_before IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var at time.Time
		rows.Scan(&id, &at)
		if w.prog.InQuietHours(at) {
			t.Errorf("notification %d planned at %v, in quiet hours", id, at.In(w.prog.Location))
		}
	}
}
