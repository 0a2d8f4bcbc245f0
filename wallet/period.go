package wallet

import (
	"fmt"
	"time"
)

// Period is a calendar month in the programme's zone: the unit of issuance.
type Period struct {
	Year  int
	Month time.Month
}

// ParsePeriod reads "YYYY-MM".
func ParsePeriod(s string) (Period, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Period{}, Errorf(CodeInvalid, "period %q: want YYYY-MM", s)
	}
	return Period{Year: t.Year(), Month: t.Month()}, nil
}

func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month)) }

// Next is the following month.
func (p Period) Next() Period {
	if p.Month == time.December {
		return Period{p.Year + 1, time.January}
	}
	return Period{p.Year, p.Month + 1}
}

// Prev is the previous month.
func (p Period) Prev() Period {
	if p.Month == time.January {
		return Period{p.Year - 1, time.December}
	}
	return Period{p.Year, p.Month - 1}
}

// Before orders periods.
func (p Period) Before(q Period) bool {
	return p.Year < q.Year || (p.Year == q.Year && p.Month < q.Month)
}

// FirstDay is the first calendar day as a date (midnight UTC, for DATE columns).
func (p Period) FirstDay() time.Time { return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, time.UTC) }

// PeriodOfDate is the period containing a DATE value.
func PeriodOfDate(d time.Time) Period { return Period{d.Year(), d.Month()} }

// MonthStart is the first instant of the month in loc.
func (p Period) MonthStart(loc *time.Location) time.Time {
	return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, loc)
}

// PeriodAt is the calendar month containing t in the programme zone.
func (pr *Program) PeriodAt(t time.Time) Period {
	l := t.In(pr.Location)
	return Period{l.Year(), l.Month()}
}

// Deadline is the first instant of the next month in the programme zone: a
// voucher may be activated strictly before it.
func (pr *Program) Deadline(p Period) time.Time { return p.Next().MonthStart(pr.Location) }

// PeriodStart is when vouchers of p become available: the month's start, or the
// programme's start for its first month.
func (pr *Program) PeriodStart(p Period) time.Time {
	s := p.MonthStart(pr.Location)
	if pr.Start.After(s) {
		return pr.Start
	}
	return s
}

// CheckPeriod refuses a period outside the programme's dates.
func (pr *Program) CheckPeriod(p Period) error {
	if !pr.Deadline(p).After(pr.Start) || !p.MonthStart(pr.Location).Before(pr.End) {
		return Errorf(CodeOutsideProgram, "period %s is outside the programme (%s – %s)", p,
			pr.Start.Format("2006-01-02"), pr.End.Format("2006-01-02"))
	}
	return nil
}

// Periods lists the programme's periods in order.
func (pr *Program) Periods() []Period {
	var out []Period
	for p := pr.PeriodAt(pr.Start); pr.CheckPeriod(p) == nil; p = p.Next() {
		out = append(out, p)
	}
	return out
}

// EligibilityDay is the date on which eligibility for p is judged: the period's
// first day, or the programme's start in its first month.
func (pr *Program) EligibilityDay(p Period) time.Time {
	s := pr.PeriodStart(p).In(pr.Location)
	return time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
}

// DaysLeft counts whole or part days from now until the deadline (0 once it passed).
func (pr *Program) DaysLeft(p Period, now time.Time) int {
	d := pr.Deadline(p).Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}
