package wallet

import (
	"testing"
	"time"
	_ "time/tzdata"
)

func testProgram(t testing.TB) *Program {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	p := &Program{
		Name: "test", Location: loc,
		Start:           time.Date(2026, 1, 5, 0, 0, 0, 0, loc),
		End:             time.Date(2026, 5, 1, 0, 0, 0, 0, loc),
		Cities:          []City{{ID: "kokshetau", NameKK: "Көкшетау", NameRU: "Кокшетау"}, {ID: "akkol", NameKK: "Ақкөл", NameRU: "Акколь"}},
		MRP:             map[int]Tiyn{2026: TengeToTiyn(4325)},
		VouchersPerMRP:  1,
		MaxDiscountBP:   1500,
		FundsExpire:     ExpireAtProgramEnd,
		Mode:            ModeSpend,
		QRLifetime:      5 * time.Minute,
		ReminderDays:    []int{7, 3, 1},
		ReminderHour:    10,
		QuietFrom:       21,
		QuietUntil:      9,
		ConsentVersion:  "2026-01",
		ApplicantMinors: true,
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAlmatyIsUTCPlus5(t *testing.T) {
	p := testProgram(t)
	for _, d := range []time.Time{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)} {
		if _, off := d.In(p.Location).Zone(); off != 5*3600 {
			t.Errorf("offset of Asia/Almaty at %v = %d; want +5h (since 1 March 2024)", d, off)
		}
	}
}

func TestDeadline(t *testing.T) {
	p := testProgram(t)
	plus5 := time.FixedZone("+05", 5*3600)
	tests := []struct {
		period Period
		want   time.Time
	}{
		{Period{2026, time.January}, time.Date(2026, 2, 1, 0, 0, 0, 0, plus5)},
		{Period{2026, time.February}, time.Date(2026, 3, 1, 0, 0, 0, 0, plus5)},
		{Period{2028, time.February}, time.Date(2028, 3, 1, 0, 0, 0, 0, plus5)}, // leap year
		{Period{2026, time.December}, time.Date(2027, 1, 1, 0, 0, 0, 0, plus5)},
	}
	for _, tt := range tests {
		if got := p.Deadline(tt.period); !got.Equal(tt.want) {
			t.Errorf("Deadline(%v) = %v; want %v", tt.period, got, tt.want)
		}
	}
}

func TestActivationAtTheBoundary(t *testing.T) {
	p := testProgram(t)
	plus5 := time.FixedZone("+05", 5*3600)
	jan := Period{2026, time.January}
	feb2028 := Period{2028, time.February}
	tests := []struct {
		name   string
		period Period
		now    time.Time
		want   Code
	}{
		{"last second of January", jan, time.Date(2026, 1, 31, 23, 59, 59, 0, plus5), ""},
		{"last nanosecond of January", jan, time.Date(2026, 1, 31, 23, 59, 59, 999999999, plus5), ""},
		{"first instant of February", jan, time.Date(2026, 2, 1, 0, 0, 0, 0, plus5), CodeDeadlinePassed},
		{"same instant in UTC", jan, time.Date(2026, 1, 31, 19, 0, 0, 0, time.UTC), CodeDeadlinePassed},
		{"a second before in UTC", jan, time.Date(2026, 1, 31, 18, 59, 59, 0, time.UTC), ""},
		{"29 February of a leap year", feb2028, time.Date(2028, 2, 29, 23, 59, 59, 0, plus5), ""},
		{"1 March of a leap year", feb2028, time.Date(2028, 3, 1, 0, 0, 0, 0, plus5), CodeDeadlinePassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Voucher{ID: 1, State: StateIssued, Amount: 432500}
			err := v.Activate(7, tt.now, p.Deadline(tt.period))
			if ErrorCode(err) != tt.want {
				t.Errorf("Activate(%v) = %v; want code %q", tt.now, err, tt.want)
			}
		})
	}
}

