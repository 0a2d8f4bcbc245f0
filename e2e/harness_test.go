package e2e

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/data"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/internal/redistest"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

var secret = []byte("e2e-test-secret-0123456789")

// harness is one running service: database, Redis, the fake Telegram and a
// bot polling it, on a frozen clock.
type harness struct {
	t      testing.TB
	ctx    context.Context
	tg     *telegramtest.Server
	store  *postgres.Store
	svc    *wallet.Service
	prog   *wallet.Program
	clock  *clock.Offset
	rc     *goredis.Client
	prefix string
	loc    *locales.Bundle
	api    *bot.API
	bot    *bot.Bot
	// people of family 0 (Kokshetau): mother (applicant), father, two minors;
	// family 1 (Pavlodar): the same shape.
	people []fixtures.Person
	stop   func()
	mark   int // calls checked so far by sync
	mu     sync.Mutex
}

func almaty(t testing.TB, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Almaty")
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type option func(*bot.Config)

// newHarness imports two families of four, issues January 2026 and starts
// the bot at 10 January, noon, Kazakhstan time.
func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	return newHarnessConns(t, 0, opts...)
}

// newHarnessConns is newHarness with a pool of at most conns connections
// (0: the test default); serve's pool has pgx's default, max(4, CPUs).
func newHarnessConns(t testing.TB, conns int32, opts ...option) *harness {
	t.Helper()
	var pool *pgxpool.Pool
	if conns == 0 {
		pool = pgtest.Pool(t)
	} else {
		cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = conns
		if pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
	}
	st := postgres.New(pool)
	prog := program.Default()
	clk := clock.Frozen(almaty(t, "2026-01-10 12:00:00"))
	rc, prefix := redistest.Client(t)
	h := &harness{
		t: t, ctx: context.Background(), tg: telegramtest.New(t), store: st, prog: prog, clock: clk,
		svc: wallet.NewService(prog, clk, secret, st), rc: rc, prefix: prefix, loc: locales.MustLoad(),
	}
	g := fixtures.NewGen()
	h.people = append(g.Family(0, "kokshetau", 4), g.Family(1, "pavlodar", 4)...)
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, h.people)
	if res, err := h.svc.ImportRegistry(h.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	if _, _, err := h.svc.ImportCatalog(h.ctx, data.SZPT()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Issue(h.ctx, wallet.Period{Year: 2026, Month: time.January}); err != nil {
		t.Fatal(err)
	}
	h.start(opts...)
	t.Cleanup(func() { h.stop() })
	return h
}

// config builds the bot's configuration as serve does, on this harness.
func (h *harness) config(opts ...option) bot.Config {
	h.t.Helper()
	api, err := bot.NewAPI(h.ctx, h.tg.Token(), h.tg.Endpoint(), &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		h.t.Fatalf("NewAPI = %v", err)
	}
	h.api = api
	sessions := rstore.NewSessions(h.rc, h.prefix, 24*time.Hour)
	claims := rstore.NewDedupe(h.rc, h.prefix, api.Self.ID, 24*time.Hour)
	cfg := bot.Config{
		API: api, Wallet: h.svc, NotMe: h.svc, Program: h.prog, Clock: h.clock, Locales: h.loc,
		Sessions:    sessions,
		Claims:      claims,
		Intake:      rstore.Intake{Claims: claims, Sessions: sessions},
		Codes:       rstore.NewCodes(h.rc, h.prefix),
		Attempts:    rstore.NewLinkAttempts(h.rc, h.prefix, 5, time.Hour),
		PollTimeout: time.Second,
		Retry:       bot.Retry{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// start runs a new bot process polling the fake Telegram.
func (h *harness) start(opts ...option) {
	h.t.Helper()
	b, err := bot.New(h.config(opts...))
	if err != nil {
		h.t.Fatalf("bot.New = %v", err)
	}
	h.bot = b
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { b.Poll(ctx); close(done) }()
	h.stop = func() { cancel(); <-done }
}

// restart stops the bot process and starts another, as a redeploy does.
func (h *harness) restart() {
	h.stop()
	h.start()
}

var rawID = regexp.MustCompile(`^[a-z][a-z0-9_]+$`)

// sync waits until every update so far is handled, then checks that
// nothing the bot said is a bare message ID or an unrendered template.
func (h *harness) sync() {
	h.t.Helper()
	h.tg.Sync(h.t)
	h.mu.Lock()
	defer h.mu.Unlock()
	calls := h.tg.Calls()
	for _, c := range calls[h.mark:] {
		for _, k := range []string{"text", "caption"} {
			s := c.Params[k]
			if s == "" {
				continue
			}
			if rawID.MatchString(s) || strings.Contains(s, "{{") || strings.Contains(s, "<no value>") {
				h.t.Errorf("%s %s = %q: a message ID or template was not rendered", c.Method, k, s)
			}
		}
	}
	h.mark = len(calls)
}

// send sends text as u and returns the bot's last message after handling.
func (h *harness) send(u *telegramtest.User, text string) telegramtest.Message {
	h.t.Helper()
	u.Send(text)
	h.sync()
	return u.Last()
}

// press presses the button labelled text on m and returns the update id.
func (h *harness) press(u *telegramtest.User, m telegramtest.Message, text string) int {
	h.t.Helper()
	id := u.PressButton(h.t, m, text)
	h.sync()
	return id
}

func (h *harness) T(lang, id string, data map[string]any, count ...int) string {
	return h.loc.T(lang, id, data, count...)
}

// link takes person p through the whole linking conversation as user u in
// lang and agrees to the consent.
func (h *harness) link(u *telegramtest.User, p fixtures.Person, lang string) {
	h.t.Helper()
	m := h.send(u, "/start")
	name := map[string]string{"kk": "Қазақша", "ru": "Русский"}[lang]
	if _, ok := m.Button(name); !ok {
		name = "✓ " + name
	}
	h.press(u, m, name)
	u.ShareContact(p.Phone)
	h.sync()
	m = h.send(u, p.IIN)
	if _, ok := m.Button(h.T(lang, "btn_agree", nil)); !ok {
		h.t.Fatalf("after the IIN: %q; want the consent with Agree", m.Text)
	}
	h.press(u, m, h.T(lang, "btn_agree", nil))
}

// member finds a registry member by IIN.
func (h *harness) member(iin string) wallet.MemberView {
	h.t.Helper()
	want := wallet.HashIIN(secret, iin)
	for _, fid := range []string{"F0000000", "F0000001"} {
		fv, err := h.store.FamilyView(h.ctx, fid)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, m := range fv.Members {
			if bytes.Equal(m.IINHash, want) {
				return m
			}
		}
	}
	h.t.Fatalf("no member …%s", iin[8:])
	return wallet.MemberView{}
}

// activations counts activation rows of the ledger of a family.
func (h *harness) activations(familyID string) int {
	h.t.Helper()
	var n int
	err := h.store.Pool().QueryRow(h.ctx, `SELECT count(*) FROM ledger l JOIN vouchers v ON v.id = l.voucher_id
		JOIN members m ON m.id = v.member_id WHERE m.family_id = $1 AND l.kind = 'activation'`, familyID).Scan(&n)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}
