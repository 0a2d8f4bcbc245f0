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
const voucherColumns = `v.id, v.member_id, (SELECT family_id FROM members WHERE id = v.member_id), ` + voucherRest

// familyVoucherColumns is voucherColumns where familyVouchers has the member at hand.
const familyVoucherColumns = `v.id, v.member_id, fm.family_id, ` + voucherRest

const voucherRest = `v.period, v.amount, v.balance, v.state,
	v.issued_at, v.expires_at, v.activated_at, coalesce(v.activated_by, 0), v.closed_at`

// familyVouchers reaches a family's vouchers (restrict fm.family_id): its
// members, crossed with the months opened, each pair one probe of the key.
// Vouchers have no index by family or member of their own. The LATERAL with
// its LIMIT keeps the probes a probe whatever the statistics say: written as
// a join, a fresh month (no statistics on periods or the partition yet) was
// planned as a sort of the whole month merged with the family's members.
const familyVouchers = `members fm CROSS JOIN periods fp
	CROSS JOIN LATERAL (SELECT * FROM vouchers WHERE id = voucher_id(fp.period, fm.id) LIMIT 1) v`

// lockFamilyVouchers is familyVouchers for the (member, month) pairs of
// members crossed with periods that which picks (fm and fp), locking each
// voucher that vouchers' condition holds for, as it is now. It locks them in
// the order of their ids, month then member: the order every statement that
// locks several vouchers takes them in (annulment and expiry scan a month in
// id order, a refund sorts by expiry and id), so that no two wait for each
// other in a circle. A FOR UPDATE on the whole query would lock in the
// plan's order, which the planner may choose differently from one execution
// to the next.
func lockFamilyVouchers(which, vouchers string) string {
	return `(SELECT fm.id, fm.family_id, fp.period FROM members fm CROSS JOIN periods fp
		WHERE ` + which + ` ORDER BY fp.period, fm.id OFFSET 0) fm
	CROSS JOIN LATERAL (SELECT * FROM vouchers WHERE id = voucher_id(fm.period, fm.id) AND ` + vouchers + ` FOR UPDATE) v`
}

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
	rows, err := q.Query(ctx, `SELECT `+familyVoucherColumns+` FROM `+familyVouchers+` `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Voucher, error) {
		var v wallet.Voucher
		err := scanVoucher(r, &v)
		return v, err
	})
}
