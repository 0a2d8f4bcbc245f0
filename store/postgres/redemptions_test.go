package postgres_test

import (
	"errors"
	"testing"
	"time"

	"socialwallet/data"
	"socialwallet/wallet"
)

// shop sets up one family of four with January activated (17 300 ₸), the
// shipped catalogue and a store; it returns the members, applicant first.
func (e *env) shop(t *testing.T) (wallet.Merchant, []wallet.MemberView) {
	t.Helper()
	if _, bad, err := e.svc.ImportCatalog(e.ctx, data.SZPT()); err != nil || len(bad) > 0 {
		t.Fatalf("ImportCatalog() = %v, %v", bad, err)
	}
	people := e.importFamilies(t, 1, 4)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	var ms []wallet.MemberView
	for _, p := range people {
		ms = append(ms, e.member(t, p.IIN))
	}
	for _, adult := range ms[:2] {
		if err := e.svc.GiveConsent(e.ctx, adult.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Activate(e.ctx, adult.ID, jan); err != nil {
			t.Fatal(err)
		}
	}
	id, _, err := e.svc.AddMerchant(e.ctx, wallet.Merchant{Name: "Дүкен", City: "kokshetau", DiscountBP: 1500})
	if err != nil {
		t.Fatal(err)
	}
	return wallet.Merchant{ID: id, DiscountBP: 1500}, ms
}

func (e *env) buy(t *testing.T, m wallet.Merchant, member int64, key string, lines ...wallet.LineInput) (wallet.Redemption, error) {
	t.Helper()
	_, signed, err := e.svc.IssueQR(e.ctx, member)
	if err != nil {
		return wallet.Redemption{}, err
	}
	r, _, err := e.svc.Redeem(e.ctx, wallet.RedeemRequest{Merchant: m, Token: signed, IdempotencyKey: key,
		RequestHash: []byte(key), ReceiptNo: key, Lines: lines})
	return r, err
}

var milk = wallet.LineInput{Product: "milk", QtyMilli: 2000, UnitPrice: 48000}

func TestNotMeFreezesTheFamilyUntilLifted(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-20 12:00:00"))
	m, ms := e.shop(t)
	fid := ms[0].FamilyID
	// The two adults use Telegram; the father has blocked the bot.
	e.store.Pool().Exec(e.ctx, `INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at, blocked_at)
		VALUES (501, $1, 501, 'kk', $3, NULL), (502, $2, 502, 'ru', $3, $3)`, ms[0].ID, ms[1].ID, e.clock.Now())
	red, err := e.buy(t, m, ms[1].ID, "k1", milk)
	if err != nil {
		t.Fatal(err)
	}
	tok, signed, err := e.svc.IssueQR(e.ctx, ms[0].ID) // shown at a till just after the report
	if err != nil {
		t.Fatal(err)
	}

	if err := e.svc.ReportNotMe(e.ctx, ms[0].ID, red.ID); err != nil {
		t.Fatalf("ReportNotMe() = %v", err)
	}
	fv, _ := e.store.FamilyView(e.ctx, fid)
	if !fv.Frozen() || !fv.FrozenAt.Equal(e.clock.Now()) {
		t.Errorf("family frozen at %v; want %v", fv.FrozenAt, e.clock.Now())
	}
	var freezes, told int
	var reporter, about int64
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*), max(member_id), max(redemption_id) FROM family_freezes WHERE family_id = $1 AND lifted_at IS NULL`, fid).
		Scan(&freezes, &reporter, &about)
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM notifications WHERE kind = 'frozen' AND member_id = $1
		AND ref_id = (SELECT id FROM family_freezes WHERE family_id = $2)`, ms[0].ID, fid).Scan(&told)
	if freezes != 1 || reporter != ms[0].ID || about != red.ID || told != 1 {
		t.Errorf("freeze rows %d (by %d about %d), frozen notices to the linked applicant %d; want 1 by %d about %d, 1",
			freezes, reporter, about, told, ms[0].ID, red.ID)
	}
	var all int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM notifications WHERE kind = 'frozen'`).Scan(&all)
	if all != 1 {
		t.Errorf("%d frozen notices; want 1 (the unlinked children and the blocked father get none)", all)
	}

	// Frozen: no purchases, no new codes.
	if _, _, err := e.svc.IssueQR(e.ctx, ms[0].ID); !wallet.IsCode(err, wallet.CodeFrozen) {
		t.Errorf("IssueQR() while frozen = %v; want family_frozen", err)
	}
	_, _, err = e.svc.Redeem(e.ctx, wallet.RedeemRequest{Merchant: m, Token: signed, IdempotencyKey: "k2", RequestHash: []byte("k2"), ReceiptNo: "2", Lines: []wallet.LineInput{milk}})
	if !wallet.IsCode(err, wallet.CodeFrozen) {
		t.Errorf("Redeem() while frozen = %v; want family_frozen", err)
	}

	// Pressing Not me again changes nothing; a stranger cannot report it.
	if err := e.svc.ReportNotMe(e.ctx, ms[0].ID, red.ID); err != nil {
		t.Errorf("ReportNotMe() again = %v", err)
	}
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM family_freezes`).Scan(&freezes)
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM notifications WHERE kind = 'frozen'`).Scan(&all)
	if freezes != 1 || all != 1 {
		t.Errorf("after a second press: %d freezes, %d notices; want 1, 1", freezes, all)
	}
	other := e.importFamilies(t, 2, 2)
	stranger := e.member(t, other[2].IIN)
	if err := e.svc.ReportNotMe(e.ctx, stranger.ID, red.ID); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("ReportNotMe() by another family = %v; want not_found", err)
	}

	// The operator lifts it; the token shown before works again.
	if err := e.svc.UnfreezeFamily(e.ctx, fid); err != nil {
		t.Fatalf("UnfreezeFamily() = %v", err)
	}
	var lifted int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM family_freezes WHERE lifted_at = $1`, e.clock.Now()).Scan(&lifted)
	if fv, _ := e.store.FamilyView(e.ctx, fid); fv.Frozen() || lifted != 1 {
		t.Errorf("after unfreeze: frozen %v, lifted rows %d; want false, 1", fv.Frozen(), lifted)
	}
	if _, _, err := e.svc.Redeem(e.ctx, wallet.RedeemRequest{Merchant: m, Token: tok.Sign(secret), IdempotencyKey: "k3", RequestHash: []byte("k3"),
		ReceiptNo: "3", Lines: []wallet.LineInput{milk}}); err != nil {
		t.Errorf("Redeem() after unfreeze = %v", err)
	}
	if err := e.svc.UnfreezeFamily(e.ctx, fid); !wallet.IsCode(err, wallet.CodeConflict) {
		t.Errorf("UnfreezeFamily() of a family not frozen = %v; want conflict", err)
	}
	if err := e.svc.UnfreezeFamily(e.ctx, "F9999999"); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("UnfreezeFamily(unknown) = %v; want not_found", err)
	}
}

