package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"socialwallet/wallet"
)

// The QR photo decodes to a token that verifies — by its signature and at
// the till — while a changed byte, an expired token or a replaced one does
// not; asking again also retires the earlier fallback code.
func TestQRCodeVerifies(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(60, "kk")
	mother := h.people[0]
	h.link(u, mother, "kk")
	m := h.send(u, h.T("kk", "btn_activate", nil))
	h.press(u, m, h.T("kk", "btn_activate_now", nil))
	var shop wallet.Merchant
	if _, _, err := h.svc.AddMerchant(h.ctx, wallet.Merchant{Name: "Арай", City: "kokshetau", Lat: 53.28, Lon: 69.38, DiscountBP: 1000}); err != nil {
		t.Fatal(err)
	}
	ms, _ := h.store.ListMerchants(h.ctx)
	shop = ms[0]

	first := h.send(u, h.T("kk", "btn_qr", nil))
	signed := decodeQR(t, first.Photo)
	firstCode := fallbackCode(t, first.Caption)
	if _, err := h.svc.CheckToken(h.ctx, shop, signed); err != nil {
		t.Fatalf("CheckToken(the QR code) = %v; want it to verify at the till", err)
	}

	changed := changeByte(signed)
	if _, err := wallet.ParseQRToken(secret, changed, h.clock.Now()); !wallet.IsCode(err, wallet.CodeTokenInvalid) {
		t.Errorf("ParseQRToken(a changed byte) = %v; want token_invalid", err)
	}
	if _, err := h.svc.CheckToken(h.ctx, shop, changed); !wallet.IsCode(err, wallet.CodeTokenInvalid) {
		t.Errorf("CheckToken(a changed byte) = %v; want token_invalid", err)
	}

	h.clock.Advance(5*time.Minute + time.Second)
	if _, err := wallet.ParseQRToken(secret, signed, h.clock.Now()); !wallet.IsCode(err, wallet.CodeTokenExpired) {
		t.Errorf("ParseQRToken(5 minutes on) = %v; want token_expired", err)
	}
	if _, err := h.svc.CheckToken(h.ctx, shop, signed); !wallet.IsCode(err, wallet.CodeTokenExpired) {
		t.Errorf("CheckToken(5 minutes on) = %v; want token_expired at the till", err)
	}
	h.clock.Advance(-5*time.Minute - time.Second)

	second := h.send(u, h.T("kk", "btn_qr", nil))
	newer := decodeQR(t, second.Photo)
	if newer == signed {
		t.Fatal("asking again gave the same token")
	}
	if _, err := h.svc.CheckToken(h.ctx, shop, signed); !wallet.IsCode(err, wallet.CodeTokenInvalid) {
		t.Errorf("CheckToken(the replaced token) = %v; want token_invalid", err)
	}
	if _, err := h.svc.CheckToken(h.ctx, shop, newer); err != nil {
		t.Errorf("CheckToken(the newer token) = %v", err)
	}
	if _, err := codesOf(h).Lookup(h.ctx, firstCode); !wallet.IsCode(err, wallet.CodeTokenInvalid) {
		t.Errorf("Lookup(the replaced fallback code) = %v; want token_invalid", err)
	}
	if got, err := codesOf(h).Lookup(h.ctx, fallbackCode(t, second.Caption)); err != nil || got != newer {
		t.Errorf("Lookup(the new fallback code) = %q, %v", got, err)
	}
	// The code lives as long as the token.
	if ttl := h.rc.PTTL(h.ctx, h.prefix+"qrcode:"+fallbackCode(t, second.Caption)).Val(); ttl <= 0 || ttl > 5*time.Minute {
		t.Errorf("fallback code TTL = %v; want up to the QR lifetime (5 min)", ttl)
	}
}

// changeByte flips one bit of the token's payload, keeping it well-formed base64.
func changeByte(signed string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(signed, "SW1."))
	raw[3] ^= 0x01
	return "SW1." + base64.RawURLEncoding.EncodeToString(raw)
}
