package pos_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"socialwallet/wallet"
)

func TestWholePurchase(t *testing.T) {
	tests := []struct {
		name string
		cred func(w *world) purchase
	}{
		{"QR token", func(w *world) purchase { return purchase{Token: w.qr(w.members[0])} }},
		{"typed code", func(w *world) purchase { return purchase{Code: w.code(w.members[0])} }},
		{"typed code with spaces", func(w *world) purchase {
			c := w.code(w.members[0])
			return purchase{Code: c[:4] + " " + c[4:]}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			p := tt.cred(w)

			// The cashier looks first: whose code, what the family may spend.
			r := w.do("POST", "/v1/tokens/check", map[string]string{"token": p.Token, "code": p.Code}, nil)
			if r.status != http.StatusOK {
				t.Fatalf("check = %s; want 200", r)
			}
			var chk struct {
				Member     string    `json:"member"`
				Available  int64     `json:"available_tiyn"`
				Mode       string    `json:"mode"`
				DiscountBP int       `json:"discount_bp"`
				ExpiresAt  time.Time `json:"expires_at"`
			}
			json.Unmarshal(r.body, &chk)
			if chk.Member != wallet.ShortName(w.names[0]) || chk.Available != 1_730_000 || chk.Mode != "spend" || chk.DiscountBP != 1500 ||
				!chk.ExpiresAt.Equal(start.Add(5*time.Minute)) {
				t.Errorf("check = %+v; want the applicant, 1 730 000 tiyn, spend, 1500 bp, expiring %v", chk, start.Add(5*time.Minute))
			}

			p.ReceiptNo = "K2-000184"
			p.Lines = basket
			red := w.created(w.redeem(p))
			want := redemption{
				ID: red.ID, Status: "completed", ReceiptNo: "K2-000184", Member: wallet.ShortName(w.names[0]), CreatedAt: start.UTC(),
				Mode: "spend", DiscountBP: 1500,
				Lines: []pricedLine{
					{1, "potato", 1500, 25000, 37500, 5625, 31875},
					{2, "milk", 1000, 48000, 48000, 7200, 40800},
				},
				GrossTiyn: 85500, DiscountTiyn: 12825, NetTiyn: 72675, CoveredTiyn: 72675, ToPayTiyn: 0,
				FamilyRemainingTiyn: 1_730_000 - 72675,
			}
			if !reflect.DeepEqual(red, want) {
				t.Errorf("redemption =\n%+v\nwant\n%+v", red, want)
			}
			if got := w.remaining(w.family); got != 1_730_000-72675 {
				t.Errorf("family remaining = %d; want %d", got, 1_730_000-72675)
			}

			// The ledger shows the debit against the earliest voucher, and the
			// receipt is queued for the member who showed the code.
			var kind string
			var amount, voucherOf int64
			err := w.pool.QueryRow(w.ctx, `SELECT l.kind, l.amount, v.member_id FROM ledger l JOIN vouchers v ON v.id = l.voucher_id
				WHERE l.redemption_id = $1`, red.ID).Scan(&kind, &amount, &voucherOf)
			if err != nil || kind != "redemption" || amount != -72675 {
				t.Errorf("ledger row = %s %d, %v; want redemption -72675", kind, amount, err)
			}
			var member, ref int64
			var nkind string
			err = w.pool.QueryRow(w.ctx, `SELECT member_id, kind, ref_id FROM notifications WHERE kind = 'receipt'`).Scan(&member, &nkind, &ref)
			if err != nil || member != w.members[0] || ref != red.ID {
				t.Errorf("receipt notification = member %d ref %d, %v; want member %d ref %d", member, ref, err, w.members[0], red.ID)
			}

			// The same code cannot pay twice; GET shows the purchase.
			w.problemOf(w.redeem(p), http.StatusConflict, "token_used")
			g := w.do("GET", "/v1/redemptions/"+itoa(red.ID), nil, nil)
			if got := w.decodeRedemption(g); !reflect.DeepEqual(got, want) {
				t.Errorf("GET = %+v; want %+v", got, want)
			}

			// The receipt the recipient will be sent.
			rc, err := w.svc.Receipt(w.ctx, red.ID)
			if err != nil {
				t.Fatalf("Receipt() = %v", err)
			}
			if rc.Store != "Дәмді" || len(rc.Lines) != 2 || rc.Lines[0].Product.NameKK != "Картоп" || rc.Lines[1].Product.NameRU == "" ||
				rc.PaidByVoucher != 72675 || rc.Discount != 12825 || rc.FamilyRemaining != 1_730_000-72675 || rc.Voided ||
				rc.MemberID != w.members[0] || !rc.At.Equal(start) || rc.At.Location().String() != "Asia/Almaty" {
				t.Errorf("Receipt() = %+v", rc)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestPartialCover(t *testing.T) {
	w := newWorld(t)
	later := w.qr(w.members[0]) // shown after the family has spent everything
	// 40 kg of beef at 4 000 ₸: 160 000 ₸, 24 000 ₸ off, 136 000 ₸ net;
	// the family has 17 300 ₸.
	red := w.created(w.redeem(purchase{Token: w.qr(w.members[1]), ReceiptNo: "1", Lines: []line{{"beef-boneless", 40000, 400000}}}))
	if red.NetTiyn != 13_600_000 || red.CoveredTiyn != 1_730_000 || red.ToPayTiyn != 13_600_000-1_730_000 || red.FamilyRemainingTiyn != 0 {
		t.Errorf("partial cover = net %d covered %d to pay %d remaining %d; want 13600000 1730000 11870000 0",
			red.NetTiyn, red.CoveredTiyn, red.ToPayTiyn, red.FamilyRemainingTiyn)
	}
	var spent int
	w.pool.QueryRow(w.ctx, `SELECT count(*) FROM vouchers v JOIN members m ON m.id = v.member_id
		WHERE m.family_id = $1 AND v.state = 'spent' AND v.balance = 0 AND v.closed_at IS NOT NULL`, w.family).Scan(&spent)
	if spent != 4 {
		t.Errorf("%d vouchers spent; want all 4", spent)
	}
	before := w.money()
	w.problemOf(w.redeem(purchase{Token: later, ReceiptNo: "2", Lines: basket}), http.StatusUnprocessableEntity, "insufficient_funds")
	w.sameMoney(before, "insufficient_funds")
}

func TestDebitsEarliestExpiringVoucherFirst(t *testing.T) {
	w := newWorld(t)
	// February's vouchers expire later than January's when funds lapse at
	// the period's end; make January's member 3 voucher expire first.
	_, err := w.pool.Exec(w.ctx, `UPDATE vouchers SET expires_at = expires_at - interval '1 day' WHERE member_id = $1`, w.members[3])
	if err != nil {
		t.Fatal(err)
	}
	// 5 000 ₸ net: all of member 3's 4 325 ₸, then 675 ₸ of the lowest id.
	red := w.created(w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: []line{{"sugar-white", 10000, 58824}}}))
	rows, _ := w.pool.Query(w.ctx, `SELECT v.member_id, -l.amount FROM ledger l JOIN vouchers v ON v.id = l.voucher_id
		WHERE l.redemption_id = $1 ORDER BY l.id`, red.ID)
	var got [][2]int64
	for rows.Next() {
		var m, a int64
		rows.Scan(&m, &a)
		got = append(got, [2]int64{m, a})
	}
	rows.Close()
	var first int64
	w.pool.QueryRow(w.ctx, `SELECT v.member_id FROM vouchers v JOIN members m ON m.id = v.member_id
		WHERE m.family_id = $1 AND v.member_id <> $2 ORDER BY v.id LIMIT 1`, w.family, w.members[3]).Scan(&first)
	want := [][2]int64{{w.members[3], 432500}, {first, red.CoveredTiyn - 432500}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("debits (member, amount) = %v; want %v (covered %d)", got, want, red.CoveredTiyn)
	}
}

func TestDiscountModeThroughHTTP(t *testing.T) {
	w := newWorld(t, func(p *wallet.Program) { p.Mode = wallet.ModeDiscount })
	red := w.created(w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket}))
	if red.Mode != "discount" || red.DiscountTiyn != 12825 || red.CoveredTiyn != 12825 || red.NetTiyn != 72675 || red.ToPayTiyn != 72675 ||
		red.FamilyRemainingTiyn != 1_730_000-12825 {
		t.Errorf("discount mode = %+v; want the 12825 discount taken from the vouchers and 72675 to pay", red)
	}
	// The cap bites: potatoes (5 625 discount) then 200 kg of beef at 1 000 ₸
	// (3 000 000 discount) against the 1 717 175 left: the potatoes keep
	// their discount, the beef gets the rest.
	left := int64(1_730_000 - 12825)
	red = w.created(w.redeem(purchase{Token: w.qr(w.members[1]), ReceiptNo: "2", Lines: []line{{"potato", 1500, 25000}, {"beef-bone", 200000, 100000}}}))
	if red.DiscountTiyn != left || red.CoveredTiyn != left || red.GrossTiyn != 20_037_500 || red.ToPayTiyn != 20_037_500-left ||
		red.Lines[0].DiscountTiyn != 5625 || red.Lines[1].DiscountTiyn != left-5625 || red.FamilyRemainingTiyn != 0 {
		t.Errorf("capped discount = %+v; want the %d the family had, potatoes first", red, left)
	}
}
