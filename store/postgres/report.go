package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

var _ wallet.ReportSource = (*Store)(nil)

// ReportFigures reads the evaluation report's figures in one read-only
// REPEATABLE READ transaction, so every query sees the same snapshot and the
// columns agree with each other even while vouchers are being activated.
func (s *Store) ReportFigures(ctx context.Context, spec wallet.ReportSpec) (wallet.ReportFigures, error) {
	figs := wallet.ReportFigures{Merchants: map[wallet.Period]int64{}}
	if len(spec.Months) == 0 {
		return figs, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return figs, fmt.Errorf("postgres: report: %w", err)
	}
	defer tx.Rollback(ctx)
	// These are a few large aggregates, run rarely: compiling them (JIT) costs
	// more than it saves; a generic plan cannot see which months and city the
	// parameters pick; and hashing a city's vouchers should not spill to disk.
	const settings = `SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '64MB'`
	if _, err := tx.Exec(ctx, settings); err != nil {
		return figs, fmt.Errorf("postgres: report: settings: %w", err)
	}

	periods := make([]time.Time, len(spec.Months))
	starts := make([]time.Time, len(spec.Months))
	ends := make([]time.Time, len(spec.Months))
	for i, m := range spec.Months {
		periods[i], starts[i], ends[i] = m.Period.FirstDay(), m.Start, m.End
	}
	rows := map[reportKey]*wallet.ReportRow{}
	row := func(city string, p time.Time) *wallet.ReportRow {
		k := reportKey{city, wallet.PeriodOfDate(p)}
		if rows[k] == nil {
			rows[k] = &wallet.ReportRow{Period: k.period, City: city}
		}
		return rows[k]
	}

	if err := reportVouchers(ctx, tx, periods, starts, ends, spec.City, row); err != nil {
		return figs, err
	}
	if err := reportPurchases(ctx, tx, periods, starts, ends, spec.City, row, figs.Merchants); err != nil {
		return figs, err
	}
	if err := reportReminders(ctx, tx, periods, spec.City, row); err != nil {
		return figs, err
	}
	if figs.Activations, err = reportActivationDays(ctx, tx, periods, spec.Days, spec.City); err != nil {
		return figs, err
	}
	if err := tx.Commit(ctx); err != nil {
		return figs, fmt.Errorf("postgres: report: commit: %w", err)
	}
	for _, r := range rows {
		figs.Rows = append(figs.Rows, *r)
	}
	return figs, nil
}

type reportKey struct {
	city   string
	period wallet.Period
}

// reportMonths turns the parallel arrays $1 (period), $2 (start), $3 (end) into rows.
const reportMonths = `months AS (
	SELECT * FROM unnest($1::date[], $2::timestamptz[], $3::timestamptz[]) AS m (period, t0, t1)
)`

