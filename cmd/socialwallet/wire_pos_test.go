package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"socialwallet/clock"
	"socialwallet/data"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/internal/redistest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

// posFamily seeds one family of four with January activated, the catalogue
// and a store, through the wallet's use cases; it returns the family, the
// applicant and the store's key.
func posFamily(t *testing.T, svc *wallet.Service, st *postgres.Store) (string, int64, string) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := svc.ImportCatalog(ctx, data.SZPT()); err != nil {
		t.Fatal(err)
	}
	people := fixtures.NewGen().Family(1, "kokshetau", 4)
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, people)
	if res, err := svc.ImportRegistry(ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry() = %+v, %v", res, err)
	}
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := svc.Issue(ctx, jan); err != nil {
		t.Fatal(err)
	}
	var applicant int64
	st.Pool().QueryRow(ctx, `SELECT id FROM members WHERE family_id = $1 AND role = 'applicant'`, people[0].FamilyID).Scan(&applicant)
	if err := svc.GiveConsent(ctx, applicant); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Activate(ctx, applicant, jan); err != nil {
		t.Fatal(err)
	}
	_, key, err := svc.AddMerchant(ctx, wallet.Merchant{Name: "Дәмді", City: "kokshetau", DiscountBP: 1500})
	if err != nil {
		t.Fatal(err)
	}
	return people[0].FamilyID, applicant, key
}

func TestWirePOSMountsTheCashierAPI(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	rc, _ := redistest.Client(t)
	st := postgres.New(pool)
	prog := program.Default()
	clk := clock.Frozen(time.Date(2026, 1, 20, 12, 0, 0, 0, prog.Location))
	svc := wallet.NewService(prog, clk, []byte("wire-test-secret-0123456789"), st)
	fid, applicant, key := posFamily(t, svc, st)
	d := buildDeps(config{}, slog.New(slog.DiscardHandler), prog, clk, pool, rc, svc)
	if err := wirePOS(ctx, d); err != nil {
		t.Fatalf("wirePOS() = %v", err)
	}
	srv := httptest.NewServer(d.mux)
	defer srv.Close()

	// The code as the bot writes it, under the shared prefix.
	_, signed, err := svc.IssueQR(ctx, applicant)
	if err != nil {
		t.Fatal(err)
	}
	code := wallet.NewFallbackCode()
	if err := rstore.NewCodes(rc, redisKeys).Replace(ctx, applicant, code, signed, prog.QRLifetime); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rc.Del(context.Background(), redisKeys+"qrcode:"+code, redisKeys+"qrcode:member:"+strconv.FormatInt(applicant, 10))
	})

	if resp, err := http.Get(srv.URL + "/v1/openapi.yaml"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/openapi.yaml = %v, %v", resp, err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/v1/tokens/check", strings.NewReader(`{"code":"`+code+`"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var chk struct {
		Available int64 `json:"available_tiyn"`
	}
	json.Unmarshal(body, &chk)
	if resp.StatusCode != 200 || chk.Available != 3*432500 {
		t.Errorf("check of family %s by typed code = %d %s; want 200 and 12 975 ₸", fid, resp.StatusCode, body)
	}
}

func TestFamilyUnfreezeCommand(t *testing.T) {
	c := newCLI(t, "2026-01-20T12:00:00+05:00")
	ctx := context.Background()
	cfg, _ := loadConfig(func(k string) string { return c.env[k] })
	db, st, err := openStore(ctx, &env{cfg: cfg}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prog := program.Default()
	svc := wallet.NewService(prog, clock.Frozen(time.Date(2026, 1, 20, 12, 0, 0, 0, prog.Location)), cfg.Secret, st)
	fid, applicant, _ := posFamily(t, svc, st)
	ms, _ := st.ListMerchants(ctx)
	_, signed, _ := svc.IssueQR(ctx, applicant)
	red, _, err := svc.Redeem(ctx, wallet.RedeemRequest{Merchant: ms[0], Token: signed, IdempotencyKey: "k", RequestHash: []byte("k"),
		ReceiptNo: "1", Lines: []wallet.LineInput{{Product: "milk", QtyMilli: 1000, UnitPrice: 48000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ReportNotMe(ctx, applicant, red.ID); err != nil {
		t.Fatal(err)
	}
	if out, _, code := c.run("family", "show", fid); code != 0 || !strings.Contains(out, "FROZEN") {
		t.Fatalf("family show = %q, exit %d; want FROZEN", out, code)
	}

	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"lifts the freeze", []string{"family", "unfreeze", fid}, 0, "family " + fid + " unfrozen"},
		{"not frozen any more", []string{"family", "unfreeze", fid}, 1, ""},
		{"unknown family", []string{"family", "unfreeze", "F9999999"}, 1, ""},
		{"no family given", []string{"family", "unfreeze"}, 2, ""},
		{"help", []string{"family", "unfreeze", "--help"}, 0, "usage: socialwallet family unfreeze FAMILY_ID"},
	}
	for _, tt := range tests {
		out, _, code := c.run(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) {
			t.Errorf("%s: %v = %q, exit %d; want exit %d with %q", tt.name, tt.args, out, code, tt.code, tt.out)
		}
	}
	if out, _, _ := c.run("family", "show", fid); strings.Contains(out, "FROZEN") {
		t.Errorf("family show after unfreeze = %q; want not frozen", out)
	}
	if _, _, err := svc.IssueQR(ctx, applicant); err != nil {
		t.Errorf("IssueQR() after unfreeze = %v", err)
	}
}
