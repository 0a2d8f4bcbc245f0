package postgres_test

import (
	"sync"
	"testing"
	"time"

	"socialwallet/wallet"
)

func TestIssueQR(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 1, 3)
	mother := e.member(t, people[0].IIN)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}

	if _, _, err := e.svc.IssueQR(e.ctx, mother.ID); !wallet.IsCode(err, wallet.CodeConsentRequired) {
		t.Errorf("IssueQR(no consent) = %v; want consent_required", err)
	}
	if err := e.svc.GiveConsent(e.ctx, mother.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.IssueQR(e.ctx, mother.ID); !wallet.IsCode(err, wallet.CodeInsufficientFunds) {
		t.Errorf("IssueQR(nothing activated) = %v; want insufficient_funds", err)
	}
	if _, err := e.svc.Activate(e.ctx, mother.ID, jan); err != nil {
		t.Fatal(err)
	}
	tok, signed, err := e.svc.IssueQR(e.ctx, mother.ID)
	if err != nil {
		t.Fatalf("IssueQR = %v", err)
	}
	back, err := wallet.ParseQRToken(secret, signed, e.clock.Now())
	if err != nil || back.ID != tok.ID || back.MemberID != mother.ID || !back.ExpiresAt.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Errorf("ParseQRToken(issued) = %+v, %v; want the token, 5 minutes", back, err)
	}
	tok2, _, err := e.svc.IssueQR(e.ctx, mother.ID)
	if err != nil {
		t.Fatal(err)
	}
	var live, replaced int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FILTER (WHERE replaced_at IS NULL), count(*) FILTER (WHERE replaced_at IS NOT NULL)
		FROM qr_tokens WHERE member_id = $1`, mother.ID).Scan(&live, &replaced)
	if live != 1 || replaced != 1 {
		t.Errorf("after asking twice: %d live, %d replaced; want 1 and 1", live, replaced)
	}
	var liveID []byte
	e.store.Pool().QueryRow(e.ctx, `SELECT token_id FROM qr_tokens WHERE member_id = $1 AND replaced_at IS NULL`, mother.ID).Scan(&liveID)
	if string(liveID) != string(tok2.ID[:]) {
		t.Errorf("live token is not the newest")
	}

	// Many requests at once still leave one live token.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); _, _, errs[i] = e.svc.IssueQR(e.ctx, mother.ID) }(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("concurrent IssueQR = %v", err)
		}
	}
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM qr_tokens WHERE member_id = $1 AND replaced_at IS NULL`, mother.ID).Scan(&live)
	if live != 1 {
		t.Errorf("%d live tokens after concurrent requests; want 1", live)
	}

	// Value that has lapsed is not spendable.
	e.clock.Set(e.prog.End.Add(time.Second))
	if _, _, err := e.svc.IssueQR(e.ctx, mother.ID); !wallet.IsCode(err, wallet.CodeInsufficientFunds) {
		t.Errorf("IssueQR(after expiry) = %v; want insufficient_funds", err)
	}
	e.clock.Set(almaty(t, "2026-01-10 12:10:00"))

	if _, err := e.store.Pool().Exec(e.ctx, `UPDATE families SET frozen_at = now() WHERE id = $1`, mother.FamilyID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.IssueQR(e.ctx, mother.ID); !wallet.IsCode(err, wallet.CodeFrozen) {
		t.Errorf("IssueQR(frozen) = %v; want family_frozen", err)
	}
	if _, _, err := e.svc.IssueQR(e.ctx, 999999); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("IssueQR(no member) = %v; want not_found", err)
	}
}

