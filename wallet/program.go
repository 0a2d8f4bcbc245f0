package wallet

import (
	"fmt"
	"strings"
	"time"
)

// Program is the programme as configured: who, where, when and how much. Nothing
// here is a constant in code; the default lives in an embedded programme file.
type Program struct {
	Name     string
	Location *time.Location
	// Start is the first day of the programme (local midnight); End is exclusive.
	Start, End time.Time
	Cities     []City
	// MRP maps a year to the monthly calculation index in tiyn.
	MRP             map[int]Tiyn
	VouchersPerMRP  int // vouchers per member per month, in MRP (1)
	MaxDiscountBP   int // maximum store discount in basis points (1500 = 15 %)
	FundsExpire     FundsExpiry
	Mode            VoucherMode
	QRLifetime      time.Duration
	ReminderDays    []int // days before the deadline, e.g. 7, 3, 1
	ReminderHour    int   // local hour of reminders
	QuietFrom       int   // local hour quiet time begins (21)
	QuietUntil      int   // local hour quiet time ends (9)
	ConsentVersion  string
	HelpContact     map[string]string // by city id: where to turn, both languages in one string set by the file
	ApplicantMinors bool              // the applicant may activate minors' vouchers
}

// City is a place where the programme runs.
type City struct {
	ID     string
	NameKK string
	NameRU string
	// HelpKK/HelpRU tell a person where to turn when they are not found.
	HelpKK, HelpRU string
}

// FundsExpiry says when activated but unspent value lapses.
type FundsExpiry string

const (
	ExpireAtProgramEnd FundsExpiry = "program_end"
	ExpireAtPeriodEnd  FundsExpiry = "period_end"
)

// VoucherMode says what a voucher pays for.
type VoucherMode string

const (
	// ModeSpend: the voucher value pays for СЗПТ at the store's reduced price.
	ModeSpend VoucherMode = "spend"
	// ModeDiscount: the voucher value is a monthly cap on the discount granted.
	ModeDiscount VoucherMode = "discount"
)

// FieldError names the field of a programme file that is wrong and why.
type FieldError struct{ Field, Reason string }

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// Validate checks the programme as a whole; the first problem is returned with its field.
func (p *Program) Validate() error {
	bad := func(field, format string, args ...any) error {
		return FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(p.Name) == "" {
		return bad("name", "must not be empty")
	}
	if p.Location == nil {
		return bad("time_zone", "must be set")
	}
	if p.Start.IsZero() || p.End.IsZero() {
		return bad("start", "start and end must be set")
	}
	if !p.End.After(p.Start) {
		return bad("end", "must be after start")
	}
	if len(p.Cities) == 0 {
		return bad("cities", "at least one city is needed")
	}
	seen := map[string]bool{}
	for i, c := range p.Cities {
		f := fmt.Sprintf("cities[%d]", i)
		if c.ID == "" || strings.ToLower(c.ID) != c.ID || strings.ContainsAny(c.ID, " ,") {
			return bad(f+".id", "must be a lower-case id without spaces or commas")
		}
		if seen[c.ID] {
			return bad(f+".id", "duplicate city %q", c.ID)
		}
		seen[c.ID] = true
		if c.NameKK == "" || c.NameRU == "" {
			return bad(f+".name", "both name_kk and name_ru are needed")
		}
	}
	for y := p.Start.Year(); y <= p.End.Add(-time.Nanosecond).Year(); y++ {
		if p.MRP[y] <= 0 {
			return bad("mrp", "no MRP for %d, a year of the programme", y)
		}
	}
	if p.VouchersPerMRP < 1 {
		return bad("vouchers_per_member_mrp", "must be at least 1")
	}
	if p.MaxDiscountBP < 0 || p.MaxDiscountBP > 10000 {
		return bad("max_discount_percent", "must be between 0 and 100")
	}
	switch p.FundsExpire {
	case ExpireAtProgramEnd, ExpireAtPeriodEnd:
	default:
		return bad("activated_funds_expire", "must be %q or %q, not %q", ExpireAtProgramEnd, ExpireAtPeriodEnd, p.FundsExpire)
	}
	switch p.Mode {
	case ModeSpend, ModeDiscount:
	default:
		return bad("voucher_mode", "must be %q or %q, not %q", ModeSpend, ModeDiscount, p.Mode)
	}
	if p.QRLifetime < 30*time.Second || p.QRLifetime > time.Hour {
		return bad("qr_lifetime", "must be between 30s and 1h")
	}
	if len(p.ReminderDays) == 0 {
		return bad("reminder_days", "at least one day is needed")
	}
	for _, d := range p.ReminderDays {
		if d < 1 || d > 27 {
			return bad("reminder_days", "%d is not between 1 and 27", d)
		}
	}
	if p.ReminderHour < 0 || p.ReminderHour > 23 {
		return bad("reminder_hour", "must be 0–23")
	}
	if p.QuietFrom < 0 || p.QuietFrom > 23 || p.QuietUntil < 0 || p.QuietUntil > 23 {
		return bad("quiet_hours", "hours must be 0–23")
	}
	if p.InQuietHours(time.Date(2000, 1, 1, p.ReminderHour, 0, 0, 0, p.Location)) {
		return bad("reminder_hour", "%d:00 falls in quiet hours", p.ReminderHour)
	}
	if p.ConsentVersion == "" {
		return bad("consent_version", "must not be empty")
	}
	return nil
}

// City returns the city with id.
func (p *Program) City(id string) (City, bool) {
	for _, c := range p.Cities {
		if c.ID == id {
			return c, true
		}
	}
	return City{}, false
}

// VoucherAmount is the value of one member's voucher for period.
func (p *Program) VoucherAmount(per Period) (Tiyn, error) {
	mrp, ok := p.MRP[per.Year]
	if !ok {
		return 0, Errorf(CodeInvalid, "no MRP configured for %d", per.Year)
	}
	return mrp * Tiyn(p.VouchersPerMRP), nil
}

// InQuietHours reports whether t, in the programme zone, falls in quiet hours.
func (p *Program) InQuietHours(t time.Time) bool {
	h := t.In(p.Location).Hour()
	if p.QuietFrom == p.QuietUntil {
		return false
	}
	if p.QuietFrom < p.QuietUntil {
		return h >= p.QuietFrom && h < p.QuietUntil
	}
	return h >= p.QuietFrom || h < p.QuietUntil
}

// ActivatedFundsExpiry is the instant activated value of period lapses.
func (p *Program) ActivatedFundsExpiry(per Period) time.Time {
	if p.FundsExpire == ExpireAtPeriodEnd {
		return p.Deadline(per)
	}
	return p.End
}