// reportVouchers reads the figures that hang off the month's vouchers: who
// got one, who was linked, consented or blocked by the month's end, what was
// activated (ledger activation rows), annulled and spent (ledger redemption
// rows less void rows, whenever they were written).
func reportVouchers(ctx context.Context, tx pgx.Tx, periods, starts, ends []time.Time, city string, row func(string, time.Time) *wallet.ReportRow) error {
	// Per family first, then per city: each level a hash aggregate, where
	// count(DISTINCT family_id) over a whole city would sort every voucher.
	const q = `WITH ` + reportMonths + `,
	consented AS (
		SELECT DISTINCT c.member_id, m.period
		FROM consents c JOIN months m ON c.given_at < m.t1 AND (c.revoked_at IS NULL OR c.revoked_at >= m.t0)
	),
	spent AS (
		SELECT l.voucher_id, -sum(l.amount) AS amount
		FROM ledger l JOIN vouchers v ON v.id = l.voucher_id JOIN months m ON m.period = v.period
		WHERE l.kind IN ('redemption', 'void')
		GROUP BY l.voucher_id
	),
	family AS (
		SELECT f.city, v.period, vm.family_id,
			count(*) AS members,
			count(*) FILTER (WHERE tl.linked_at < m.t1) AS linked,
			count(c.member_id) AS consented,
			sum(v.amount) AS issued_value,
			count(a.id) AS activated,
			coalesce(sum(a.amount), 0) AS activated_value,
			count(*) FILTER (WHERE v.state = 'annulled') AS annulled,
			coalesce(sum(v.amount) FILTER (WHERE v.state = 'annulled'), 0) AS annulled_value,
			coalesce(sum(s.amount), 0) AS redeemed,
			count(*) FILTER (WHERE tl.linked_at < m.t1 AND tl.blocked_at < m.t1) AS blocked
		FROM vouchers v
		JOIN months m ON m.period = v.period
		JOIN members vm ON vm.id = v.member_id
		JOIN families f ON f.id = vm.family_id
		LEFT JOIN ledger a ON a.voucher_id = v.id AND a.kind = 'activation'
		LEFT JOIN spent s ON s.voucher_id = v.id
		LEFT JOIN telegram_links tl ON tl.member_id = v.member_id
		LEFT JOIN consented c ON c.member_id = v.member_id AND c.period = v.period
		WHERE $4 = '' OR f.city = $4
		GROUP BY f.city, v.period, vm.family_id
	)
	SELECT city, period, count(*), sum(members), sum(linked), sum(consented), sum(members), sum(issued_value),
		sum(activated), sum(activated_value), sum(annulled), sum(annulled_value), sum(redeemed), sum(blocked)
	FROM family
	GROUP BY city, period`
	rs, err := tx.Query(ctx, q, periods, starts, ends, city)
	if err != nil {
		return fmt.Errorf("postgres: report: vouchers: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			c string
			p time.Time
			x wallet.ReportRow
		)
		if err := rs.Scan(&c, &p, &x.Families, &x.Members, &x.Linked, &x.Consented, &x.Issued, &x.IssuedValue,
			&x.Activated, &x.ActivatedValue, &x.Annulled, &x.AnnulledValue, &x.Redeemed, &x.BotBlocked); err != nil {
			return fmt.Errorf("postgres: report: vouchers: %w", err)
		}
		r := row(c, p)
		r.Families, r.Members, r.Linked, r.Consented = x.Families, x.Members, x.Linked, x.Consented
		r.Issued, r.IssuedValue, r.Activated, r.ActivatedValue = x.Issued, x.IssuedValue, x.Activated, x.ActivatedValue
		r.Annulled, r.AnnulledValue, r.Redeemed, r.BotBlocked = x.Annulled, x.AnnulledValue, x.Redeemed, x.BotBlocked
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("postgres: report: vouchers: %w", err)
	}
	return nil
}

// reportPurchases counts non-voided purchases by the month they were made in
// and the buying family's city; the grouping set without city gives each
// month's distinct merchants over all the cities selected.
func reportPurchases(ctx context.Context, tx pgx.Tx, periods, starts, ends []time.Time, city string,
	row func(string, time.Time) *wallet.ReportRow, merchants map[wallet.Period]int64) error {
	const q = `WITH ` + reportMonths + `
	SELECT grouping(f.city) = 1, coalesce(f.city, ''), m.period,
		count(*), coalesce(sum(r.discount), 0), count(DISTINCT r.merchant_id)
	FROM redemptions r
	JOIN months m ON r.created_at >= m.t0 AND r.created_at < m.t1
	JOIN families f ON f.id = r.family_id
	WHERE r.voided_at IS NULL AND ($4 = '' OR f.city = $4)
	GROUP BY GROUPING SETS ((f.city, m.period), (m.period))`
	rs, err := tx.Query(ctx, q, periods, starts, ends, city)
	if err != nil {
		return fmt.Errorf("postgres: report: purchases: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			all      bool
			c        string
			p        time.Time
			n, mer   int64
			discount wallet.Tiyn
		)
		if err := rs.Scan(&all, &c, &p, &n, &discount, &mer); err != nil {
			return fmt.Errorf("postgres: report: purchases: %w", err)
		}
		if all {
			merchants[wallet.PeriodOfDate(p)] = mer
			continue
		}
		r := row(c, p)
		r.Purchases, r.DiscountSaved, r.ActiveMerchants = n, discount, mer
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("postgres: report: purchases: %w", err)
	}
	return nil
}

