package pos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"socialwallet/clock"
	"socialwallet/data"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/internal/redistest"
	"socialwallet/pos"
	"socialwallet/program"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

var (
	secret  = []byte("pos-test-secret-0123456789")
	almaty  = mustZone("Asia/Almaty")
	start   = time.Date(2026, 1, 20, 12, 0, 0, 0, almaty)
	january = wallet.Period{Year: 2026, Month: time.January}
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// world is the cashier API over real HTTP on a fresh PostgreSQL database and
// a Redis key prefix of its own: one family of four with January's vouchers
// activated (4 × 4 325 ₸), the shipped catalogue, and one store with a 15 %
// discount.
type world struct {
	t        testing.TB
	ctx      context.Context
	pool     *pgxpool.Pool
	store    *postgres.Store
	prog     *wallet.Program
	svc      *wallet.Service
	clock    *clock.Offset
	codes    *rstore.Codes
	redis    *goredis.Client
	prefix   string // of this test's Redis keys
	url      string
	client   *http.Client
	key      string // the store's API key
	merchant int64
	log      *syncBuffer
	family   string
	members  []int64  // applicant, father, two children
	names    []string // their registry names, in the same order
}

// on is the same world reporting to t (a subtest).
func (w *world) on(t testing.TB) *world {
	c := *w
	c.t = t
	return &c
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t testing.TB, tune ...func(*wallet.Program)) *world {
	t.Helper()
	return newWorldConns(t, 16, tune...)
}

// testPool opens a pool of at most conns connections on a fresh database.
// The tests' own bound: many test packages share one server, and requests
// beyond it queue for a connection as they would in production.
func testPool(t testing.TB, conns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newWorldConns is newWorld with a pool of conns connections.
func newWorldConns(t testing.TB, conns int32, tune ...func(*wallet.Program)) *world {
	t.Helper()
	ctx := context.Background()
	pool := testPool(t, conns)
	rc, prefix := redistest.Client(t)
	st := postgres.New(pool)
	prog := program.Default()
	for _, f := range tune {
		f(prog)
	}
	clk := clock.Frozen(start)
	w := &world{t: t, ctx: ctx, pool: pool, store: st, prog: prog, clock: clk,
		svc: wallet.NewService(prog, clk, secret, st), codes: rstore.NewCodes(rc, prefix), redis: rc, prefix: prefix, log: &syncBuffer{}}
	// pgtest checks the ledger's invariant when the test ends.

	if _, bad, err := w.svc.ImportCatalog(ctx, data.SZPT()); err != nil || len(bad) > 0 {
		t.Fatalf("ImportCatalog() = %v, %v", bad, err)
	}
	w.family, w.members, w.names = w.addFamily(1)
	id, key, err := w.svc.AddMerchant(ctx, wallet.Merchant{Name: "Дәмді", City: "kokshetau", Address: "Абай көшесі, 10", Lat: 53.28, Lon: 69.39, DiscountBP: 1500})
	if err != nil {
		t.Fatalf("AddMerchant() = %v", err)
	}
	w.merchant, w.key = id, key

	api := pos.New(pos.Config{
		Wallet:  w.svc,
		Codes:   w.codes,
		Limiter: rstore.NewCodeLimiter(rc, prefix),
		Log:     slog.New(slog.NewJSONHandler(w.log, nil)),
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	w.client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	return w
}

// addFamily imports family n of four from the registry, issues January and
// has both adults consent and activate: the applicant activates her own and
// the children's vouchers, the father his own.
func (w *world) addFamily(n int) (string, []int64, []string) {
	w.t.Helper()
	people := fixtures.NewGen().Family(n, "kokshetau", 4)
	var buf bytes.Buffer
	if err := fixtures.WriteRegistry(&buf, people); err != nil {
		w.t.Fatal(err)
	}
	if res, err := w.svc.ImportRegistry(w.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		w.t.Fatalf("ImportRegistry() = %+v, %v", res, err)
	}
	if _, err := w.svc.Issue(w.ctx, january); err != nil {
		w.t.Fatalf("Issue() = %v", err)
	}
	fid := people[0].FamilyID
	var ids []int64
	var names []string
	rows, err := w.pool.Query(w.ctx, `SELECT id, full_name FROM members WHERE family_id = $1 ORDER BY role = 'member', birth_date, id`, fid)
	if err != nil {
		w.t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var name string
		if err = rows.Scan(&id, &name); err != nil {
			break
		}
		ids, names = append(ids, id), append(names, name)
	}
	rows.Close()
	if err != nil || len(ids) != 4 {
		w.t.Fatalf("members of %s = %v, %v", fid, ids, err)
	}
	for _, adult := range ids[:2] {
		if err := w.svc.GiveConsent(w.ctx, adult); err != nil {
			w.t.Fatalf("GiveConsent(%d) = %v", adult, err)
		}
		if _, err := w.svc.Activate(w.ctx, adult, january); err != nil {
			w.t.Fatalf("Activate(%d) = %v", adult, err)
		}
	}
	return fid, ids, names
}

// qr is what the bot hands the member: a fresh signed QR token.
func (w *world) qr(member int64) string {
	w.t.Helper()
	_, signed, err := w.svc.IssueQR(w.ctx, member)
	if err != nil {
		w.t.Fatalf("IssueQR(%d) = %v", member, err)
	}
	return signed
}

// code is what the bot prints under the QR code: 8 digits standing for a
// fresh token, kept in Redis the way the bot keeps it.
func (w *world) code(member int64) string {
	w.t.Helper()
	signed := w.qr(member)
	for {
		code := wallet.NewFallbackCode()
		err := w.codes.Replace(w.ctx, member, code, signed, w.prog.QRLifetime)
		if wallet.IsCode(err, wallet.CodeConflict) {
			continue
		}
		if err != nil {
			w.t.Fatalf("codes.Replace() = %v", err)
		}
		return code
	}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request with the store's key unless hdr sets Authorization
// (to "" for none).
func (w *world) do(method, path string, body any, hdr map[string]string) reply {
	w.t.Helper()
	r, err := w.send(method, path, body, hdr)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// send is do for goroutines other than the test's: it reports instead of
// stopping the test.
func (w *world) send(method, path string, body any, hdr map[string]string) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(w.ctx, method, w.url+path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+w.key)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

type line struct {
	Product       string `json:"product"`
	QtyMilli      int64  `json:"qty_milli"`
	UnitPriceTiyn int64  `json:"unit_price_tiyn"`
}

type purchase struct {
	Token     string `json:"token,omitempty"`
	Code      string `json:"code,omitempty"`
	ReceiptNo string `json:"receipt_no"`
	Lines     []line `json:"lines"`
}

// A small basket: 1.5 kg potatoes at 250 ₸ and 1 l milk at 480 ₸ — gross
// 855 ₸, discount 128,25 ₸, net 726,75 ₸.
var basket = []line{{"potato", 1500, 25000}, {"milk", 1000, 48000}}

var idem int

func (w *world) redeem(p purchase) reply {
	w.t.Helper()
	idem++
	return w.do("POST", "/v1/redemptions", p, map[string]string{"Idempotency-Key": fmt.Sprintf("key-%d-%d", time.Now().UnixNano(), idem)})
}

type pricedLine struct {
	LineNo        int    `json:"line_no"`
	Product       string `json:"product"`
	QtyMilli      int64  `json:"qty_milli"`
	UnitPriceTiyn int64  `json:"unit_price_tiyn"`
	GrossTiyn     int64  `json:"gross_tiyn"`
	DiscountTiyn  int64  `json:"discount_tiyn"`
	NetTiyn       int64  `json:"net_tiyn"`
}

type voidPart struct {
	VoidedAt            time.Time `json:"voided_at"`
	ReturnedTiyn        int64     `json:"returned_tiyn"`
	LapsedTiyn          int64     `json:"lapsed_tiyn"`
	FamilyRemainingTiyn int64     `json:"family_remaining_tiyn"`
}

type redemption struct {
	ID                  int64        `json:"id"`
	Status              string       `json:"status"`
	ReceiptNo           string       `json:"receipt_no"`
	Member              string       `json:"member"`
	CreatedAt           time.Time    `json:"created_at"`
	Mode                string       `json:"mode"`
	DiscountBP          int          `json:"discount_bp"`
	Lines               []pricedLine `json:"lines"`
	GrossTiyn           int64        `json:"gross_tiyn"`
	DiscountTiyn        int64        `json:"discount_tiyn"`
	NetTiyn             int64        `json:"net_tiyn"`
	CoveredTiyn         int64        `json:"covered_tiyn"`
	ToPayTiyn           int64        `json:"to_pay_tiyn"`
	FamilyRemainingTiyn int64        `json:"family_remaining_tiyn"`
	Void                *voidPart    `json:"void"`
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func (w *world) created(r reply) redemption {
	w.t.Helper()
	if r.status != http.StatusCreated {
		w.t.Fatalf("POST /v1/redemptions = %s; want 201", r)
	}
	return w.decodeRedemption(r)
}

func (w *world) decodeRedemption(r reply) redemption {
	w.t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		w.t.Fatalf("Content-Type = %q; want application/json (%s)", ct, r)
	}
	var red redemption
	if err := json.Unmarshal(r.body, &red); err != nil {
		w.t.Fatalf("decode %s: %v", r, err)
	}
	return red
}

// problemOf checks r is a problem with code and status and returns it.
func (w *world) problemOf(r reply, status int, code string) problem {
	w.t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		w.t.Fatalf("Content-Type = %q; want application/problem+json (%s)", ct, r)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		w.t.Fatalf("decode problem %s: %v", r, err)
	}
	if r.status != status || p.Status != status || p.Code != code {
		w.t.Fatalf("answer = %s; want %d %s", r, status, code)
	}
	if p.Detail == "" || p.Title == "" || p.Type != "urn:socialwallet:problem:"+code {
		w.t.Errorf("problem %+v lacks a title, detail or type", p)
	}
	return p
}

// money is everything that says what was charged: each voucher's balance and
// state, and the count of ledger rows, purchases, used tokens and queued
// messages.
type money struct {
	Vouchers      map[int64]string
	Ledger        int
	Purchases     int
	UsedTokens    int
	Notifications int
}

func (w *world) money() money {
	w.t.Helper()
	m := money{Vouchers: map[int64]string{}}
	rows, err := w.pool.Query(w.ctx, `SELECT id, balance || ' ' || state FROM vouchers`)
	if err != nil {
		w.t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var s string
		rows.Scan(&id, &s)
		m.Vouchers[id] = s
	}
	rows.Close()
	err = w.pool.QueryRow(w.ctx, `SELECT (SELECT count(*) FROM ledger), (SELECT count(*) FROM redemptions),
		(SELECT count(*) FROM qr_tokens WHERE used_at IS NOT NULL), (SELECT count(*) FROM notifications)`).
		Scan(&m.Ledger, &m.Purchases, &m.UsedTokens, &m.Notifications)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func (w *world) sameMoney(before money, what string) {
	w.t.Helper()
	after := w.money()
	if fmt.Sprint(after) != fmt.Sprint(before) {
		w.t.Errorf("%s charged something:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// remaining is the family's spendable value as the database says.
func (w *world) remaining(family string) int64 {
	w.t.Helper()
	var n int64
	err := w.pool.QueryRow(w.ctx, `SELECT coalesce(sum(v.balance), 0) FROM vouchers v JOIN members m ON m.id = v.member_id
		WHERE m.family_id = $1 AND v.state = 'activated' AND v.expires_at > $2`,
		family, w.clock.Now()).Scan(&n)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// checkBooks asserts what protects the money after concurrent work: no
// voucher below zero or above its amount, and every balance equal to its
// ledger sum.
func (w *world) checkBooks() {
	w.t.Helper()
	var bad int
	if err := w.pool.QueryRow(w.ctx, `SELECT count(*) FROM vouchers WHERE balance < 0 OR balance > amount`).Scan(&bad); err != nil || bad > 0 {
		w.t.Errorf("%d vouchers out of range (%v)", bad, err)
	}
	mis, err := w.store.VerifyLedger(w.ctx)
	if err != nil || len(mis) > 0 {
		w.t.Errorf("VerifyLedger() = %v, %v", mis, err)
	}
}
