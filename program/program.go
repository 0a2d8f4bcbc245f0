// Package program reads a programme file (TOML) into a validated
// wallet.Program. The pilot as publicly described is embedded as the default.
package program

import (
	_ "embed"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
	_ "time/tzdata" // an old system zone database must not put Kazakhstan on +6

	"github.com/BurntSushi/toml"

	"socialwallet/wallet"
)

//go:embed pilot-2026.toml
var pilot []byte

// Default returns the embedded pilot programme.
func Default() *wallet.Program {
	p, err := Parse(pilot)
	if err != nil {
		panic("program: embedded pilot is invalid: " + err.Error())
	}
	return p
}

// DefaultTOML is the embedded pilot file, for operators to copy.
func DefaultTOML() []byte { return append([]byte(nil), pilot...) }

// Load reads path, or the embedded default when path is empty.
func Load(path string) (*wallet.Program, error) {
	if path == "" {
		return Parse(pilot)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("program: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", path, err)
	}
	return p, nil
}

type file struct {
	Name                 string                    `toml:"name"`
	TimeZone             string                    `toml:"time_zone"`
	Start                time.Time                 `toml:"start"`
	End                  time.Time                 `toml:"end"`
	VouchersPerMemberMRP int                       `toml:"vouchers_per_member_mrp"`
	MaxDiscountPercent   float64                   `toml:"max_discount_percent"`
	FundsExpire          string                    `toml:"activated_funds_expire"`
	VoucherMode          string                    `toml:"voucher_mode"`
	QRLifetime           string                    `toml:"qr_lifetime"`
	ReminderDays         []int                     `toml:"reminder_days"`
	ReminderHour         int                       `toml:"reminder_hour"`
	QuietHours           struct{ From, Until int } `toml:"quiet_hours"`
	ConsentVersion       string                    `toml:"consent_version"`
	ApplicantMinors      *bool                     `toml:"applicant_activates_minors"`
	MRP                  map[string]int64          `toml:"mrp"`
	Cities               []struct {
		ID     string `toml:"id"`
		NameKK string `toml:"name_kk"`
		NameRU string `toml:"name_ru"`
		HelpKK string `toml:"help_kk"`
		HelpRU string `toml:"help_ru"`
	} `toml:"cities"`
}

// Parse decodes and validates a programme file. Unknown keys are refused so a
// misspelt setting is not silently ignored.
func Parse(b []byte) (*wallet.Program, error) {
	var f file
	md, err := toml.Decode(string(b), &f)
	if err != nil {
		return nil, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, wallet.FieldError{Field: und[0].String(), Reason: "unknown setting"}
	}
	if f.TimeZone == "" {
		return nil, wallet.FieldError{Field: "time_zone", Reason: "must be set"}
	}
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return nil, wallet.FieldError{Field: "time_zone", Reason: err.Error()}
	}
	p := &wallet.Program{
		Name:            f.Name,
		Location:        loc,
		VouchersPerMRP:  f.VouchersPerMemberMRP,
		FundsExpire:     wallet.FundsExpiry(f.FundsExpire),
		Mode:            wallet.VoucherMode(f.VoucherMode),
		ReminderDays:    f.ReminderDays,
		ReminderHour:    f.ReminderHour,
		QuietFrom:       f.QuietHours.From,
		QuietUntil:      f.QuietHours.Until,
		ConsentVersion:  f.ConsentVersion,
		ApplicantMinors: f.ApplicantMinors == nil || *f.ApplicantMinors,
		MRP:             map[int]wallet.Tiyn{},
	}
	if f.Start.IsZero() {
		return nil, wallet.FieldError{Field: "start", Reason: "must be a date YYYY-MM-DD"}
	}
	if f.End.IsZero() {
		return nil, wallet.FieldError{Field: "end", Reason: "must be a date YYYY-MM-DD"}
	}
	p.Start = localDate(f.Start, loc)
	p.End = localDate(f.End, loc)
	bp := math.Round(f.MaxDiscountPercent * 100)
	if bp < 0 || bp > 10000 || math.Abs(bp-f.MaxDiscountPercent*100) > 1e-6 {
		return nil, wallet.FieldError{Field: "max_discount_percent", Reason: "must be 0–100 with at most two decimals"}
	}
	p.MaxDiscountBP = int(bp)
	if f.QRLifetime == "" {
		return nil, wallet.FieldError{Field: "qr_lifetime", Reason: "must be set, e.g. \"5m\""}
	}
	if p.QRLifetime, err = time.ParseDuration(f.QRLifetime); err != nil {
		return nil, wallet.FieldError{Field: "qr_lifetime", Reason: err.Error()}
	}
	for y, tenge := range f.MRP {
		year, err := strconv.Atoi(y)
		if err != nil || year < 2000 || year > 2100 {
			return nil, wallet.FieldError{Field: "mrp." + y, Reason: "key must be a year"}
		}
		if tenge <= 0 {
			return nil, wallet.FieldError{Field: "mrp." + y, Reason: "must be positive tenge"}
		}
		p.MRP[year] = wallet.TengeToTiyn(tenge)
	}
	for _, c := range f.Cities {
		p.Cities = append(p.Cities, wallet.City{ID: c.ID, NameKK: c.NameKK, NameRU: c.NameRU, HelpKK: c.HelpKK, HelpRU: c.HelpRU})
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// localDate reads a TOML local date as midnight of that day in loc.
func localDate(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