func TestRedeemStoreRules(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-20 12:00:00"))
	m, ms := e.shop(t)

	// A key already used with another token: the store says so and the
	// service turns it into idempotency_conflict; nothing is written.
	first, err := e.buy(t, m, ms[0].ID, "same-key", milk)
	if err != nil {
		t.Fatal(err)
	}
	_, signed, _ := e.svc.IssueQR(e.ctx, ms[1].ID)
	tok, _ := wallet.ParseQRToken(secret, signed, e.clock.Now())
	_, err = e.store.Redeem(e.ctx, wallet.RedeemSpec{MerchantID: m.ID, TokenID: tok.ID, IdempotencyKey: "same-key", RequestHash: []byte("other"),
		ReceiptNo: "x", Lines: []wallet.LineInput{milk}, Now: e.clock.Now(),
		CheckToken: func(wallet.TokenRow) error { return nil },
		Price: func(vs []wallet.Voucher) (wallet.Quote, []wallet.Debit, error) {
			q, err := wallet.Price([]wallet.LineInput{milk}, 1500, wallet.ModeSpend, wallet.Available(vs, e.clock.Now()))
			if err != nil {
				return q, nil, err
			}
			d, err := wallet.Allocate(vs, q.Covered, e.clock.Now())
			return q, d, err
		}})
	if !errors.Is(err, wallet.ErrIdempotencyKeyTaken) {
		t.Errorf("store Redeem() with a taken key = %v; want ErrIdempotencyKeyTaken", err)
	}
	_, _, err = e.svc.Redeem(e.ctx, wallet.RedeemRequest{Merchant: m, Token: signed, IdempotencyKey: "same-key", RequestHash: []byte("other"),
		ReceiptNo: "x", Lines: []wallet.LineInput{milk}})
	if !wallet.IsCode(err, wallet.CodeIdempotencyConflict) {
		t.Errorf("Redeem() with a taken key = %v; want idempotency_conflict", err)
	}
	// The same key and request: the first answer, stored whole.
	again, replayed, err := e.svc.Redeem(e.ctx, wallet.RedeemRequest{Merchant: m, Token: signed, IdempotencyKey: "same-key", RequestHash: []byte("same-key"),
		ReceiptNo: "x", Lines: []wallet.LineInput{milk}})
	if err != nil || !replayed || again.ID != first.ID || again.Covered != first.Covered || len(again.Debits) != 1 || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("Redeem() replay = %+v, %v, %v; want %+v", again, replayed, err, first)
	}
	if st, _ := e.store.TokenStatus(e.ctx, tok.ID, e.clock.Now()); !st.Row.UsedAt.IsZero() {
		t.Errorf("token of the refused purchase used at %v; want unused", st.Row.UsedAt)
	}

	// The receipt names the products in both languages.
	rc, err := e.svc.Receipt(e.ctx, first.ID)
	if err != nil || len(rc.Lines) != 1 || rc.Lines[0].Product.NameKK == "" || rc.Lines[0].Product.NameRU == "" ||
		rc.Lines[0].QtyMilli != 2000 || rc.Lines[0].Net != rc.Lines[0].Gross-rc.Lines[0].Discount || rc.Store != "Дүкен" {
		t.Errorf("Receipt() = %+v, %v", rc, err)
	}
	if _, err := e.svc.Receipt(e.ctx, 999); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("Receipt(999) = %v; want not_found", err)
	}
}
