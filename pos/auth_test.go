package pos_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"socialwallet/pos"
	"socialwallet/wallet"
)

// TestUnauthorizedIsLoggedWithoutTheKey: a missing, wrong or disabled key is
// 401, and the log says why without the key.
func TestUnauthorizedIsLoggedWithoutTheKey(t *testing.T) {
	w := newWorld(t)
	wrong, _ := wallet.NewAPIKey()
	id, disabled, _ := w.svc.AddMerchant(w.ctx, wallet.Merchant{Name: "Ескі дүкен", City: "akkol", DiscountBP: 1000})
	if err := w.svc.DisableMerchant(w.ctx, id); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, auth, reason string
	}{
		{"missing", "", "missing or not a Bearer Authorization header"},
		{"not Bearer", "Basic " + w.key, "missing or not a Bearer Authorization header"},
		{"empty Bearer", "Bearer ", "missing or not a Bearer Authorization header"},
		{"wrong key", "Bearer " + wrong, "unknown or disabled key"},
		{"not a key at all", "Bearer hunter2", "unknown or disabled key"},
		{"disabled store", "Bearer " + disabled, "unknown or disabled key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := w.on(t)
			mark := len(w.log.String())
			r := w.do("GET", "/v1/catalog", nil, map[string]string{"Authorization": tt.auth})
			w.problemOf(r, http.StatusUnauthorized, "unauthorized")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			logged := w.log.String()[mark:]
			var found bool
			for _, l := range strings.Split(strings.TrimSpace(logged), "\n") {
				var rec map[string]any
				json.Unmarshal([]byte(l), &rec)
				if rec["msg"] == "pos: unauthorized" && rec["reason"] == tt.reason {
					found = true
				}
			}
			if !found {
				t.Errorf("log %q lacks the unauthorized line with reason %q", logged, tt.reason)
			}
			for _, secret := range []string{w.key, wrong, disabled, "hunter2"} {
				if strings.Contains(logged, secret) {
					t.Errorf("log contains a key: %q", logged)
				}
			}
		})
	}
	// The right key still works.
	if r := w.do("GET", "/v1/catalog", nil, nil); r.status != 200 {
		t.Errorf("catalog with the right key = %s", r)
	}
}

// TestLogsCarryNoTokensOrCodes: a busy session leaves nothing in the log
// that would let someone spend: no key, token or typed code.
func TestLogsCarryNoTokensOrCodes(t *testing.T) {
	w := newWorld(t)
	tok := w.qr(w.members[0])
	code := w.code(w.members[1])
	w.do("POST", "/v1/tokens/check", map[string]string{"token": tok}, nil)
	w.created(w.redeem(purchase{Token: tok, ReceiptNo: "1", Lines: basket}))
	w.redeem(purchase{Token: tok, ReceiptNo: "1", Lines: basket})
	w.created(w.redeem(purchase{Code: code, ReceiptNo: "2", Lines: basket}))
	w.redeem(purchase{Code: "99999999", ReceiptNo: "3", Lines: basket})
	logged := w.log.String()
	if !strings.Contains(logged, `"msg":"pos request"`) {
		t.Fatalf("no access log: %q", logged)
	}
	for _, s := range []string{w.key, tok, code, tok[len(tok)-12:], "99999999"} {
		if strings.Contains(logged, s) {
			t.Errorf("log contains %q:\n%s", s, logged)
		}
	}
}

func TestCatalog(t *testing.T) {
	w := newWorld(t)
	r := w.do("GET", "/v1/catalog", nil, nil)
	var got struct {
		Products []struct{ Code, NameKK, NameRU, Unit string } `json:"products"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("catalog = %s, %v", r, err)
	}
	want, _ := w.svc.Catalog(w.ctx)
	if len(got.Products) != len(want) || len(want) < 20 {
		t.Fatalf("catalog has %d products; want the %d loaded", len(got.Products), len(want))
	}
	for i, p := range want {
		g := got.Products[i]
		if g.Code != p.Code || g.Unit != string(p.Unit) {
			t.Errorf("product %d = %+v; want %+v", i, g, p)
		}
	}
	var raw map[string][]map[string]string
	json.Unmarshal(r.body, &raw)
	if p := raw["products"][0]; p["name_kk"] == "" || p["name_ru"] == "" {
		t.Errorf("product names missing: %v", p)
	}
}

// TestOpenAPIDescribesTheAPI: the description is served without a key, and
// it names every route and every problem code the server answers with.
func TestOpenAPIDescribesTheAPI(t *testing.T) {
	w := newWorld(t)
	resp, err := http.Get(w.url + "/v1/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") || string(body) != string(pos.OpenAPI()) {
		t.Fatalf("GET /v1/openapi.yaml = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc := string(body)
	for _, s := range []string{"openapi: 3.", "/v1/catalog:", "/v1/tokens/check:", "/v1/redemptions:", "/v1/redemptions/{id}:",
		"/v1/redemptions/{id}/void:", "Idempotency-Key", "round_half_up(qty_milli × unit_price_tiyn / 1000)",
		"floor(gross_tiyn × discount_bp / 10000)", "application/problem+json"} {
		if !strings.Contains(doc, s) {
			t.Errorf("openapi.yaml does not mention %q", s)
		}
	}
	for _, code := range pos.ProblemCodes() {
		if !strings.Contains(doc, "- "+code+"\n") {
			t.Errorf("openapi.yaml does not list problem code %s", code)
		}
		if st := pos.ProblemStatus(code); !strings.Contains(doc, code+" "+itoa(int64(st))) {
			t.Errorf("openapi.yaml does not give %s its status %d", code, st)
		}
	}
}
