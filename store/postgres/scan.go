package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullInt(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

// tv turns a scanned nullable time into the zero time for NULL.
func tv(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// voucherColumns is the select list scanVoucher reads, in its order. A
// voucher's family is its member's (migration 00007).
const voucherColumns = `v.id, v.member_id, (SELECT family_id FROM members WHERE id = v.member_id), v.period, v.amount, v.balance, v.state,
	v.issued_at, v.expires_at, v.activated_at, coalesce(v.activated_by, 0), v.closed_at`

// familyVouchers reaches a family's vouchers (restrict fm.family_id): its
// members, crossed with the months opened, each pair one probe of the key.
// Vouchers have no index by family or member of their own.
const familyVouchers = `members fm JOIN periods fp ON true JOIN vouchers v ON v.id = voucher_id(fp.period, fm.id)`

// idsOf restricts to the vouchers of the month in the date parameter param
// (for example "$1"): a range of the key, which also picks the one partition.
func idsOf(param string) string {
	return "id BETWEEN voucher_id(" + param + "::date, 1) AND voucher_id(" + param + "::date, 9999999999)"
}

func scanVoucher(r pgx.Row, v *wallet.Voucher, extra ...any) error {
	var period time.Time
	var activated, closed *time.Time
	dest := append([]any{&v.ID, &v.MemberID, &v.FamilyID, &period, &v.Amount, &v.Balance, &v.State,
		&v.IssuedAt, &v.ExpiresAt, &activated, &v.ActivatedBy, &closed}, extra...)
	if err := r.Scan(dest...); err != nil {
		return err
	}
	v.Period = wallet.PeriodOfDate(period)
	v.ActivatedAt = tv(activated)
	v.ClosedAt = tv(closed)
	return nil
}

// queryVouchers reads vouchers of familyVouchers by where.
func queryVouchers(ctx context.Context, q querier, where string, args ...any) ([]wallet.Voucher, error) {
	rows, err := q.Query(ctx, `SELECT `+voucherColumns+` FROM `+familyVouchers+` `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Voucher, error) {
		var v wallet.Voucher
		err := scanVoucher(r, &v)
		return v, err
	})
}
