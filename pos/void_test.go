package pos_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"socialwallet/wallet"
)

func TestVoidReturnsValueToItsVouchers(t *testing.T) {
	w := newWorld(t)
	// Spend 5 000 ₸ net so the debit spans two vouchers, the first spent to zero.
	red := w.created(w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: []line{{"beef-boneless", 1250, 470588}}}))
	if len(red.Lines) != 1 || red.CoveredTiyn <= 432500 {
		t.Fatalf("purchase covered %d; want more than one voucher's worth", red.CoveredTiyn)
	}
	before := w.vouchers()
	w.clock.Advance(wallet.VoidWindow - time.Second)

	r := w.do("POST", fmt.Sprintf("/v1/redemptions/%d/void", red.ID), nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("void = %s; want 200", r)
	}
	v := w.decodeRedemption(r)
	if v.Status != "voided" || v.Void == nil || v.Void.ReturnedTiyn != red.CoveredTiyn || v.Void.LapsedTiyn != 0 ||
		v.Void.FamilyRemainingTiyn != 1_730_000 || !v.Void.VoidedAt.Equal(w.clock.Now()) {
		t.Errorf("void = %+v %+v; want all %d returned, 1 730 000 remaining", v, v.Void, red.CoveredTiyn)
	}
	// Every voucher is back where it was before the purchase: activated, full.
	for id, s := range w.vouchers() {
		if s != "432500 activated" {
			t.Errorf("voucher %d = %s after the void; want 432500 activated (before the void: %s)", id, s, before[id])
		}
	}
	// The ledger shows both rows, against the same vouchers.
	rows, _ := w.pool.Query(w.ctx, `SELECT voucher_id, kind, amount FROM ledger WHERE redemption_id = $1 ORDER BY id`, red.ID)
	var got []string
	for rows.Next() {
		var id, amount int64
		var kind string
		rows.Scan(&id, &kind, &amount)
		got = append(got, fmt.Sprintf("%d %s %d", id, kind, amount))
	}
	rows.Close()
	if len(got) != 4 || !strings.Contains(got[2], "void") || !strings.HasPrefix(got[2], strings.Fields(got[0])[0]+" ") {
		t.Errorf("ledger rows = %v; want two debits then two voids of the same vouchers", got)
	}
	var n int
	w.pool.QueryRow(w.ctx, `SELECT count(*) FROM notifications WHERE kind = 'void' AND ref_id = $1 AND member_id = $2`, red.ID, w.members[0]).Scan(&n)
	if n != 1 {
		t.Errorf("%d void notifications; want 1", n)
	}

	// Voiding again changes nothing and answers the same.
	m := w.money()
	r2 := w.do("POST", fmt.Sprintf("/v1/redemptions/%d/void", red.ID), nil, nil)
	if got := w.decodeRedemption(r2); r2.status != 200 || !reflect.DeepEqual(got, v) {
		t.Errorf("second void = %s; want %+v", r2, v)
	}
	w.sameMoney(m, "second void")
	// GET shows the void; the idempotent replay of the purchase still shows the first answer.
	if got := w.decodeRedemption(w.do("GET", fmt.Sprintf("/v1/redemptions/%d", red.ID), nil, nil)); !reflect.DeepEqual(got, v) {
		t.Errorf("GET after void = %+v; want %+v", got, v)
	}
	// The receipt read model says voided, with the remaining value after the void.
	rc, err := w.svc.Receipt(w.ctx, red.ID)
	if err != nil || !rc.Voided || rc.Returned != wallet.Tiyn(red.CoveredTiyn) || rc.FamilyRemaining != 1_730_000 {
		t.Errorf("Receipt() = %+v, %v", rc, err)
	}
}

// TestVoidAfterExpiry: value whose voucher expired since the purchase lapses
// instead of returning.
func TestVoidAfterExpiry(t *testing.T) {
	w := newWorld(t, func(p *wallet.Program) { p.FundsExpire = wallet.ExpireAtPeriodEnd })
	// Buy at 23:55 on the last day of January; funds lapse at midnight.
	w.clock.Set(time.Date(2026, 1, 31, 23, 55, 0, 0, almaty))
	red := w.created(w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket}))
	w.clock.Set(time.Date(2026, 2, 1, 0, 5, 0, 0, almaty))
	if n, lapsed, err := w.svc.ExpireFunds(w.ctx); err != nil || n != 4 || lapsed != 1_730_000-72675 {
		t.Fatalf("ExpireFunds() = %d, %d, %v", n, lapsed, err)
	}
	v := w.decodeRedemption(w.do("POST", fmt.Sprintf("/v1/redemptions/%d/void", red.ID), nil, nil))
	if v.Void == nil || v.Void.ReturnedTiyn != 0 || v.Void.LapsedTiyn != 72675 || v.Void.FamilyRemainingTiyn != 0 {
		t.Errorf("void after expiry = %+v; want nothing returned, 72675 lapsed", v.Void)
	}
	var n int
	w.pool.QueryRow(w.ctx, `SELECT count(*) FROM ledger WHERE kind = 'void'`).Scan(&n)
	if n != 0 {
		t.Errorf("%d void ledger rows; want none for an expired voucher", n)
	}
}

// vouchers is each voucher's "balance state".
func (w *world) vouchers() map[int64]string {
	return w.money().Vouchers
}
