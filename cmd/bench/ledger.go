package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"socialwallet/clock"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// benchLedger issues and annuls 1 000 000 vouchers (250 000 families of four)
// through the real Service and store, three periods in a row, each against a
// plain INSERT … SELECT generate_series of 1 000 000 rows into an unindexed
// table of the vouchers' width, timed right before it in the same database.
func benchLedger(ctx context.Context, out io.Writer, db *scratch) error {
	const families = 250_000
	if err := seedRegistry(ctx, db, families); err != nil {
		return err
	}
	prog := program.Default()
	clk := clock.Frozen(time.Time{})
	svc := wallet.NewService(prog, clk, []byte("bench-secret-0123456789"), postgres.New(db.Pool))
	const plainTable = `CREATE TABLE plain_vouchers (
		id bigint, member_id bigint, period date, amount bigint, balance bigint, state text,
		issued_at timestamptz, expires_at timestamptz, activated_at timestamptz, activated_by bigint, closed_at timestamptz)`
	if _, err := db.Pool.Exec(ctx, plainTable); err != nil {
		return err
	}
	// The baseline is the median of three back-to-back runs, just before the
	// step it measures: this shared machine's speed drifts by tens of per cent
	// within a minute, so a ratio compares like with like only close in time.
	plain := func() (time.Duration, error) {
		var ds []time.Duration
		for i := 0; i < 3; i++ {
			if _, err := db.Pool.Exec(ctx, `TRUNCATE plain_vouchers`); err != nil {
				return 0, err
			}
			d, err := timed(ctx, db, `INSERT INTO plain_vouchers SELECT i, i, '2026-02-01', 432500, 0, 'issued',
				now(), now(), NULL, NULL, NULL FROM generate_series(1, 1000000) i`)
			if err != nil {
				return 0, err
			}
			ds = append(ds, d)
		}
		return median(ds), nil
	}
	step := func(name string, n func() (int64, error)) (float64, string, error) {
		base, err := plain()
		if err != nil {
			return 0, "", err
		}
		checkpoint(ctx, db)
		start := time.Now()
		got, err := n()
		took := time.Since(start)
		if err != nil {
			return 0, "", err
		}
		if got != 4*families {
			return 0, "", fmt.Errorf("%s: %d vouchers; want %d", name, got, 4*families)
		}
		r := took.Seconds() / base.Seconds()
		return r, fmt.Sprintf("%s %s (plain %s) = %s", name, round(took), round(base), ratio(took.Seconds(), base.Seconds())), nil
	}
	var issues, annuls []float64
	for _, month := range []time.Month{time.February, time.March, time.April} {
		p := wallet.Period{Year: 2026, Month: month}
		clk.Set(prog.PeriodStart(p).Add(5 * time.Minute))
		ri, issued, err := step("issue", func() (int64, error) { return svc.Issue(ctx, p) })
		if err != nil {
			return err
		}
		clk.Set(prog.Deadline(p))
		ra, annulled, err := step("annul", func() (int64, error) { return svc.Annul(ctx, p) })
		if err != nil {
			return err
		}
		issues, annuls = append(issues, ri), append(annuls, ra)
		fmt.Fprintf(out, "%s: %s; %s\n", p, issued, annulled)
	}
	mi, ma := medianOf(issues), medianOf(annuls)
	fmt.Fprintf(out, "issue 1 000 000 vouchers: median %s plain (target ≤ 3×)\n", ratio(mi, 1))
	fmt.Fprintf(out, "annul 1 000 000 vouchers: median %s plain (target ≤ 3×)\n", ratio(ma, 1))
	bad, err := postgres.New(db.Pool).VerifyLedger(ctx)
	if err != nil || len(bad) > 0 {
		return fmt.Errorf("ledger check after the run: %d mismatches, %v", len(bad), err)
	}
	fmt.Fprintln(out, "ledger check: every balance equals its ledger sum")
	return anatomy(ctx, out, db, plain)
}

