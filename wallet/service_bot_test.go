package wallet

import (
	"math"
	"testing"
	"time"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want                   float64 // metres
	}{
		{"same point", 53.28, 69.38, 53.28, 69.38, 0},
		{"one degree of latitude", 52, 76, 53, 76, 111195},
		{"one degree of longitude on the equator", 0, 10, 0, 11, 111195},
		{"antipodes: half the circumference", 0, 0, 0, 180, math.Pi * 6371000},
	}
	for _, tt := range tests {
		got := Distance(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
		if math.Abs(got-tt.want) > tt.want*0.01+1 {
			t.Errorf("Distance(%s) = %.0f; want %.0f ± 1 %%", tt.name, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	ms := []Merchant{{ID: 1, Lat: 53.30, Lon: 69.40}, {ID: 2, Lat: 53.28, Lon: 69.38}, {ID: 3, Lat: 52.28, Lon: 76.95}}
	got := Nearest(ms, 53.281, 69.381, 2)
	if len(got) != 2 || got[0].ID != 2 || got[1].ID != 1 || got[0].Metres > got[1].Metres {
		t.Errorf("Nearest = %+v; want 2 then 1", got)
	}
	if got := Nearest(nil, 0, 0, 5); len(got) != 0 {
		t.Errorf("Nearest(none) = %v", got)
	}
}

func TestQRAllowed(t *testing.T) {
	pr := &Program{}
	consent := Consent{MemberID: 1, Version: "v", GivenAt: time.Unix(1, 0)}
	tests := []struct {
		name      string
		f         Family
		c         Consent
		spendable Tiyn
		want      Code
	}{
		{"allowed", Family{ID: "F"}, consent, 100, ""},
		{"frozen beats the rest", Family{ID: "F", FrozenAt: time.Unix(2, 0)}, Consent{}, 0, CodeFrozen},
		{"no consent", Family{ID: "F"}, Consent{}, 100, CodeConsentRequired},
		{"revoked consent", Family{ID: "F"}, Consent{GivenAt: time.Unix(1, 0), RevokedAt: time.Unix(2, 0)}, 100, CodeConsentRequired},
		{"nothing to spend", Family{ID: "F"}, consent, 0, CodeInsufficientFunds},
	}
	for _, tt := range tests {
		if got := ErrorCode(pr.QRAllowed(tt.f, tt.c, tt.spendable)); got != tt.want {
			t.Errorf("QRAllowed(%s) = %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestCheckIIN(t *testing.T) {
	iin, _ := MakeIIN(time.Date(1985, 3, 4, 0, 0, 0, 0, time.UTC), true, 123)
	s := iin.String()
	tests := []struct {
		in string
		ok bool
	}{
		{s, true},
		{" " + s[:6] + " " + s[6:] + " ", true},
		{s[:6] + "-" + s[6:], true},
		{s[:11], false},
		{s + "1", false},
		{"abcdefghijkl", false},
	}
	for _, tt := range tests {
		got, err := CheckIIN(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got.String() != s) {
			t.Errorf("CheckIIN(%q) = %v, %v; want ok=%v", tt.in, got.Masked(), err, tt.ok)
		}
	}
}

func TestConsentStateDeclined(t *testing.T) {
	t1, t2 := time.Unix(100, 0), time.Unix(200, 0)
	tests := []struct {
		name string
		cs   ConsentState
		want bool
	}{
		{"never answered", ConsentState{}, false},
		{"declined", ConsentState{DeclinedAt: t1}, true},
		{"agreed after declining", ConsentState{DeclinedAt: t1, Consent: Consent{GivenAt: t2}}, false},
		{"declined after agreeing", ConsentState{DeclinedAt: t2, Consent: Consent{GivenAt: t1, RevokedAt: t2}}, true},
	}
	for _, tt := range tests {
		if got := tt.cs.Declined(); got != tt.want {
			t.Errorf("Declined(%s) = %v; want %v", tt.name, got, tt.want)
		}
	}
}
