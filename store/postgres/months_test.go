package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// TestIssueANewMonthConcurrently issues a month that has no partition yet from
// several callers at once while the month before is being annulled: every
// call must succeed (no deadlock between the attach's locks and the others'),
// and each member must end with exactly one voucher.
func TestIssueANewMonthConcurrently(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	e.importFamilies(t, 20, 4)
	jan := wallet.Period{Year: 2026, Month: time.January}
	feb := wallet.Period{Year: 2026, Month: time.February}
	if n, err := e.svc.Issue(e.ctx, jan); n != 80 || err != nil {
		t.Fatalf("Issue(%v) = %d, %v; want 80", jan, n, err)
	}
	e.clock.Set(almaty(t, "2026-02-01 00:05:00"))

	const callers = 6
	var wg sync.WaitGroup
	issued := make([]int64, callers)
	errs := make([]error, callers+1)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			issued[i], errs[i] = e.svc.Issue(e.ctx, feb)
		}(i)
	}
	var annulled int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		annulled, errs[callers] = e.svc.Annul(e.ctx, jan)
	}()
	wg.Wait()
	var total int64
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v; want none to fail", i, err)
		}
	}
	for _, n := range issued {
		total += n
	}
	if total != 80 || annulled != 80 {
		t.Errorf("Issue(%v) ×%d issued %d in all, Annul(%v) = %d; want 80 and 80", feb, callers, total, jan, annulled)
	}
	var vouchers, members int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*), count(DISTINCT member_id) FROM vouchers WHERE period = '2026-02-01'`).Scan(&vouchers, &members)
	if vouchers != 80 || members != 80 {
		t.Errorf("February: %d vouchers of %d members; want 80 of 80", vouchers, members)
	}
	rows, _ := e.store.Pool().Query(e.ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'vouchers'::regclass ORDER BY 1`)
	parts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || fmt.Sprint(parts) != "[vouchers_2026_01 vouchers_2026_02]" {
		t.Errorf("partitions of vouchers = %v, %v; want [vouchers_2026_01 vouchers_2026_02]", parts, err)
	}
}

