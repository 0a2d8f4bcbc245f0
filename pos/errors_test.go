package pos_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"socialwallet/wallet"
)

// TestEveryErrorChargesNothing shows each problem code the API answers with
// and that nothing was charged: every voucher's balance and state, the
// ledger, the purchases, the used tokens and the queued messages are as they
// were before the request.
func TestEveryErrorChargesNothing(t *testing.T) {
	w := newWorld(t)
	// A second family, spent down to nothing, for insufficient_funds; its
	// applicant's token is taken before the money runs out.
	fam2, members2, _ := w.addFamily(2)
	broke := w.qr(members2[0])
	w.created(w.redeem(purchase{Token: w.qr(members2[1]), ReceiptNo: "all", Lines: []line{{"beef-bone", 100000, 500000}}}))
	if w.remaining(fam2) != 0 {
		t.Fatalf("family 2 still has %d", w.remaining(fam2))
	}
	_, otherKey, err := w.svc.AddMerchant(w.ctx, wallet.Merchant{Name: "Басқа дүкен", City: "kokshetau", DiscountBP: 1000})
	if err != nil {
		t.Fatal(err)
	}

	type tc struct {
		name   string
		setup  func(w *world)
		do     func(w *world) reply // runs after the "before" snapshot
		status int
		code   string
		check  func(t *testing.T, p problem)
	}
	var used string
	var voidable redemption
	cases := []tc{
		{name: "garbage token", do: func(w *world) reply {
			return w.redeem(purchase{Token: "SW1.not-a-token", ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "token_invalid"},
		{name: "token signed with another secret", do: func(w *world) reply {
			tok := wallet.NewQRToken(w.members[0], w.clock.Now(), 5*time.Minute)
			return w.redeem(purchase{Token: tok.Sign([]byte("someone-else-0123456789")), ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "token_invalid"},
		{name: "well signed token we never issued", do: func(w *world) reply {
			tok := wallet.NewQRToken(w.members[0], w.clock.Now(), 5*time.Minute)
			return w.redeem(purchase{Token: tok.Sign(secret), ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "token_invalid"},
		{name: "token replaced by a newer one", do: func(w *world) reply {
			old := w.qr(w.members[1])
			w.qr(w.members[1])
			return w.redeem(purchase{Token: old, ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "token_invalid"},
		{name: "unknown typed code", do: func(w *world) reply {
			return w.redeem(purchase{Code: "00000000", ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "token_invalid"},
		{name: "expired token", do: func(w *world) reply {
			tok := w.qr(w.members[0])
			w.clock.Advance(w.prog.QRLifetime)
			defer w.clock.Set(start)
			return w.redeem(purchase{Token: tok, ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "token_expired"},
		{name: "expired token at the check", do: func(w *world) reply {
			tok := w.qr(w.members[0])
			w.clock.Advance(w.prog.QRLifetime + time.Second)
			defer w.clock.Set(start)
			return w.do("POST", "/v1/tokens/check", map[string]string{"token": tok}, nil)
		}, status: 422, code: "token_expired"},
		{name: "used token", do: func(w *world) reply {
			return w.redeem(purchase{Token: used, ReceiptNo: "2", Lines: basket})
		}, status: 409, code: "token_used"},
		{name: "used token at the check", do: func(w *world) reply {
			return w.do("POST", "/v1/tokens/check", map[string]string{"token": used}, nil)
		}, status: 409, code: "token_used"},
		{name: "product not on the СЗПТ list", do: func(w *world) reply {
			return w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: append([]line{{"vodka", 1000, 300000}}, basket...)})
		}, status: 422, code: "not_szpt", check: func(t *testing.T, p problem) {
			if !strings.Contains(p.Detail, "vodka") {
				t.Errorf("detail %q does not name the product", p.Detail)
			}
		}},
		{name: "family with nothing left", do: func(w *world) reply {
			return w.redeem(purchase{Token: broke, ReceiptNo: "1", Lines: basket})
		}, status: 422, code: "insufficient_funds"},
		{name: "idempotency key reused with another body", setup: func(w *world) {
			w.created(w.do("POST", "/v1/redemptions", purchase{Token: w.qr(w.members[1]), ReceiptNo: "A", Lines: basket},
				map[string]string{"Idempotency-Key": "reused-key"}))
		}, do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", purchase{Token: w.qr(w.members[0]), ReceiptNo: "B", Lines: basket},
				map[string]string{"Idempotency-Key": "reused-key"})
		}, status: 409, code: "idempotency_conflict"},
		{name: "no Idempotency-Key", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket}, nil)
		}, status: 400, code: "validation", check: fields("Idempotency-Key")},
		{name: "not JSON", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", `{"token": "x",`, map[string]string{"Idempotency-Key": "k1"})
		}, status: 400, code: "validation", check: fields("body")},
		{name: "fraction of a thousandth", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", `{"token":"`+w.qr(w.members[0])+`","receipt_no":"1","lines":[{"product":"milk","qty_milli":1.5,"unit_price_tiyn":100}]}`,
				map[string]string{"Idempotency-Key": "k2"})
		}, status: 400, code: "validation", check: fields("lines.qty_milli")},
		{name: "unknown field", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", `{"token":"x","receipt_no":"1","lines":[],"discount_bp":9000}`, map[string]string{"Idempotency-Key": "k3"})
		}, status: 400, code: "validation", check: fields("discount_bp")},
		{name: "every bad field at once", do: func(w *world) reply {
			return w.redeem(purchase{Token: "x", Code: "12345678", ReceiptNo: "", Lines: []line{{"milk", 0, 100}, {"", 1000, -5}}})
		}, status: 400, code: "validation", check: fields("code", "receipt_no", "lines[0].qty_milli", "lines[1].product", "lines[1].unit_price_tiyn")},
		{name: "no lines", do: func(w *world) reply {
			return w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1"})
		}, status: 400, code: "validation", check: fields("lines")},
		{name: "code that is not 8 digits", do: func(w *world) reply {
			return w.redeem(purchase{Code: "12ab5678", ReceiptNo: "1", Lines: basket})
		}, status: 400, code: "validation", check: fields("code")},
		{name: "not declared as JSON", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", `{}`, map[string]string{"Idempotency-Key": "k4", "Content-Type": "text/plain"})
		}, status: 400, code: "validation", check: fields("Content-Type")},
		{name: "purchase that totals nothing", do: func(w *world) reply {
			return w.redeem(purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: []line{{"salt", 1, 1}}})
		}, status: 400, code: "validation"},
		{name: "no API key", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions", purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket},
				map[string]string{"Authorization": "", "Idempotency-Key": "k5"})
		}, status: 401, code: "unauthorized"},
		{name: "wrong API key", do: func(w *world) reply {
			key, _ := wallet.NewAPIKey()
			return w.do("POST", "/v1/redemptions", purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket},
				map[string]string{"Authorization": "Bearer " + key, "Idempotency-Key": "k6"})
		}, status: 401, code: "unauthorized"},
		{name: "disabled store's key", do: func(w *world) reply {
			id, key, _ := w.svc.AddMerchant(w.ctx, wallet.Merchant{Name: "Жабылған", City: "kokshetau", DiscountBP: 1000})
			r := w.do("GET", "/v1/catalog", nil, map[string]string{"Authorization": "Bearer " + key})
			if r.status != 200 {
				t.Fatalf("catalog before disabling = %s", r)
			}
			if err := w.svc.DisableMerchant(w.ctx, id); err != nil {
				t.Fatal(err)
			}
			return w.do("POST", "/v1/redemptions", purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket},
				map[string]string{"Authorization": "Bearer " + key, "Idempotency-Key": "k7"})
		}, status: 401, code: "unauthorized"},
		{name: "GET of another store's purchase", do: func(w *world) reply {
			return w.do("GET", fmt.Sprintf("/v1/redemptions/%d", voidable.ID), nil, map[string]string{"Authorization": "Bearer " + otherKey})
		}, status: 404, code: "not_found"},
		{name: "void of another store's purchase", do: func(w *world) reply {
			return w.do("POST", fmt.Sprintf("/v1/redemptions/%d/void", voidable.ID), nil, map[string]string{"Authorization": "Bearer " + otherKey})
		}, status: 404, code: "not_found"},
		{name: "unknown purchase", do: func(w *world) reply {
			return w.do("GET", "/v1/redemptions/999999", nil, nil)
		}, status: 404, code: "not_found"},
		{name: "purchase id that is not a number", do: func(w *world) reply {
			return w.do("POST", "/v1/redemptions/abc/void", nil, nil)
		}, status: 404, code: "not_found"},
		{name: "unknown endpoint", do: func(w *world) reply {
			return w.do("GET", "/v1/balance", nil, nil)
		}, status: 404, code: "not_found"},
		{name: "void after 15 minutes", do: func(w *world) reply {
			w.clock.Advance(wallet.VoidWindow)
			defer w.clock.Set(start)
			return w.do("POST", fmt.Sprintf("/v1/redemptions/%d/void", voidable.ID), nil, nil)
		}, status: 409, code: "void_window_passed"},
		{name: "frozen family", do: func(w *world) reply {
			tok := w.qr(w.members[0])
			if err := w.svc.ReportNotMe(w.ctx, w.members[0], voidable.ID); err != nil {
				t.Fatalf("ReportNotMe() = %v", err)
			}
			before := w.money()
			defer w.sameMoney(before, "family_frozen at the check")
			r := w.do("POST", "/v1/tokens/check", map[string]string{"token": tok}, nil)
			w.problemOf(r, 403, "family_frozen")
			return w.redeem(purchase{Token: tok, ReceiptNo: "1", Lines: basket})
		}, status: 403, code: "family_frozen"},
	}

	// Two purchases made before the cases: one whose token is "used", one to void.
	used = w.qr(w.members[0])
	w.created(w.redeem(purchase{Token: used, ReceiptNo: "used", Lines: basket}))
	voidable = w.created(w.redeem(purchase{Token: w.qr(w.members[1]), ReceiptNo: "voidable", Lines: basket}))

	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := w.on(t)
			if c.setup != nil {
				c.setup(w)
			}
			before := w.money()
			r := c.do(w)
			w.sameMoney(before, c.name)
			p := w.problemOf(r, c.status, c.code)
			if c.check != nil {
				c.check(t, p)
			}
			seen[c.code] = true
		})
	}
	for _, code := range []string{"token_invalid", "token_expired", "token_used", "family_frozen", "not_szpt", "insufficient_funds",
		"idempotency_conflict", "unauthorized", "validation", "not_found", "void_window_passed"} {
		if !seen[code] {
			t.Errorf("no case shows %s", code)
		}
	}
}