// anatomy writes the rows issuance writes (every member, one month) into a
// fresh month partition of a fresh table that grows step by step into the
// vouchers table, filled and attached as issue_voucher_month does it, each
// timed against its own plain insert, so that the issuance ratio can be read
// part by part: what the heap, the CHECKs and the key cost.
func anatomy(ctx context.Context, out io.Writer, db *scratch, plain func() (time.Duration, error)) error {
	var opts string
	if err := db.Pool.QueryRow(ctx, `SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE relname = 'vouchers_2026_02'`).Scan(&opts); err != nil {
		return fmt.Errorf("anatomy: %w", err)
	}
	// Constant bounds, as open_voucher_month writes them, let the attach see
	// that no row lies outside the partition without reading them.
	var lo, hi string
	if err := db.Pool.QueryRow(ctx, `SELECT voucher_id('2026-02-01', 0)::text, voucher_id('2026-03-01', 0)::text`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("anatomy: %w", err)
	}
	steps := []struct{ what, parent, part string }{
		{what: "heap of the vouchers' columns"},
		{what: "+ the CHECK constraints", parent: " INCLUDING CONSTRAINTS", part: "; ALTER TABLE anatomy_feb ADD CHECK (period = '2026-02-01')"},
		{what: "+ PRIMARY KEY (id), built at attach", parent: ", PRIMARY KEY (id)"},
	}
	fmt.Fprintln(out, "anatomy of issuance, each step a fresh month of 1 000 000 rows from members:")
	parent, part := "", ""
	for _, st := range steps {
		parent += st.parent
		part += st.part
		if _, err := db.Pool.Exec(ctx, `DROP TABLE IF EXISTS anatomy; CREATE TABLE anatomy (LIKE vouchers INCLUDING DEFAULTS`+parent+`) PARTITION BY RANGE (id)`); err != nil {
			return fmt.Errorf("anatomy: %s: %w", st.what, err)
		}
		base, err := plain()
		if err != nil {
			return fmt.Errorf("anatomy: %w", err)
		}
		// In one transaction with the partition's creation, as in the store.
		d, err := timed(ctx, db, `BEGIN;
			SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL jit = off;
			CREATE TABLE anatomy_feb (LIKE anatomy INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (`+opts+`);
			ALTER TABLE anatomy_feb ADD CHECK (id >= `+lo+` AND id < `+hi+`)`+part+`;
			INSERT INTO anatomy_feb (id, member_id, period, amount, issued_at, expires_at)
				SELECT voucher_id('2026-02-01', m.id), m.id, date '2026-02-01', 432500, now(), now() FROM members m;
			ALTER TABLE anatomy ATTACH PARTITION anatomy_feb FOR VALUES FROM (`+lo+`) TO (`+hi+`);
			COMMIT`)
		if err != nil {
			return fmt.Errorf("anatomy: %s: %w", st.what, err)
		}
		fmt.Fprintf(out, "  %-40s %8s (plain %s) = %s\n", st.what, round(d), round(base), ratio(d.Seconds(), base.Seconds()))
	}
	_, err := db.Pool.Exec(ctx, `DROP TABLE anatomy`)
	return err
}

// seedRegistry writes families of four directly (the import path is measured
// by its own test) and ends as import-registry does; IIN hashes are unique
// stand-ins.
func seedRegistry(ctx context.Context, db *scratch, families int) error {
	stmts := []string{
		`INSERT INTO families (id, city) SELECT 'F' || f, (ARRAY['kokshetau','akkol','pavlodar'])[1 + f % 3]
			FROM generate_series(0, $1 - 1) f`,
		`INSERT INTO members (family_id, iin_hmac, iin_last4, birth_date, female, full_name, phone, role, eligible_from)
			SELECT 'F' || (i / 4), sha256(int8send(i)), lpad((i % 10000)::text, 4, '0'),
				CASE WHEN i % 4 < 2 THEN date '1985-01-01' ELSE date '2014-01-01' END, i % 2 = 0,
				'Bench Person', CASE WHEN i % 4 = 0 THEN '+7701' || lpad(i::text, 7, '0') END,
				CASE WHEN i % 4 = 0 THEN 'applicant' ELSE 'member' END, date '2025-12-01'
			FROM generate_series(0, $1 * 4 - 1) i`,
		`VACUUM (ANALYZE) members, families`, // as import-registry ends
	}
	for _, s := range stmts {
		var err error
		if strings.HasPrefix(s, `VACUUM`) {
			_, err = db.Pool.Exec(ctx, s)
		} else {
			_, err = db.Pool.Exec(ctx, s, families)
		}
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func timed(ctx context.Context, db *scratch, sql string) (time.Duration, error) {
	checkpoint(ctx, db)
	start := time.Now()
	_, err := db.Pool.Exec(ctx, sql)
	return time.Since(start), err
}

// checkpoint flushes dirty pages so one step's writes are not billed to the next.
func checkpoint(ctx context.Context, db *scratch) { db.Pool.Exec(ctx, "CHECKPOINT") }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
