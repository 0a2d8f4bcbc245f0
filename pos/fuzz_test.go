package pos

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"socialwallet/wallet"
)

// FuzzDecodeRedeem: whatever a till sends, the decoder does not panic, and a
// body it accepts is a purchase the wallet can price: one credential, a
// receipt number, lines in range. Decoding its canonical form again gives the
// same request and the same idempotency hash.
func FuzzDecodeRedeem(f *testing.F) {
	for _, s := range []string{
		`{"token":"SW1.abc","receipt_no":"1","lines":[{"product":"milk","qty_milli":1000,"unit_price_tiyn":48000}]}`,
		`{"code":"1234 5678","receipt_no":"K-1","lines":[{"product":"potato","qty_milli":1500,"unit_price_tiyn":25000},{"product":"milk","qty_milli":1,"unit_price_tiyn":1}]}`,
		`{"token":"x","code":"12345678","receipt_no":"","lines":[]}`,
		`{"lines":[{"qty_milli":1.5}]}`,
		`{"token":"x","receipt_no":"1","lines":[{"product":"milk","qty_milli":9223372036854775807,"unit_price_tiyn":9223372036854775807}]}`,
		`{} {}`, `[]`, `null`, ``, `{"receipt_no":"\u0000"}`, `{"":0}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, bad := decodeRedeem(bytes.NewReader(body))
		if bad != nil {
			for _, e := range bad {
				if e.Field == "" || e.Reason == "" {
					t.Fatalf("decodeRedeem(%q) field error without field or reason: %+v", body, e)
				}
			}
			return
		}
		if (b.Token == "") == (b.Code == "") {
			t.Fatalf("decodeRedeem(%q) accepted %+v: want exactly one of token and code", body, b)
		}
		if b.Code != "" {
			if c, ok := wallet.ValidFallbackCode(b.Code); !ok || c != b.Code {
				t.Fatalf("decodeRedeem(%q) accepted code %q", body, b.Code)
			}
		}
		if !wallet.ValidReceiptNo(b.ReceiptNo) || len(wallet.ValidateLines(b.lines())) > 0 {
			t.Fatalf("decodeRedeem(%q) accepted an invalid purchase %+v", body, b)
		}
		if _, err := wallet.Price(b.lines(), 1500, wallet.ModeSpend, 1<<40); err != nil && !wallet.IsCode(err, wallet.CodeInvalid) {
			t.Fatalf("Price of accepted %+v = %v", b, err)
		}
		canon, _ := json.Marshal(b)
		b2, bad := decodeRedeem(bytes.NewReader(canon))
		if bad != nil || !bytes.Equal(b2.hash(), b.hash()) {
			t.Fatalf("canonical form %s of %q decodes to %+v, %v; want the same request", canon, body, b2, bad)
		}
	})
}

// FuzzParseQRToken: the token parser never panics, and accepts only what
// we signed: an accepted text carries exactly the token its own signature
// parses to. (The parser tolerates line breaks inside the base64 and non-zero
// padding bits in its last character, so one token has several texts; the
// signature covers the decoded bytes and single use is settled on the
// token's id, so this grants nothing.)
func FuzzParseQRToken(f *testing.F) {
	secret := []byte("fuzz-secret-0123456789")
	now := time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	tok := wallet.NewQRToken(42, now, 5*time.Minute)
	f.Add(tok.Sign(secret))
	f.Add(wallet.NewQRToken(1<<40, now, time.Hour).Sign(secret))
	f.Add(tok.Sign([]byte("other")))
	f.Add("SW1.")
	f.Add("SW1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("  " + tok.Sign(secret) + "\n")
	f.Add(tok.Sign(secret)[:20] + "\n" + tok.Sign(secret)[20:])
	f.Fuzz(func(t *testing.T, s string) {
		got, err := wallet.ParseQRToken(secret, s, now)
		if err != nil {
			if c := wallet.ErrorCode(err); c != wallet.CodeTokenInvalid && c != wallet.CodeTokenExpired {
				t.Fatalf("ParseQRToken(%q) = %v; want token_invalid or token_expired", s, err)
			}
			return
		}
		if got.MemberID <= 0 || !now.Before(got.ExpiresAt) {
			t.Fatalf("ParseQRToken(%q) accepted %+v", s, got)
		}
		signed := got.Sign(secret)
		again, err := wallet.ParseQRToken(secret, signed, now)
		if err != nil || again != got {
			t.Fatalf("ParseQRToken(%q) = %+v, but its signature %q parses to %+v, %v", s, got, signed, again, err)
		}
	})
}
