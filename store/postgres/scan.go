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

// voucherColumns is the select list scanVoucher reads, in its order.
const voucherColumns = `v.id, v.member_id, v.family_id, v.period, v.amount, v.balance, v.state,
	v.issued_at, v.expires_at, v.activated_at, coalesce(v.activated_by, 0), v.closed_at`

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

func queryVouchers(ctx context.Context, q querier, where string, args ...any) ([]wallet.Voucher, error) {
	rows, err := q.Query(ctx, `SELECT `+voucherColumns+` FROM vouchers v `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Voucher, error) {
		var v wallet.Voucher
		err := scanVoucher(r, &v)
		return v, err
	})
}
