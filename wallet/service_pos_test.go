package wallet

import (
	"testing"
	"time"
)

func TestTokenRowCheck(t *testing.T) {
	now := time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	tok := QRToken{MemberID: 7, ExpiresAt: now.Add(5 * time.Minute)}
	live := TokenRow{MemberID: 7, ExpiresAt: now.Add(5 * time.Minute)}
	tests := []struct {
		name string
		row  TokenRow
		tok  QRToken
		want Code
	}{
		{"live", live, tok, ""},
		{"used", TokenRow{MemberID: 7, ExpiresAt: live.ExpiresAt, UsedAt: now.Add(-time.Minute)}, tok, CodeTokenUsed},
		{"replaced", TokenRow{MemberID: 7, ExpiresAt: live.ExpiresAt, ReplacedAt: now.Add(-time.Minute)}, tok, CodeTokenInvalid},
		{"used beats replaced", TokenRow{MemberID: 7, ExpiresAt: live.ExpiresAt, UsedAt: now, ReplacedAt: now}, tok, CodeTokenUsed},
		{"another member's row", TokenRow{MemberID: 8, ExpiresAt: live.ExpiresAt}, tok, CodeTokenInvalid},
		{"row expired", TokenRow{MemberID: 7, ExpiresAt: now}, tok, CodeTokenExpired},
		{"token expired", live, QRToken{MemberID: 7, ExpiresAt: now}, CodeTokenExpired},
		{"used beats expired", TokenRow{MemberID: 7, ExpiresAt: now.Add(-time.Hour), UsedAt: now.Add(-2 * time.Hour)}, tok, CodeTokenUsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.row.Check(tt.tok, now)); got != tt.want {
				t.Errorf("Check(%s) = %q; want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestValidReceiptNo(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"A-000123", true},
		{"Чек №5", true},
		{"", false},
		{"tab\there", false},
		{string(make([]byte, 65)), false},
		{"\xff", false},
	}
	for _, tt := range tests {
		if got := ValidReceiptNo(tt.in); got != tt.want {
			t.Errorf("ValidReceiptNo(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'a'
	}
	tests := []struct {
		in   string
		want bool
	}{
		{"3f2c6f2e-6d1b-4c1e-9a6e-0c2f7b1d9e11", true},
		{"till7:receipt:000123", true},
		{"", false},
		{"has space", false},
		{"кириллица", false},
		{string(long[:255]), true},
		{string(long), false},
	}
	for _, tt := range tests {
		if got := ValidIdempotencyKey(tt.in); got != tt.want {
			t.Errorf("ValidIdempotencyKey(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestRedemptionLapsed(t *testing.T) {
	r := Redemption{Quote: Quote{Covered: 1000}}
	if r.Lapsed() != 0 {
		t.Errorf("Lapsed() of a live purchase = %d; want 0", r.Lapsed())
	}
	r.VoidedAt = time.Now()
	r.Returned = 600
	if r.Lapsed() != 400 {
		t.Errorf("Lapsed() = %d; want 400", r.Lapsed())
	}
}