// reportReminders counts reminders marked sent, the members who got them, and
// those of them who activated a voucher of the month (their own or, as the
// applicant, a minor's) within the window after their first reminder.
func reportReminders(ctx context.Context, tx pgx.Tx, periods []time.Time, city string, row func(string, time.Time) *wallet.ReportRow) error {
	const q = `WITH reminded AS (
		SELECT n.member_id, f.city, n.period, count(*) AS sent, min(n.sent_at) AS first_at
		FROM notifications n
		JOIN members mb ON mb.id = n.member_id
		JOIN families f ON f.id = mb.family_id
		WHERE n.kind = 'reminder' AND n.sent_at IS NOT NULL AND n.period = ANY($1::date[])
			AND ($2 = '' OR f.city = $2)
		GROUP BY n.member_id, f.city, n.period
	),
	followed AS (
		SELECT DISTINCT r.member_id, r.period
		FROM reminded r JOIN vouchers v ON v.period = r.period AND v.activated_by = r.member_id
		WHERE v.activated_at >= r.first_at AND v.activated_at <= r.first_at + $3::interval
	)
	SELECT r.city, r.period, sum(r.sent), count(*), count(x.member_id)
	FROM reminded r LEFT JOIN followed x ON x.member_id = r.member_id AND x.period = r.period
	GROUP BY r.city, r.period`
	rs, err := tx.Query(ctx, q, periods, city, wallet.ReminderWindow)
	if err != nil {
		return fmt.Errorf("postgres: report: reminders: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			c                  string
			p                  time.Time
			sent, members, act int64
		)
		if err := rs.Scan(&c, &p, &sent, &members, &act); err != nil {
			return fmt.Errorf("postgres: report: reminders: %w", err)
		}
		r := row(c, p)
		r.RemindersSent, r.RemindedMembers, r.RemindedActivated = sent, members, act
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("postgres: report: reminders: %w", err)
	}
	return nil
}

// reportActivationDays counts activation ledger rows by city, month and local
// day; width_bucket places each instant between the day bounds computed in
// the programme zone by Go, so PostgreSQL's own time-zone data does not matter.
func reportActivationDays(ctx context.Context, tx pgx.Tx, periods, days []time.Time, city string) ([]wallet.ReportDayCount, error) {
	if len(days) < 2 {
		return nil, nil
	}
	const q = `SELECT f.city, v.period, width_bucket(l.created_at, $2::timestamptz[]) AS day, count(*)
	FROM ledger l
	JOIN vouchers v ON v.id = l.voucher_id
	JOIN members vm ON vm.id = v.member_id
	JOIN families f ON f.id = vm.family_id
	WHERE l.kind = 'activation' AND v.period = ANY($1::date[]) AND ($3 = '' OR f.city = $3)
	GROUP BY 1, 2, 3
	ORDER BY 2, 1, 3`
	rs, err := tx.Query(ctx, q, periods, days, city)
	if err != nil {
		return nil, fmt.Errorf("postgres: report: activation days: %w", err)
	}
	defer rs.Close()
	var out []wallet.ReportDayCount
	for rs.Next() {
		var (
			c      string
			p      time.Time
			bucket int
			n      int64
		)
		if err := rs.Scan(&c, &p, &bucket, &n); err != nil {
			return nil, fmt.Errorf("postgres: report: activation days: %w", err)
		}
		// Bucket i is [days[i-1], days[i]); 0 and len(days) lie outside and
		// are pinned to the first and last day.
		i := min(max(bucket, 1), len(days)-1) - 1
		out = append(out, wallet.ReportDayCount{City: c, Period: wallet.PeriodOfDate(p), Day: days[i], Count: n})
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("postgres: report: activation days: %w", err)
	}
	return out, nil
}
