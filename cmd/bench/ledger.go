package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"socialwallet/clock"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// benchLedger issues and annuls 1 000 000 vouchers (250 000 families of four)
// through the real Service and store, three periods in a row, against a plain
// INSERT … SELECT generate_series of 1 000 000 rows into an unindexed table of
// the vouchers' width, run before each in the same database.
func benchLedger(ctx context.Context, out io.Writer, db *scratch) error {
	const families = 250_000
	if err := seedRegistry(ctx, db, families); err != nil {
		return err
	}
	prog := program.Default()
	clk := clock.Frozen(time.Time{})
	svc := wallet.NewService(prog, clk, []byte("bench-secret-0123456789"), postgres.New(db.Pool))
	const plainTable = `CREATE TABLE plain_vouchers (
		id bigint, member_id bigint, family_id text, period date, amount bigint, balance bigint, state text,
		issued_at timestamptz, expires_at timestamptz, activated_at timestamptz, activated_by bigint, closed_at timestamptz)`
	if _, err := db.Pool.Exec(ctx, plainTable); err != nil {
		return err
	}
	plain := func() (time.Duration, error) {
		return timed(ctx, db, `INSERT INTO plain_vouchers SELECT i, i, 'F' || (i / 4), '2026-02-01', 432500, 0, 'issued',
			now(), now(), NULL, NULL, NULL FROM generate_series(1, 1000000) i`)
	}
	var plains, issues, annuls []time.Duration
	for _, month := range []time.Month{time.February, time.March, time.April} {
		p := wallet.Period{Year: 2026, Month: month}
		d, err := plain()
		if err != nil {
			return err
		}
		plains = append(plains, d)

		clk.Set(prog.PeriodStart(p).Add(5 * time.Minute))
		checkpoint(ctx, db)
		start := time.Now()
		n, err := svc.Issue(ctx, p)
		if err != nil {
			return err
		}
		if n != 4*families {
			return fmt.Errorf("issued %d; want %d", n, 4*families)
		}
		issues = append(issues, time.Since(start))

		clk.Set(prog.Deadline(p))
		checkpoint(ctx, db)
		start = time.Now()
		n, err = svc.Annul(ctx, p)
		if err != nil {
			return err
		}
		if n != 4*families {
			return fmt.Errorf("annulled %d; want %d", n, 4*families)
		}
		annuls = append(annuls, time.Since(start))
		fmt.Fprintf(out, "%s: plain insert %s, issue %s, annul %s\n", p, round(d), round(issues[len(issues)-1]), round(annuls[len(annuls)-1]))
	}
	mp, mi, ma := median(plains), median(issues), median(annuls)
	fmt.Fprintf(out, "median of 3: plain INSERT … generate_series 1 000 000 rows %s\n", round(mp))
	fmt.Fprintf(out, "issue 1 000 000 vouchers:  %s = %s plain (target ≤ 3×)\n", round(mi), ratio(mi.Seconds(), mp.Seconds()))
	fmt.Fprintf(out, "annul 1 000 000 vouchers:  %s = %s plain (target ≤ 3×)\n", round(ma), ratio(ma.Seconds(), mp.Seconds()))
	bad, err := postgres.New(db.Pool).VerifyLedger(ctx)
	if err != nil || len(bad) > 0 {
		return fmt.Errorf("ledger check after the run: %d mismatches, %v", len(bad), err)
	}
	fmt.Fprintln(out, "ledger check: every balance equals its ledger sum")
	return anatomy(ctx, out, db, mp)
}

// anatomy writes the rows issuance writes (every member, one period) into
// fresh tables that grow step by step into the vouchers table, each timed
// against the same plain insert, so that the issuance ratio can be read part
// by part: what the heap, the CHECKs, each index and the owner check cost.
func anatomy(ctx context.Context, out io.Writer, db *scratch, plain time.Duration) error {
	var opts string
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(array_to_string(reloptions, ', '), 'fillfactor = 100')
		FROM pg_class WHERE oid = 'vouchers'::regclass`).Scan(&opts); err != nil {
		return fmt.Errorf("anatomy: %w", err)
	}
	// Each step is the one before plus one part: a table clause, or a
	// statement run after the table is made.
	steps := []struct{ what, clause, after string }{
		{what: "heap of the same columns, identity id"},
		{what: "+ the CHECK constraints", clause: " INCLUDING CONSTRAINTS"},
		{what: "+ PRIMARY KEY (id)", clause: ", PRIMARY KEY (id)"},
		{what: "+ UNIQUE (period, member_id)", clause: ", UNIQUE (period, member_id)"},
		{what: "+ index on family_id", after: "; CREATE INDEX ON anatomy (family_id)"},
		{what: "+ the owner check (statement trigger)", after: `; CREATE TRIGGER anatomy_owner AFTER INSERT ON anatomy
			REFERENCING NEW TABLE AS new_vouchers FOR EACH STATEMENT EXECUTE FUNCTION vouchers_check_owner()`},
	}
	fmt.Fprintf(out, "anatomy of issuance, each step a fresh table of 1 000 000 rows from members (plain %s):\n", round(plain))
	clauses, after := "", ""
	for _, st := range steps {
		clauses += st.clause
		after += st.after
		ddl := `DROP TABLE IF EXISTS anatomy; CREATE TABLE anatomy (LIKE vouchers INCLUDING DEFAULTS INCLUDING IDENTITY` +
			clauses + `) WITH (` + opts + `)` + after
		if _, err := db.Pool.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("anatomy: %s: %w", st.what, err)
		}
		d, err := timed(ctx, db, `INSERT INTO anatomy (member_id, family_id, period, amount, issued_at, expires_at)
			SELECT m.id, m.family_id, date '2026-02-01', 432500, now(), now() FROM members m`)
		if err != nil {
			return fmt.Errorf("anatomy: %s: %w", st.what, err)
		}
		fmt.Fprintf(out, "  %-40s %8s = %s plain\n", st.what, round(d), ratio(d.Seconds(), plain.Seconds()))
	}
	_, err := db.Pool.Exec(ctx, `DROP TABLE anatomy`)
	return err
}

// seedRegistry writes families of four directly (the import path is measured
// by its own test); IIN hashes are unique stand-ins.
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
		`ANALYZE`,
	}
	for _, s := range stmts {
		var err error
		if s == `ANALYZE` {
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

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
