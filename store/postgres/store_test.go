package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

var secret = []byte("store-test-secret-0123")

type env struct {
	ctx   context.Context
	store *postgres.Store
	svc   *wallet.Service
	clock *clock.Offset
	prog  *wallet.Program
}

// newEnv gives a test its own database and checks the ledger invariant when
// the test ends, whatever it did.
func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	pool := pgtest.Pool(t)
	st := postgres.New(pool)
	prog := program.Default()
	clk := clock.Frozen(now)
	// pgtest checks the ledger's invariant when the test ends.
	return &env{ctx: context.Background(), store: st, svc: wallet.NewService(prog, clk, secret, st), clock: clk, prog: prog}
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

// importFamilies loads n families of size people each, alternating cities.
func (e *env) importFamilies(t *testing.T, n, size int) []fixtures.Person {
	t.Helper()
	g := fixtures.NewGen()
	var people []fixtures.Person
	cities := []string{"kokshetau", "akkol", "pavlodar"}
	for i := 0; i < n; i++ {
		people = append(people, g.Family(i, cities[i%3], size)...)
	}
	var buf bytes.Buffer
	if err := fixtures.WriteRegistry(&buf, people); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.ImportRegistry(e.ctx, &buf, false)
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry() = %+v, %v", res, err)
	}
	return people
}

func (e *env) member(t *testing.T, iin string) wallet.MemberView {
	t.Helper()
	h := wallet.HashIIN(secret, iin)
	for _, fid := range e.families(t) {
		fv, err := e.store.FamilyView(e.ctx, fid)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fv.Members {
			if bytes.Equal(m.IINHash, h) {
				return m
			}
		}
	}
	t.Fatalf("no member with IIN …%s", iin[8:])
	return wallet.MemberView{}
}