// fields checks that a validation problem names exactly these fields.
func fields(want ...string) func(*testing.T, problem) {
	return func(t *testing.T, p problem) {
		t.Helper()
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field)
			if e.Reason == "" {
				t.Errorf("field %s without a reason", e.Field)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("fields = %v; want %v", got, want)
		}
	}
}

// TestRejectedPurchaseKeepsTheToken: a refused purchase leaves the token
// usable, so the cashier fixes the basket and rings up again.
func TestRejectedPurchaseKeepsTheToken(t *testing.T) {
	w := newWorld(t)
	tok := w.qr(w.members[0])
	w.problemOf(w.redeem(purchase{Token: tok, ReceiptNo: "1", Lines: []line{{"cigarettes", 1000, 90000}}}), 422, "not_szpt")
	w.created(w.redeem(purchase{Token: tok, ReceiptNo: "1", Lines: basket}))
}

func TestWrongCodesAreLimited(t *testing.T) {
	w := newWorld(t)
	right := w.code(w.members[0])
	wrong := func(i int) string {
		c := fmt.Sprintf("%08d", 10_000_000+i)
		if c == right {
			c = fmt.Sprintf("%08d", 20_000_000+i)
		}
		return c
	}
	for i := 1; i <= 10; i++ {
		path, body := "/v1/redemptions", any(purchase{Code: wrong(i), ReceiptNo: "1", Lines: basket})
		if i%2 == 0 {
			path, body = "/v1/tokens/check", map[string]string{"code": wrong(i)}
		}
		var r reply
		if path == "/v1/redemptions" {
			r = w.redeem(body.(purchase))
		} else {
			r = w.do("POST", path, body, nil)
		}
		w.problemOf(r, 422, "token_invalid")
	}
	before := w.money()
	for _, c := range []string{wrong(11), right} {
		r := w.redeem(purchase{Code: c, ReceiptNo: "1", Lines: basket})
		w.problemOf(r, http.StatusTooManyRequests, "rate_limited")
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("Retry-After = %q; want seconds", ra)
		}
	}
	w.sameMoney(before, "rate_limited")
	// A scanned QR code is never limited.
	w.created(w.redeem(purchase{Token: w.qr(w.members[1]), ReceiptNo: "2", Lines: basket}))
	// Another store is not limited by this one's mistakes.
	_, key, _ := w.svc.AddMerchant(w.ctx, wallet.Merchant{Name: "Көрші", City: "kokshetau", DiscountBP: 500})
	r := w.do("POST", "/v1/tokens/check", map[string]string{"code": right}, map[string]string{"Authorization": "Bearer " + key})
	if r.status != 200 {
		t.Errorf("other store's check = %s; want 200", r)
	}
}
