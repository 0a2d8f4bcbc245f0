package program

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"socialwallet/wallet"
)

func TestDefaultIsThePilot(t *testing.T) {
	p := Default()
	plus5 := time.FixedZone("+05", 5*3600)
	if !p.Start.Equal(time.Date(2026, 1, 5, 0, 0, 0, 0, plus5)) || !p.End.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, plus5)) {
		t.Errorf("pilot runs %v – %v; want 5 January – 1 May 2026 (+05)", p.Start, p.End)
	}
	if p.MRP[2025] != wallet.TengeToTiyn(3932) || p.MRP[2026] != wallet.TengeToTiyn(4325) {
		t.Errorf("MRP = %v; want 2025: 3 932 ₸, 2026: 4 325 ₸", p.MRP)
	}
	var ids []string
	for _, c := range p.Cities {
		ids = append(ids, c.ID)
		if c.HelpKK == "" || c.HelpRU == "" {
			t.Errorf("city %s has no help text in both languages", c.ID)
		}
	}
	if strings.Join(ids, ",") != "kokshetau,akkol,pavlodar" {
		t.Errorf("cities = %v", ids)
	}
	if p.MaxDiscountBP != 1500 || p.FundsExpire != wallet.ExpireAtProgramEnd || p.Mode != wallet.ModeSpend ||
		p.QRLifetime != 5*time.Minute || p.ReminderHour != 10 || p.QuietFrom != 21 || p.QuietUntil != 9 || !p.ApplicantMinors {
		t.Errorf("pilot settings = %+v", p)
	}
}

func TestInvalidFilesAreRefusedWithFieldAndReason(t *testing.T) {
	base := string(DefaultTOML())
	tests := []struct {
		name, from, to, field string
	}{
		{"bad zone", `time_zone = "Asia/Almaty"`, `time_zone = "Asia/Nowhere"`, "time_zone"},
		{"end before start", `end = 2026-05-01`, `end = 2025-05-01`, "end"},
		{"discount above 100", `max_discount_percent = 15.0`, `max_discount_percent = 150.0`, "max_discount_percent"},
		{"bad expiry", `activated_funds_expire = "program_end"`, `activated_funds_expire = "someday"`, "activated_funds_expire"},
		{"bad mode", `voucher_mode = "spend"`, `voucher_mode = "cash"`, "voucher_mode"},
		{"bad lifetime", `qr_lifetime = "5m"`, `qr_lifetime = "five"`, "qr_lifetime"},
		{"misspelt key", `reminder_hour = 10`, `reminder_hours = 10`, "reminder_hours"},
		{"missing MRP year", "2026 = 4325", "", "mrp"},
		{"reminder in quiet hours", `reminder_hour = 10`, `reminder_hour = 22`, "reminder_hour"},
		{"no consent version", `consent_version = "2026-01"`, `consent_version = ""`, "consent_version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.from) {
				t.Fatalf("pilot file lacks %q", tt.from)
			}
			_, err := Parse([]byte(strings.Replace(base, tt.from, tt.to, 1)))
			fe, ok := err.(wallet.FieldError)
			if !ok || fe.Field != tt.field || fe.Reason == "" {
				t.Errorf("Parse() = %v; want a FieldError on %s with a reason", err, tt.field)
			}
		})
	}
	if _, err := Parse([]byte("name = ")); err == nil {
		t.Error("Parse(broken TOML) = nil; want an error")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.toml")
	other := strings.Replace(string(DefaultTOML()), `voucher_mode = "spend"`, `voucher_mode = "discount"`, 1)
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil || p.Mode != wallet.ModeDiscount {
		t.Errorf("Load(%s) = %v, %v; want discount mode", path, p, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("Load(missing) = nil error")
	}
	if p, err := Load(""); err != nil || p.Name == "" {
		t.Errorf("Load(\"\") = %v, %v; want the embedded pilot", p, err)
	}
}