func TestOverviewHistoryAndStores(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 1, 4) // mother (applicant), father, two minors
	mother := e.member(t, people[0].IIN)
	father := e.member(t, people[1].IIN)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{mother.ID, father.ID} {
		if err := e.svc.GiveConsent(e.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	o, err := e.svc.Overview(e.ctx, mother.FamilyID, mother.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Vouchers) != 4 || len(o.Activatable) != 3 || o.ActivatableAmount() != wallet.TengeToTiyn(3*4325) || o.DaysLeft != 22 || !o.Running {
		t.Errorf("Overview(mother) = %d vouchers, %d activatable (%s), %d days left, running %v; want 4, 3 (12 975 ₸), 22, true",
			len(o.Vouchers), len(o.Activatable), o.ActivatableAmount(), o.DaysLeft, o.Running)
	}
	if o.NextPeriod != jan.Next() || !o.Next.Equal(jan.Next().MonthStart(e.prog.Location)) {
		t.Errorf("Next = %v %v; want February's start", o.NextPeriod, o.Next)
	}
	if _, err := e.svc.Activate(e.ctx, mother.ID, jan); err != nil {
		t.Fatal(err)
	}
	o, _ = e.svc.Overview(e.ctx, father.FamilyID, father.ID)
	if len(o.Activatable) != 1 || o.Activatable[0].MemberID != father.ID || o.Remaining != wallet.TengeToTiyn(3*4325) {
		t.Errorf("Overview(father) = %d activatable, remaining %s; want his own, 12 975 ₸", len(o.Activatable), o.Remaining)
	}
	if _, err := e.svc.Overview(e.ctx, father.FamilyID, 999999); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("Overview(stranger) = %v; want not_found", err)
	}

	kok, _, err := e.svc.AddMerchant(e.ctx, wallet.Merchant{Name: "Береке", City: "kokshetau", Address: "Абай 1", Lat: 53.2833, Lon: 69.3833, DiscountBP: 1500})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.AddMerchant(e.ctx, wallet.Merchant{Name: "Арай", City: "kokshetau", Lat: 53.29, Lon: 69.39, DiscountBP: 1000})
	pav, _, _ := e.svc.AddMerchant(e.ctx, wallet.Merchant{Name: "Ертіс", City: "pavlodar", Lat: 52.28, Lon: 76.95, DiscountBP: 1000})
	closed, _, _ := e.svc.AddMerchant(e.ctx, wallet.Merchant{Name: "Жабық", City: "kokshetau", Lat: 53.28, Lon: 69.38, DiscountBP: 1000})
	if err := e.svc.DisableMerchant(e.ctx, closed); err != nil {
		t.Fatal(err)
	}
	stores, err := e.svc.Stores(e.ctx, "kokshetau")
	if err != nil || len(stores) != 2 || stores[0].Name != "Арай" || stores[1].ID != kok {
		t.Errorf("Stores(kokshetau) = %+v, %v; want Арай, Береке", stores, err)
	}
	near, err := e.svc.NearestStores(e.ctx, 52.28, 76.96, 5)
	if err != nil || len(near) != 3 || near[0].ID != pav || near[0].Metres > 1000 {
		t.Errorf("NearestStores(Pavlodar) = %+v, %v; want Ертіс first, under 1 km", near, err)
	}
	if _, err := e.svc.NearestStores(e.ctx, 91, 0, 5); !wallet.IsCode(err, wallet.CodeInvalid) {
		t.Errorf("NearestStores(bad) = %v; want invalid", err)
	}

	// A purchase as the till records it (the cashier API writes these rows).
	tok, _, err := e.svc.IssueQR(e.ctx, mother.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.store.Pool().Exec(e.ctx, `INSERT INTO redemptions (merchant_id, family_id, member_id, token_id, idempotency_key,
		request_hash, receipt_no, mode, gross, discount, covered, to_pay, response, created_at)
		VALUES ($1, $2, $3, $4, 'k1', '\x00', 'R-1', 'spend', 300000, 45000, 255000, 0, '{}', $5)`,
		kok, mother.FamilyID, mother.ID, tok.ID[:], e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	hist, err := e.svc.History(e.ctx, mother.FamilyID, 10)
	if err != nil || len(hist) != 1 || hist[0].Store != "Береке" || hist[0].Covered != 255000 || hist[0].Discount != 45000 ||
		hist[0].At.Location() != e.prog.Location {
		t.Errorf("History = %+v, %v; want the purchase at Береке in programme time", hist, err)
	}
}

func TestOverviewFamilyMatchesFamilyView(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 2, 4)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	mother := e.member(t, people[0].IIN)
	e.svc.GiveConsent(e.ctx, mother.ID)
	e.svc.Activate(e.ctx, mother.ID, jan)
	want, err := e.store.FamilyView(e.ctx, mother.FamilyID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.store.OverviewFamily(e.ctx, mother.FamilyID)
	if err != nil {
		t.Fatalf("OverviewFamily = %v", err)
	}
	if got.ID != want.ID || len(got.Members) != len(want.Members) || len(got.Vouchers) != len(want.Vouchers) || got.Ledger != nil {
		t.Fatalf("OverviewFamily = %+v; want FamilyView %+v without the ledger", got, want)
	}
	for i := range want.Members {
		g, w := got.Members[i], want.Members[i]
		if g.ID != w.ID || g.Linked != w.Linked || g.Consent.Active() != w.Consent.Active() || g.Role != w.Role ||
			g.IINLast4 != w.IINLast4 || !g.BirthDate.Equal(w.BirthDate) || g.FullName != w.FullName {
			t.Errorf("member %d = %+v; want %+v", i, g, w)
		}
	}
	for i := range want.Vouchers {
		if got.Vouchers[i] != want.Vouchers[i] {
			t.Errorf("voucher %d = %+v; want %+v", i, got.Vouchers[i], want.Vouchers[i])
		}
	}
	if got.Remaining() != wallet.TengeToTiyn(3*4325) {
		t.Errorf("Remaining = %s", got.Remaining())
	}
	// A missing family is not_found, and the pool is fine afterwards.
	for i := 0; i < 3; i++ {
		if _, err := e.store.OverviewFamily(e.ctx, "F-none"); !wallet.IsCode(err, wallet.CodeNotFound) {
			t.Errorf("OverviewFamily(missing) = %v; want not_found", err)
		}
	}
	if _, err := e.store.OverviewFamily(e.ctx, mother.FamilyID); err != nil {
		t.Errorf("OverviewFamily after failures = %v", err)
	}
}