// TestLateMembersJoinAnIssuedMonth: a second issuance of a month, after more
// families were imported, adds only their vouchers to the month's partition
// and keeps the first ones.
func TestLateMembersJoinAnIssuedMonth(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	g := fixtures.NewGen()
	load := func(from, to int) {
		var people []fixtures.Person
		for i := from; i < to; i++ {
			people = append(people, g.Family(i, "akkol", 2)...)
		}
		var buf bytes.Buffer
		fixtures.WriteRegistry(&buf, people)
		if res, err := e.svc.ImportRegistry(e.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
			t.Fatalf("ImportRegistry() = %+v, %v", res, err)
		}
	}
	jan := wallet.Period{Year: 2026, Month: time.January}
	load(0, 2)
	if n, err := e.svc.Issue(e.ctx, jan); n != 4 || err != nil {
		t.Fatalf("Issue(%v) = %d, %v; want 4", jan, n, err)
	}
	rows, _ := e.store.Pool().Query(e.ctx, `SELECT id FROM vouchers ORDER BY id`)
	first, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	load(2, 5)
	for _, tt := range []struct {
		name string
		want int64
	}{{"the three new families' members", 6}, {"again: nothing left", 0}} {
		if n, err := e.svc.Issue(e.ctx, jan); n != tt.want || err != nil {
			t.Errorf("%s: Issue(%v) = %d, %v; want %d", tt.name, jan, n, err, tt.want)
		}
	}
	var kept, all int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FILTER (WHERE id = ANY($1)), count(*) FROM vouchers_2026_01`, first).Scan(&kept, &all)
	if kept != 4 || all != 10 {
		t.Errorf("January's partition holds %d of the first 4 vouchers and %d in all; want 4 and 10", kept, all)
	}
}

// TestMonthPartitionsMigrationKeepsEveryVoucher fills the schema before
// migration 00007 (one vouchers table, identity ids) with vouchers in every
// state and their ledger, migrates, and wants each member's month to hold the
// same voucher, renumbered, with the same ledger rows; then the service goes
// on from there.
func TestMonthPartitionsMigrationKeepsEveryVoucher(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := postgres.MigrateUpTo(ctx, pool, 6); err != nil {
		t.Fatal(err)
	}
	const before = `
	INSERT INTO families (id, city) VALUES ('A', 'akkol'), ('B', 'pavlodar');
	INSERT INTO members (family_id, iin_hmac, iin_last4, birth_date, female, full_name, role, eligible_from)
		SELECT f, sha256(convert_to(f || n, 'UTF8')), '0000', date '1980-01-01', n = 1, 'M ' || f || n,
			CASE WHEN n = 1 THEN 'applicant' ELSE 'member' END, date '2025-12-01'
		FROM unnest(ARRAY['A', 'B']) f, generate_series(1, 3) n;
	INSERT INTO periods (period, issued_at) VALUES ('2026-01-01', '2026-01-05'), ('2026-02-01', '2026-02-01');
	INSERT INTO vouchers (member_id, family_id, period, amount, issued_at, expires_at) -- ids in no useful order
		SELECT m.id, m.family_id, p, 432500, p, '2026-05-01' FROM members m, unnest(ARRAY[date '2026-01-01', date '2026-02-01']) p
		ORDER BY p DESC, m.id DESC;
	UPDATE vouchers SET state = 'activated', balance = amount, activated_at = period + interval '1 day', activated_by = member_id
		WHERE member_id % 2 = 0;
	INSERT INTO ledger (voucher_id, kind, amount, created_at) SELECT id, 'activation', amount, activated_at FROM vouchers WHERE state = 'activated';
	UPDATE vouchers SET state = 'annulled', closed_at = '2026-02-01' WHERE state = 'issued' AND period = '2026-01-01';
	UPDATE vouchers SET state = 'expired', balance = 0, closed_at = '2026-03-01' WHERE state = 'activated' AND period = '2026-01-01';
	INSERT INTO ledger (voucher_id, kind, amount, created_at) SELECT id, 'expiry', -amount, closed_at FROM vouchers WHERE state = 'expired';`
	if _, err := pool.Exec(ctx, before); err != nil {
		t.Fatal(err)
	}
	// What each member's month holds, whatever its voucher's id.
	const holdings = `SELECT v.member_id || ' ' || v.period || ' ' || v.state || ' ' || v.balance || ' ' || coalesce(v.activated_by, 0) || ' '
		|| coalesce((SELECT string_agg(l.kind || l.amount, ',' ORDER BY l.id) FROM ledger l WHERE l.voucher_id = v.id), '-')
		FROM vouchers v ORDER BY v.member_id, v.period`
	read := func() []string {
		rows, _ := pool.Query(ctx, holdings)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := read()
	if len(want) != 12 {
		t.Fatalf("before: %d vouchers; want 12", len(want))
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if got := read(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after migration:\n%s\nwant\n%s", got, want)
	}
	for _, c := range []struct{ sql, want string }{
		{`SELECT count(*) FROM vouchers WHERE id <> voucher_id(period, member_id)`, "0"},
		{`SELECT count(*) FROM ledger l LEFT JOIN vouchers v ON v.id = l.voucher_id WHERE v.id IS NULL`, "0"},
		{`SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'vouchers'::regclass`, "vouchers_2026_01 vouchers_2026_02"},
		{`SELECT count(*) FROM pg_class WHERE relname = 'vouchers_v6'`, "0"},
	} {
		var got string
		if err := pool.QueryRow(ctx, `SELECT (`+c.sql+`)::text`).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %s", c.sql, got, err, c.want)
		}
	}
	st := postgres.New(pool)
	if bad, err := st.VerifyLedger(ctx); len(bad) > 0 || err != nil {
		t.Errorf("VerifyLedger() after migration = %v, %v; want no mismatch", bad, err)
	}
	svc := wallet.NewService(program.Default(), clock.Frozen(almaty(t, "2026-03-01 00:05:00")), secret, st)
	for _, tt := range []struct {
		p    wallet.Period
		want int64
	}{{wallet.Period{Year: 2026, Month: time.February}, 0}, {wallet.Period{Year: 2026, Month: time.March}, 6}} {
		if n, err := svc.Issue(ctx, tt.p); n != tt.want || err != nil {
			t.Errorf("Issue(%v) after migration = %d, %v; want %d", tt.p, n, err, tt.want)
		}
	}
}