func TestPeriodAtAndProgrammeDates(t *testing.T) {
	p := testProgram(t)
	plus5 := time.FixedZone("+05", 5*3600)
	// 31 January 20:00 UTC is already 1 February in Kazakhstan.
	if got := p.PeriodAt(time.Date(2026, 1, 31, 20, 0, 0, 0, time.UTC)); got != (Period{2026, time.February}) {
		t.Errorf("PeriodAt(31 Jan 20:00 UTC) = %v; want 2026-02", got)
	}
	tests := []struct {
		period string
		ok     bool
	}{{"2025-12", false}, {"2026-01", true}, {"2026-04", true}, {"2026-05", false}}
	for _, tt := range tests {
		per, _ := ParsePeriod(tt.period)
		err := p.CheckPeriod(per)
		if (err == nil) != tt.ok || (err != nil && ErrorCode(err) != CodeOutsideProgram) {
			t.Errorf("CheckPeriod(%s) = %v; want ok=%v", tt.period, err, tt.ok)
		}
	}
	if got, want := p.PeriodStart(Period{2026, time.January}), time.Date(2026, 1, 5, 0, 0, 0, 0, plus5); !got.Equal(want) {
		t.Errorf("PeriodStart(2026-01) = %v; want the programme start %v", got, want)
	}
	if got := p.EligibilityDay(Period{2026, time.March}).Format(time.DateOnly); got != "2026-03-01" {
		t.Errorf("EligibilityDay(2026-03) = %s; want 2026-03-01", got)
	}
	if got := len(p.Periods()); got != 4 {
		t.Errorf("Periods() = %d; want 4 (January–April)", got)
	}
	for _, bad := range []string{"2026-13", "2026-1", "26-01", "2026-01-01", ""} {
		if _, err := ParsePeriod(bad); ErrorCode(err) != CodeInvalid {
			t.Errorf("ParsePeriod(%q) = %v; want invalid", bad, err)
		}
	}
}

func TestDaysLeftAndQuietHours(t *testing.T) {
	p := testProgram(t)
	plus5 := time.FixedZone("+05", 5*3600)
	jan := Period{2026, time.January}
	days := []struct {
		now  time.Time
		want int
	}{
		{time.Date(2026, 1, 31, 23, 0, 0, 0, plus5), 1},
		{time.Date(2026, 1, 31, 0, 0, 0, 0, plus5), 1},
		{time.Date(2026, 1, 30, 23, 0, 0, 0, plus5), 2},
		{time.Date(2026, 1, 24, 10, 0, 0, 0, plus5), 8},
		{time.Date(2026, 2, 1, 0, 0, 0, 0, plus5), 0},
	}
	for _, tt := range days {
		if got := p.DaysLeft(jan, tt.now); got != tt.want {
			t.Errorf("DaysLeft(%v) = %d; want %d", tt.now, got, tt.want)
		}
	}
	quiet := []struct {
		hour int
		want bool
	}{{8, true}, {9, false}, {10, false}, {20, false}, {21, true}, {23, true}, {0, true}}
	for _, tt := range quiet {
		if got := p.InQuietHours(time.Date(2026, 1, 10, tt.hour, 30, 0, 0, plus5)); got != tt.want {
			t.Errorf("InQuietHours(%02d:30) = %v; want %v", tt.hour, got, tt.want)
		}
	}
}

func TestProgramValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Program)
		field string
	}{
		{"no cities", func(p *Program) { p.Cities = nil }, "cities"},
		{"end before start", func(p *Program) { p.End = p.Start.AddDate(0, 0, -1) }, "end"},
		{"missing MRP", func(p *Program) { p.MRP = map[int]Tiyn{} }, "mrp"},
		{"discount above 100", func(p *Program) { p.MaxDiscountBP = 10001 }, "max_discount_percent"},
		{"bad expiry", func(p *Program) { p.FundsExpire = "never" }, "activated_funds_expire"},
		{"bad mode", func(p *Program) { p.Mode = "cash" }, "voucher_mode"},
		{"reminder in quiet hours", func(p *Program) { p.ReminderHour = 22 }, "reminder_hour"},
		{"duplicate city", func(p *Program) { p.Cities = append(p.Cities, p.Cities[0]) }, "cities[2].id"},
		{"QR lifetime too short", func(p *Program) { p.QRLifetime = time.Second }, "qr_lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testProgram(t)
			tt.edit(p)
			err := p.Validate()
			fe, ok := err.(FieldError)
			if !ok || fe.Field != tt.field {
				t.Errorf("Validate() = %v; want a FieldError on %s", err, tt.field)
			}
		})
	}
}