func (e *env) families(t *testing.T) []string {
	t.Helper()
	rows, err := e.store.Pool().Query(e.ctx, `SELECT id FROM families ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

func TestIssueIsIdempotentAndWorthOneMRPEach(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-02-01 00:05:00"))
	e.importFamilies(t, 3, 4)
	feb := wallet.Period{Year: 2026, Month: time.February}
	n, err := e.svc.Issue(e.ctx, feb)
	if err != nil || n != 12 {
		t.Fatalf("Issue(2026-02) = %d, %v; want 12 vouchers", n, err)
	}
	first, _ := e.store.FamilyView(e.ctx, "F0000000")
	n, err = e.svc.Issue(e.ctx, feb)
	if err != nil || n != 0 {
		t.Fatalf("Issue(2026-02) again = %d, %v; want 0 new", n, err)
	}
	again, _ := e.store.FamilyView(e.ctx, "F0000000")
	if len(first.Vouchers) != 4 || len(again.Vouchers) != 4 {
		t.Fatalf("family F0000000 has %d then %d vouchers; want 4 both times", len(first.Vouchers), len(again.Vouchers))
	}
	var total wallet.Tiyn
	for i, v := range again.Vouchers {
		if v.ID != first.Vouchers[i].ID || v.State != wallet.StateIssued || v.Amount != wallet.TengeToTiyn(4325) {
			t.Errorf("voucher %d = %+v; want the same issued voucher of 4 325 ₸", i, v)
		}
		total += v.Amount
	}
	if total != wallet.TengeToTiyn(17300) {
		t.Errorf("family of four gets %s; want 17 300 ₸", total)
	}
	if _, err := e.svc.Issue(e.ctx, wallet.Period{Year: 2026, Month: time.May}); !wallet.IsCode(err, wallet.CodeOutsideProgram) {
		t.Errorf("Issue(2026-05) = %v; want outside_program", err)
	}
}

func TestIssueHonoursEligibility(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-03-01 00:05:00"))
	g := fixtures.NewGen()
	people := g.Family(1, "akkol", 3)
	people[1].EligibleTo = "2026-02-28"   // left before March
	people[2].EligibleFrom = "2026-03-02" // joins after the first day
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, people)
	if res, err := e.svc.ImportRegistry(e.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	n, err := e.svc.Issue(e.ctx, wallet.Period{Year: 2026, Month: time.March})
	if err != nil || n != 1 {
		t.Errorf("Issue(2026-03) = %d, %v; want 1 (only the member eligible on 1 March)", n, err)
	}
}

func TestConcurrentActivationsActivateOnce(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 1, 2)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	father := e.member(t, people[1].IIN)
	if err := e.svc.GiveConsent(e.ctx, father.ID); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = e.svc.Activate(e.ctx, father.ID, jan)
		}(i)
	}
	close(start)
	wg.Wait()
	ok, conflicts := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case wallet.IsCode(err, wallet.CodeConflict):
			conflicts++
		default:
			t.Errorf("Activate() = %v; want success or conflict", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Errorf("50 concurrent Activate() = %d ok, %d conflicts; want 1 and 49", ok, conflicts)
	}
	fv, _ := e.store.FamilyView(e.ctx, father.FamilyID)
	rows := 0
	for _, l := range fv.Ledger {
		if l.Kind == wallet.LedgerActivation {
			rows++
		}
	}
	if rows != 1 || fv.Remaining() != wallet.TengeToTiyn(4325) {
		t.Errorf("after the race: %d activation rows, remaining %s; want 1 row and 4 325 ₸", rows, fv.Remaining())
	}
}

func TestActivationRules(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 2, 4) // mother (applicant), father, two children
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	mother, father, child := e.member(t, people[0].IIN), e.member(t, people[1].IIN), e.member(t, people[2].IIN)
	otherMother := e.member(t, people[4].IIN)
	voucherOf := func(m wallet.MemberView) int64 {
		fv, _ := e.store.FamilyView(e.ctx, m.FamilyID)
		for _, v := range fv.Vouchers {
			if v.MemberID == m.ID {
				return v.ID
			}
		}
		t.Fatalf("no voucher for member %d", m.ID)
		return 0
	}
	if _, err := e.svc.Activate(e.ctx, mother.ID, jan); !wallet.IsCode(err, wallet.CodeConsentRequired) {
		t.Errorf("Activate(no consent) = %v; want consent_required", err)
	}
	for _, m := range []wallet.MemberView{mother, father, otherMother} {
		if err := e.svc.GiveConsent(e.ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		actor   wallet.MemberView
		voucher int64
		want    wallet.Code
	}{
		{"father may not activate the applicant's voucher", father, voucherOf(mother), wallet.CodeForbidden},
		{"father may not activate a child's voucher", father, voucherOf(child), wallet.CodeForbidden},
		{"another family's applicant may not", otherMother, voucherOf(child), wallet.CodeNotFound},
		{"applicant activates a child", mother, voucherOf(child), ""},
		{"a second time is a conflict", mother, voucherOf(child), wallet.CodeConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Activate(e.ctx, tt.actor.ID, jan, tt.voucher)
			if wallet.ErrorCode(err) != tt.want || (tt.want == "" && err != nil) {
				t.Errorf("Activate(%d, voucher %d) = %v; want %q", tt.actor.ID, tt.voucher, err, tt.want)
			}
		})
	}
	// Everything the applicant may: her own and the other child's.
	got, err := e.svc.Activate(e.ctx, mother.ID, jan)
	if err != nil || len(got) != 2 {
		t.Errorf("Activate(applicant, all) = %d vouchers, %v; want 2 (own and the second child)", len(got), err)
	}
	if err := e.svc.RevokeConsent(e.ctx, father.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Activate(e.ctx, father.ID, jan); !wallet.IsCode(err, wallet.CodeConsentRequired) {
		t.Errorf("Activate(revoked consent) = %v; want consent_required", err)
	}
	e.clock.Set(almaty(t, "2026-02-01 00:00:00"))
	if _, err := e.svc.Activate(e.ctx, father.ID, jan); !wallet.IsCode(err, wallet.CodeDeadlinePassed) {
		t.Errorf("Activate(at the deadline) = %v; want deadline_passed", err)
	}
}

func TestActivationRacingAnnulmentEndsAsOne(t *testing.T) {
	deadline := almaty(t, "2026-02-01 00:00:00")
	e := newEnv(t, deadline)
	const families = 30
	people := e.importFamilies(t, families, 2)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	var fathers []wallet.MemberView
	for i := 0; i < families; i++ {
		f := e.member(t, people[i*2+1].IIN)
		if err := e.svc.GiveConsent(e.ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		fathers = append(fathers, f)
	}
	lastSecond := deadline.Add(-time.Second)
	var wg sync.WaitGroup
	start := make(chan struct{})
	activated := make([]bool, families)
	for i, f := range fathers {
		wg.Add(1)
		go func(i int, f wallet.MemberView) {
			defer wg.Done()
			<-start
			// Spread the activations around the annulment so both orders happen.
			time.Sleep(time.Duration(i) * 400 * time.Microsecond)
			_, err := e.store.ActivateVouchers(e.ctx, wallet.ActivateSpec{
				ActorID: f.ID, Period: jan, Now: lastSecond, Deadline: deadline,
				Allowed: func(a, tg wallet.Member, c wallet.Consent) error { return e.prog.CanActivate(a, tg, c, jan) },
			})
			activated[i] = err == nil
			if err != nil && !wallet.IsCode(err, wallet.CodeDeadlinePassed) {
				t.Errorf("ActivateVouchers() = %v; want success or deadline_passed", err)
			}
		}(i, f)
	}
	var annulled int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		time.Sleep(families / 2 * 400 * time.Microsecond)
		var err error
		annulled, err = e.svc.Annul(e.ctx, jan)
		if err != nil {
			t.Errorf("Annul() = %v", err)
		}
	}()
	close(start)
	wg.Wait()
	won := 0
	for i, f := range fathers {
		fv, _ := e.store.FamilyView(e.ctx, f.FamilyID)
		for _, v := range fv.Vouchers {
			if v.MemberID != f.ID {
				if v.State != wallet.StateAnnulled {
					t.Errorf("mother's voucher %d is %s; want annulled", v.ID, v.State)
				}
				continue
			}
			switch {
			case activated[i] && v.State == wallet.StateActivated:
				won++
			case !activated[i] && v.State == wallet.StateAnnulled:
			default:
				t.Errorf("voucher %d: activation returned ok=%v but state is %s", v.ID, activated[i], v.State)
			}
		}
	}
	if int(annulled) != 2*families-won {
		t.Errorf("Annul() = %d; want %d (every voucher not activated)", annulled, 2*families-won)
	}
	t.Logf("of %d races, %d activations won and %d lost to the annulment", families, won, families-won)
}

func TestAnnulRefusesBeforeTheDeadline(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-31 23:59:59"))
	e.importFamilies(t, 1, 1)
	jan := wallet.Period{Year: 2026, Month: time.January}
	e.svc.Issue(e.ctx, jan)
	if n, err := e.svc.Annul(e.ctx, jan); !wallet.IsCode(err, wallet.CodeTooEarly) || n != 0 {
		t.Errorf("Annul(before deadline) = %d, %v; want too_early", n, err)
	}
	e.clock.Set(almaty(t, "2026-02-01 00:00:00"))
	if n, err := e.svc.Annul(e.ctx, jan); err != nil || n != 1 {
		t.Errorf("Annul(at deadline) = %d, %v; want 1", n, err)
	}
}

func TestExpiryLapsesActivatedValue(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-04-10 12:00:00"))
	people := e.importFamilies(t, 1, 1)
	apr := wallet.Period{Year: 2026, Month: time.April}
	e.svc.Issue(e.ctx, apr)
	m := e.member(t, people[0].IIN)
	e.svc.GiveConsent(e.ctx, m.ID)
	if _, err := e.svc.Activate(e.ctx, m.ID, apr); err != nil {
		t.Fatal(err)
	}
	if n, _, err := e.svc.ExpireFunds(e.ctx); err != nil || n != 0 {
		t.Errorf("ExpireFunds(before programme end) = %d, %v; want 0", n, err)
	}
	e.clock.Set(almaty(t, "2026-05-01 00:00:00"))
	n, lapsed, err := e.svc.ExpireFunds(e.ctx)
	if err != nil || n != 1 || lapsed != wallet.TengeToTiyn(4325) {
		t.Errorf("ExpireFunds(at programme end) = %d, %s, %v; want 1 voucher, 4 325 ₸", n, lapsed, err)
	}
	fv, _ := e.store.FamilyView(e.ctx, m.FamilyID)
	if fv.Remaining() != 0 || fv.Vouchers[0].State != wallet.StateExpired || len(fv.Ledger) != 2 {
		t.Errorf("after expiry: remaining %s, state %s, %d ledger rows; want 0, expired, 2", fv.Remaining(), fv.Vouchers[0].State, len(fv.Ledger))
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 1, 1)
	jan := wallet.Period{Year: 2026, Month: time.January}
	e.svc.Issue(e.ctx, jan)
	m := e.member(t, people[0].IIN)
	e.svc.GiveConsent(e.ctx, m.ID)
	e.svc.Activate(e.ctx, m.ID, jan)
	e.svc.Issue(e.ctx, wallet.Period{Year: 2026, Month: time.February}) // one voucher left to activate
	// Each statement must be refused for its own reason (SQLSTATE), not for a
	// typo or a column that no longer exists.
	const (
		appendOnly = "P0001" // a trigger's RAISE
		fixed      = "23000" // vouchers_fixed
		foreignKey = "23503" // a reference checked by a trigger, as a foreign key would
		unique     = "23505"
		check      = "23514" // a CHECK, or no month partition for the row
	)
	for _, c := range []struct{ sql, code string }{
		{`UPDATE ledger SET amount = amount * 2`, appendOnly},
		{`DELETE FROM ledger`, appendOnly},
		{`TRUNCATE ledger CASCADE`, appendOnly},
		{`UPDATE vouchers SET balance = -1`, check},
		{`UPDATE vouchers SET balance = amount + 1`, check},
		{`UPDATE vouchers SET state = 'annulled', closed_at = now()`, check}, // annulled with value
		{`UPDATE vouchers SET state = 'gone'`, check},
		{`INSERT INTO ledger (voucher_id, kind, amount, created_at) SELECT id, 'activation', amount, now() FROM vouchers`, unique},
		{`INSERT INTO ledger (voucher_id, kind, amount, created_at) VALUES (1, 'activation', 1, now())`, foreignKey},
		// a second voucher of the member's month
		{`INSERT INTO vouchers (id, member_id, period, amount, issued_at, expires_at)
			SELECT voucher_id('2026-01-01', id), id, '2026-01-01', 1, now(), now() FROM members LIMIT 1`, unique},
		// an id that is not the month's and member's
		{`INSERT INTO vouchers (id, member_id, period, amount, issued_at, expires_at)
			SELECT voucher_id('2026-01-01', id) + 1, id, '2026-01-01', 1, now(), now() FROM members LIMIT 1`, check},
		{`INSERT INTO vouchers (id, member_id, period, amount, issued_at, expires_at)
			VALUES (voucher_id('2026-01-01', 999999), 999999, '2026-01-01', 1, now(), now())`, foreignKey},
		// a month that was not opened, and a day that is not a month
		{`INSERT INTO vouchers (id, member_id, period, amount, issued_at, expires_at)
			SELECT voucher_id('2026-03-01', id), id, '2026-03-01', 1, now(), now() FROM members LIMIT 1`, check},
		{`INSERT INTO vouchers (id, member_id, period, amount, issued_at, expires_at)
			SELECT voucher_id('2026-01-15', id), id, '2026-01-15', 1, now(), now() FROM members LIMIT 1`, check},
		{`UPDATE vouchers SET member_id = member_id + 1`, check}, // no longer the id's member
		{`UPDATE vouchers SET id = id + 1`, check},
		{`UPDATE vouchers SET amount = amount * 2`, fixed},
		{`UPDATE vouchers_2026_01 SET amount = amount * 2`, fixed}, // the partition by its own name
		{`UPDATE vouchers SET activated_by = NULL WHERE state = 'activated'`, check},
		// February's voucher booked as activated by someone outside the family
		{`WITH a AS (UPDATE vouchers SET state = 'activated', balance = amount, activated_at = now(), activated_by = member_id + 1000
				WHERE period = '2026-02-01' RETURNING id, amount)
			INSERT INTO ledger (voucher_id, kind, amount, created_at) SELECT id, 'activation', amount, now() FROM a`, foreignKey},
		// a month's partition filled by hand: its owners are checked as it is attached
		{`INSERT INTO periods VALUES ('2026-03-01'); SELECT open_voucher_month('2026-03-01');
			INSERT INTO vouchers_2026_03 (id, member_id, period, amount, issued_at, expires_at)
				VALUES (voucher_id('2026-03-01', 999999), 999999, '2026-03-01', 1, now(), now());
			SELECT attach_voucher_month('2026-03-01')`, foreignKey},
		{`SELECT open_voucher_month('2026-04-01'); SELECT attach_voucher_month('2026-04-01')`, foreignKey}, // month not opened
		{`DELETE FROM vouchers`, appendOnly},
		{`TRUNCATE vouchers`, appendOnly},
		{`TRUNCATE vouchers_2026_01`, appendOnly},
		{`DELETE FROM members`, appendOnly},
		{`DELETE FROM families`, appendOnly},
		{`DELETE FROM periods`, appendOnly},
	} {
		_, err := e.store.Pool().Exec(e.ctx, c.sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != c.code {
			t.Errorf("%s: %v; want refused with SQLSTATE %s", c.sql, err, c.code)
		}
	}
}

// TestVoucherUpdatesCanStayInPlace guards the schema decision that keeps
// activation, purchases and annulment cheap: an index that names state,
// balance or closed_at would turn every such update into a full new row
// with new entries in every index (see BENCHMARKS.md).
func TestVoucherUpdatesCanStayInPlace(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	rows, err := e.store.Pool().Query(e.ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vouchers'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, def string
		rows.Scan(&name, &def)
		for _, col := range []string{"state", "balance", "closed_at", "activated_at", "activated_by"} {
			if strings.Contains(def, col) {
				t.Errorf("index %s mentions %s: %s", name, col, def)
			}
		}
	}
}

// TestNoRowTriggerOnVoucherUpdates guards the other half of that decision: a
// row trigger on UPDATE (which every foreign key on or to vouchers brings)
// makes PostgreSQL fetch or lock each updated row again, a sixth to a third of
// an annulment (BENCHMARKS.md). The references are checked where rows are
// written instead (TestLedgerIsAppendOnly).
func TestNoRowTriggerOnVoucherUpdates(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	e.importFamilies(t, 1, 2)
	e.svc.Issue(e.ctx, wallet.Period{Year: 2026, Month: time.January}) // a partition, with the triggers it gets
	const q = `WITH t AS (SELECT 'vouchers'::regclass AS oid UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = 'vouchers'::regclass)
		SELECT tg.tgrelid::regclass || ' ' || tg.tgname FROM pg_trigger tg JOIN t ON t.oid = tg.tgrelid
		WHERE tg.tgtype & 1 = 1 AND tg.tgtype & 16 = 16 -- FOR EACH ROW, UPDATE
		UNION ALL
		SELECT c.conrelid::regclass || ' ' || c.conname FROM pg_constraint c JOIN t ON t.oid IN (c.conrelid, c.confrelid)
		WHERE c.contype = 'f'`
	rows, err := e.store.Pool().Query(e.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(found) > 0 {
		t.Errorf("row triggers on UPDATE and foreign keys on or to vouchers: %v, %v; want none", found, err)
	}
	var triggers int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM pg_trigger WHERE tgrelid = 'vouchers_2026_01'::regclass`).Scan(&triggers)
	if triggers < 4 {
		t.Errorf("January's partition has %d triggers; want its insert, delete, truncate and update-of-fixed-columns checks", triggers)
	}
}

// TestOpenTurnsJITOff: the service's pool compiles no statement unless its
// DATABASE_URL asks for it.
func TestOpenTurnsJITOff(t *testing.T) {
	plain := pgtest.URL(t)
	u, err := url.Parse(plain)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("jit", "on")
	u.RawQuery = q.Encode()
	for _, tt := range []struct{ name, url, want string }{
		{"default", plain, "off"},
		{"asked for", u.String(), "on"},
	} {
		pool, err := postgres.Open(context.Background(), tt.url)
		if err != nil {
			t.Fatalf("%s: Open() = %v", tt.name, err)
		}
		var got string
		err = pool.QueryRow(context.Background(), `SHOW jit`).Scan(&got)
		pool.Close()
		if err != nil || got != tt.want {
			t.Errorf("%s: SHOW jit = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}
