package postgres_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"socialwallet/internal/pgtest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// BenchmarkReportFigures reads a four-month report over a pilot of
// REPORT_BENCH_FAMILIES families (default 10 000: 30 000 recipients, 120 000
// vouchers, ~100 000 ledger rows, 40 000 purchases, 36 000 reminders), written
// set-based in SQL so the setup takes seconds. Figures go to BENCHMARKS.md.
func BenchmarkReportFigures(b *testing.B) {
	families := 10_000
	if v := os.Getenv("REPORT_BENCH_FAMILIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("REPORT_BENCH_FAMILIES=%q: want a positive number", v)
		}
		families = n
	}
	ctx := context.Background()
	pool := pgtest.Pool(b)
	prog := program.Default()
	start := time.Now()
	// Three members a family, a voucher each per month; 85 % activated (the
	// rest annulled); the applicant's family spends 2 000 ₸ once a month;
	// 70 % linked, 60 % consented, 30 % reminded.
	const seed = `
	INSERT INTO families (id, city)
		SELECT 'B' || i, (ARRAY['kokshetau', 'akkol', 'pavlodar'])[1 + i % 3] FROM generate_series(1, $1) i;
	INSERT INTO members (family_id, iin_hmac, iin_last4, birth_date, female, full_name, role, eligible_from)
		SELECT 'B' || i, decode(md5(i || '-' || j) || md5(j || '-' || i), 'hex'), '0000', date '1985-01-01', j <> 2,
			'Бенч ' || i, CASE WHEN j = 1 THEN 'applicant' ELSE 'member' END, date '2025-12-01'
		FROM generate_series(1, $1) i, generate_series(1, 3) j;
	INSERT INTO periods (period) SELECT generate_series(date '2026-01-01', date '2026-04-01', interval '1 month');
	INSERT INTO merchants (name, city, lat, lon, discount_bp, api_key_hash, created_at)
		SELECT 'М' || k, (ARRAY['kokshetau', 'akkol', 'pavlodar'])[1 + k % 3], 53, 70, 1500, decode(md5('k' || k) || md5(k || 'k'), 'hex'), now()
		FROM generate_series(1, 30) k;
	SELECT open_voucher_month(period), attach_voucher_month(period) FROM periods;
	INSERT INTO vouchers (id, member_id, period, amount, balance, state, issued_at, expires_at, activated_at, activated_by, closed_at)
		SELECT voucher_id(p::date, m.id), m.id, p, 432500,
			CASE WHEN act THEN 432500 ELSE 0 END,
			CASE WHEN act THEN 'activated' ELSE 'annulled' END,
			p + interval '5 minutes', timestamptz '2026-05-01 00:00+05',
			CASE WHEN act THEN p + make_interval(days => (m.id % 27)::int, hours => 10) END,
			CASE WHEN act THEN m.id END,
			CASE WHEN act THEN NULL ELSE (p + interval '1 month')::timestamptz END
		FROM members m, generate_series(date '2026-01-01', date '2026-04-01', interval '1 month') p,
			LATERAL (SELECT (m.id * 7 + extract(month FROM p)::int) % 20 >= 3 AS act) a;
	INSERT INTO ledger (voucher_id, kind, amount, created_at)
		SELECT id, 'activation', amount, activated_at FROM vouchers WHERE state = 'activated';
	INSERT INTO qr_tokens (token_id, member_id, issued_at, expires_at, used_at)
		SELECT substring(decode(md5('t' || v.id), 'hex') FROM 1 FOR 12), v.member_id, v.activated_at + interval '1 day',
			v.activated_at + interval '1 day 5 minutes', v.activated_at + interval '1 day'
		FROM vouchers v JOIN members m ON m.id = v.member_id WHERE v.state = 'activated' AND m.role = 'applicant';
	INSERT INTO redemptions (merchant_id, family_id, member_id, token_id, idempotency_key, request_hash, receipt_no, mode,
			gross, discount, covered, to_pay, response, created_at)
		SELECT 1 + v.member_id % 30, m.family_id, v.member_id, substring(decode(md5('t' || v.id), 'hex') FROM 1 FOR 12),
			'k' || v.id, '\x00', v.id::text, 'spend', 235295, 35295, 200000, 0, '{}', v.activated_at + interval '1 day'
		FROM vouchers v JOIN members m ON m.id = v.member_id WHERE v.state = 'activated' AND m.role = 'applicant';
	INSERT INTO ledger (voucher_id, kind, amount, redemption_id, created_at)
		SELECT r.receipt_no::bigint, 'redemption', -200000, r.id, r.created_at FROM redemptions r;
	UPDATE vouchers v SET balance = balance - 200000 FROM ledger l WHERE l.voucher_id = v.id AND l.kind = 'redemption';
	INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at)
		SELECT id, id, id, 'ru', timestamptz '2026-01-05 12:00+05' FROM members WHERE id % 10 < 7;
	INSERT INTO consents (member_id, version, given_at)
		SELECT id, '2026-01', timestamptz '2026-01-05 13:00+05' FROM members WHERE id % 10 < 6;
	INSERT INTO notifications (member_id, kind, period, days_before, created_at, sent_at)
		SELECT m.id, 'reminder', p, 7, p + interval '24 days 10 hours', p + interval '24 days 10 hours'
		FROM members m, generate_series(date '2026-01-01', date '2026-04-01', interval '1 month') p WHERE m.id % 10 < 3;
	ANALYZE;`
	// One simple-protocol round trip: the statements run in order.
	if _, err := pool.Exec(ctx, strings.ReplaceAll(seed, "$1", strconv.Itoa(families))); err != nil {
		b.Fatalf("seed: %v", err)
	}
	var vouchers, ledger int64
	pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM vouchers), (SELECT count(*) FROM ledger)`).Scan(&vouchers, &ledger)
	b.Logf("seeded %d families, %d vouchers, %d ledger rows in %s", families, vouchers, ledger, time.Since(start).Round(time.Millisecond))

	st := postgres.New(pool)
	for _, tc := range []struct {
		name string
		q    wallet.ReportQuery
	}{
		{"one month", wallet.ReportQuery{From: wallet.Period{Year: 2026, Month: 3}, To: wallet.Period{Year: 2026, Month: 3}}},
		{"four months", wallet.ReportQuery{From: wallet.Period{Year: 2026, Month: 1}, To: wallet.Period{Year: 2026, Month: 4}}},
		{"four months one city", wallet.ReportQuery{From: wallet.Period{Year: 2026, Month: 1}, To: wallet.Period{Year: 2026, Month: 4}, City: "akkol"}},
	} {
		spec, err := prog.ReportSpec(tc.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			var rows int
			for b.Loop() {
				figs, err := st.ReportFigures(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(figs.Rows)
			}
			perOp := float64(vouchers) / 4 * float64(len(spec.Months))
			if tc.q.City != "" {
				perOp /= 3
			}
			b.ReportMetric(perOp*float64(b.N)/b.Elapsed().Seconds(), "vouchers/s")
			if rows == 0 {
				b.Fatal("no rows")
			}
		})
	}
}
