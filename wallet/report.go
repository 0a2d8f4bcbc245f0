package wallet

import (
	"context"
	"sort"
	"time"
)

// The evaluation report: what the pilot did, per city and month, read from
// the vouchers, the ledger, purchases, links, consents and sent notifications
// (never from counters). This file holds its shapes and the arithmetic on
// them; a ReportSource reads the figures and package report renders them.

// ReportQuery selects what an evaluation report covers.
type ReportQuery struct {
	From, To Period // inclusive
	City     string // "" for every city
}

// ReportMonth is one month of a report with its bounds in the programme zone.
type ReportMonth struct {
	Period     Period
	Start, End time.Time // [Start, End): the calendar month; End is the activation deadline
}

// ReportSpec is what a ReportSource needs: the months with their instants, the
// city filter and the local midnights that split them into days.
type ReportSpec struct {
	Months []ReportMonth
	City   string
	// Days are the local midnights from Months[0].Start to the last End
	// inclusive, ascending: day i is [Days[i], Days[i+1]).
	Days []time.Time
}

// ReportRow is one city's figures for one month (City "" for all cities). What
// each field counts is defined in the README's "Evaluation report" section.
type ReportRow struct {
	Period Period
	City   string

	Families  int64 // families with a voucher of the month
	Members   int64 // members with a voucher of the month (one voucher each)
	Linked    int64 // of those, linked to Telegram before the month ended
	Consented int64 // of those, with a consent in force at some moment of the month

	Issued         int64 // vouchers of the month
	IssuedValue    Tiyn
	Activated      int64 // vouchers of the month with an activation ledger row
	ActivatedValue Tiyn  // sum of those activation rows
	Annulled       int64 // vouchers of the month annulled unactivated
	AnnulledValue  Tiyn
	Redeemed       Tiyn // −(redemption + void ledger rows) of the month's vouchers

	Purchases       int64 // non-voided purchases made in the month
	DiscountSaved   Tiyn  // their discount
	ActiveMerchants int64 // distinct merchants of those purchases

	RemindersSent     int64 // reminder notifications of the month marked sent
	RemindedMembers   int64 // members with at least one of them
	RemindedActivated int64 // of those, who activated within 48 h of their first
	BotBlocked        int64 // members with a voucher whose link was blocked before the month ended
}

// ReminderWindow is how soon after a member's first reminder of a month an
// activation counts as following it.
const ReminderWindow = 48 * time.Hour

// Ratio is a share kept as its two counts, so nothing is divided by zero and
// renderers choose their own precision.
type Ratio struct{ Num, Den int64 }

// Value is Num/Den; ok is false when there is nothing to divide by.
func (r Ratio) Value() (v float64, ok bool) {
	if r.Den == 0 {
		return 0, false
	}
	return float64(r.Num) / float64(r.Den), true
}

// ActivationRate is activated vouchers over issued vouchers.
func (r ReportRow) ActivationRate() Ratio { return Ratio{r.Activated, r.Issued} }

// AnnulmentRate is annulled vouchers over issued vouchers.
func (r ReportRow) AnnulmentRate() Ratio { return Ratio{r.Annulled, r.Issued} }

// RedeemedShare is the value spent over the value activated.
func (r ReportRow) RedeemedShare() Ratio { return Ratio{int64(r.Redeemed), int64(r.ActivatedValue)} }

// ReminderConversion is reminded members who activated within ReminderWindow
// over reminded members.
func (r ReportRow) ReminderConversion() Ratio { return Ratio{r.RemindedActivated, r.RemindedMembers} }

// Pending counts vouchers neither activated nor annulled: the month is still
// open, or its annulment has not run yet.
func (r ReportRow) Pending() int64 { return r.Issued - r.Activated - r.Annulled }

// PendingValue is the value of the pending vouchers.
func (r ReportRow) PendingValue() Tiyn { return r.IssuedValue - r.ActivatedValue - r.AnnulledValue }

// Unspent is activated value not (or not yet) spent: still on balance or lapsed.
func (r ReportRow) Unspent() Tiyn { return r.ActivatedValue - r.Redeemed }

// add sums every field; callers fix the fields that do not add up.
func (r *ReportRow) add(o ReportRow) {
	r.Families += o.Families
	r.Members += o.Members
	r.Linked += o.Linked
	r.Consented += o.Consented
	r.Issued += o.Issued
	r.IssuedValue += o.IssuedValue
	r.Activated += o.Activated
	r.ActivatedValue += o.ActivatedValue
	r.Annulled += o.Annulled
	r.AnnulledValue += o.AnnulledValue
	r.Redeemed += o.Redeemed
	r.Purchases += o.Purchases
	r.DiscountSaved += o.DiscountSaved
	r.ActiveMerchants += o.ActiveMerchants
	r.RemindersSent += o.RemindersSent
	r.RemindedMembers += o.RemindedMembers
	r.RemindedActivated += o.RemindedActivated
	r.BotBlocked += o.BotBlocked
}

// ReportDayCount is how many vouchers of a month and city were activated on one
// local day (Day is the midnight that starts it).
type ReportDayCount struct {
	City   string
	Period Period
	Day    time.Time
	Count  int64
}

// ReportFigures is what a ReportSource reads.
type ReportFigures struct {
	Rows []ReportRow // per city and month that has any figure
	// Merchants counts, per month, distinct merchants with a non-voided purchase
	// by a family of the selected cities: one merchant may serve two cities, so
	// the rows' ActiveMerchants do not add up to it.
	Merchants   map[Period]int64
	Activations []ReportDayCount
}

// ReportSource reads a report's figures in one consistent snapshot.
type ReportSource interface {
	ReportFigures(ctx context.Context, spec ReportSpec) (ReportFigures, error)
}

// ActivationCurve is the cumulative count of a month's vouchers activated by
// each day of the month, for one city or all (City "").
type ActivationCurve struct {
	Period      Period
	City        string
	Issued      int64
	DaysInMonth int
	FirstDay    int // the first day vouchers existed: the programme start in its first month
	LastDay     int // the last day with figures: the month's last, or today while it runs
	// Cumulative[d-1] is the vouchers activated by the end of day d.
	Cumulative []int64
	// ReminderDays are the days of the month on which the programme's
	// reminders go out (its reminder_days before the deadline).
	ReminderDays []int
}

// Share is the share of issued vouchers activated by the end of day.
func (c ActivationCurve) Share(day int) Ratio {
	if day < 1 || day > len(c.Cumulative) {
		return Ratio{0, c.Issued}
	}
	return Ratio{c.Cumulative[day-1], c.Issued}
}

// Report is a built evaluation report.
type Report struct {
	Title    string
	Query    ReportQuery
	Location *time.Location
	AsOf     time.Time     // when the figures were read
	Cities   []City        // covered, in programme order (then any unknown to the programme)
	Months   []ReportMonth // in order
	// Rows has one row for every month × city, month-major, zeros where nothing happened.
	Rows []ReportRow
	// Totals has one row per month over Cities, City "".
	Totals []ReportRow
	// Curves has per month one curve per city, then the month's total.
	Curves []ActivationCurve
	// ReminderDaysBefore is the programme's reminder_days; reminders go out
	// at ReminderHour local time.
	ReminderDaysBefore []int
	ReminderHour       int
}

// Row is a city's row of a month (zero if absent).
func (r *Report) Row(p Period, city string) ReportRow {
	for _, x := range r.Rows {
		if x.Period == p && x.City == city {
			return x
		}
	}
	return ReportRow{Period: p, City: city}
}

// Total is a month's row over all cities of the report.
func (r *Report) Total(p Period) ReportRow {
	for _, x := range r.Totals {
		if x.Period == p {
			return x
		}
	}
	return ReportRow{Period: p}
}

// Closed reports whether the month's activation deadline had passed when the
// figures were read: its activation figures no longer change.
func (r *Report) Closed(p Period) bool {
	for _, m := range r.Months {
		if m.Period == p {
			return !r.AsOf.Before(m.End)
		}
	}
	return false
}

// Flows sums, over every month, the figures that are flows: vouchers, value,
// purchases, reminders, and reminded members as member-months (so the
// range's ReminderConversion is the months' weighted mean). Head counts
// (families, members, linked, consented, merchants, bot blocked) are left
// zero: the same people recur every month.
func (r *Report) Flows() ReportRow {
	var t ReportRow
	for _, x := range r.Totals {
		t.add(x)
	}
	t.Families, t.Members, t.Linked, t.Consented, t.ActiveMerchants, t.BotBlocked = 0, 0, 0, 0, 0, 0
	return t
}

// ReportSpec checks a query against the programme and gives the months and
// day bounds a source reads.
func (pr *Program) ReportSpec(q ReportQuery) (ReportSpec, error) {
	if q.City != "" {
		if _, ok := pr.City(q.City); !ok {
			return ReportSpec{}, Errorf(CodeInvalid, "unknown city %q", q.City)
		}
	}
	if q.To.Before(q.From) {
		return ReportSpec{}, Errorf(CodeInvalid, "period %s is after %s", q.From, q.To)
	}
	for _, p := range []Period{q.From, q.To} {
		if err := pr.CheckPeriod(p); err != nil {
			return ReportSpec{}, err
		}
	}
	spec := ReportSpec{City: q.City}
	for p := q.From; !q.To.Before(p); p = p.Next() {
		spec.Months = append(spec.Months, ReportMonth{Period: p, Start: p.MonthStart(pr.Location), End: pr.Deadline(p)})
	}
	first := spec.Months[0].Start
	end := spec.Months[len(spec.Months)-1].End
	for i := 0; ; i++ {
		d := time.Date(first.Year(), first.Month(), first.Day()+i, 0, 0, 0, 0, pr.Location)
		spec.Days = append(spec.Days, d)
		if !d.Before(end) {
			break
		}
	}
	return spec, nil
}

// MakeReport reads and builds the report for q as of asOf.
func MakeReport(ctx context.Context, pr *Program, src ReportSource, q ReportQuery, asOf time.Time) (*Report, error) {
	spec, err := pr.ReportSpec(q)
	if err != nil {
		return nil, err
	}
	figs, err := src.ReportFigures(ctx, spec)
	if err != nil {
		return nil, err
	}
	return BuildReport(pr, spec, figs, asOf), nil
}

// BuildReport arranges figures into a report: every month × city present,
// totals per month and the activation curves.
func BuildReport(pr *Program, spec ReportSpec, figs ReportFigures, asOf time.Time) *Report {
	r := &Report{
		Title:              pr.Name,
		Query:              ReportQuery{City: spec.City},
		Location:           pr.Location,
		AsOf:               asOf,
		Months:             spec.Months,
		ReminderDaysBefore: append([]int(nil), pr.ReminderDays...),
		ReminderHour:       pr.ReminderHour,
	}
	if n := len(spec.Months); n > 0 {
		r.Query.From, r.Query.To = spec.Months[0].Period, spec.Months[n-1].Period
	}
	r.Cities = reportCities(pr, spec.City, figs)

	byKey := map[reportKey]ReportRow{}
	for _, x := range figs.Rows {
		k := reportKey{x.Period, x.City}
		cur := byKey[k]
		cur.add(x)
		cur.Period, cur.City = x.Period, x.City
		byKey[k] = cur
	}
	for _, m := range spec.Months {
		total := ReportRow{Period: m.Period}
		for _, c := range r.Cities {
			row, ok := byKey[reportKey{m.Period, c.ID}]
			if !ok {
				row = ReportRow{Period: m.Period, City: c.ID}
			}
			r.Rows = append(r.Rows, row)
			total.add(row)
		}
		total.ActiveMerchants = figs.Merchants[m.Period]
		r.Totals = append(r.Totals, total)
	}
	r.Curves = reportCurves(pr, r, figs.Activations)
	return r
}

type reportKey struct {
	p    Period
	city string
}

// reportCities is the selected programme cities, then any city found in the
// figures that the programme file no longer lists, so no figure is dropped.
func reportCities(pr *Program, only string, figs ReportFigures) []City {
	var out []City
	known := map[string]bool{}
	for _, c := range pr.Cities {
		known[c.ID] = true
		if only == "" || c.ID == only {
			out = append(out, c)
		}
	}
	extra := map[string]bool{}
	for _, x := range figs.Rows {
		if !known[x.City] {
			extra[x.City] = true
		}
	}
	for _, x := range figs.Activations {
		if !known[x.City] {
			extra[x.City] = true
		}
	}
	ids := make([]string, 0, len(extra))
	for id := range extra {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, City{ID: id, NameKK: id, NameRU: id})
	}
	return out
}

func reportCurves(pr *Program, r *Report, days []ReportDayCount) []ActivationCurve {
	perDay := map[reportKey][]int64{}
	for _, m := range r.Months {
		n := reportDaysIn(m.Period)
		for _, c := range r.Cities {
			perDay[reportKey{m.Period, c.ID}] = make([]int64, n)
		}
	}
	for _, d := range days {
		counts, ok := perDay[reportKey{d.Period, d.City}]
		if !ok {
			continue // a month outside the report
		}
		day := 1
		if local := d.Day.In(pr.Location); local.Year() == d.Period.Year && local.Month() == d.Period.Month {
			day = local.Day()
		} else if !local.Before(d.Period.MonthStart(pr.Location)) {
			day = len(counts) // cannot happen before the deadline; keep it in the month
		}
		counts[day-1] += d.Count
	}
	var out []ActivationCurve
	for _, m := range r.Months {
		n := reportDaysIn(m.Period)
		first := pr.PeriodStart(m.Period).In(pr.Location).Day()
		last := n
		if r.AsOf.Before(m.End) {
			last = 0
			if !r.AsOf.Before(m.Start) {
				last = r.AsOf.In(pr.Location).Day()
			}
		}
		reminders := reportReminderDays(pr, m.Period)
		total := ActivationCurve{Period: m.Period, Issued: r.Total(m.Period).Issued, DaysInMonth: n,
			FirstDay: first, LastDay: last, Cumulative: make([]int64, n), ReminderDays: reminders}
		for _, c := range r.Cities {
			cur := ActivationCurve{Period: m.Period, City: c.ID, Issued: r.Row(m.Period, c.ID).Issued, DaysInMonth: n,
				FirstDay: first, LastDay: last, Cumulative: make([]int64, n), ReminderDays: reminders}
			var run int64
			for i, k := range perDay[reportKey{m.Period, c.ID}] {
				run += k
				cur.Cumulative[i] = run
				total.Cumulative[i] += run
			}
			out = append(out, cur)
		}
		out = append(out, total)
	}
	return out
}

// reportReminderDays gives the days of p's month on which its reminders are
// due, by the same schedule the reminder jobs follow.
func reportReminderDays(pr *Program, p Period) []int {
	var out []int
	for _, d := range pr.ReminderSchedule(p) {
		out = append(out, pr.ReminderAt(p, d).In(pr.Location).Day())
	}
	sort.Ints(out)
	return out
}

func reportDaysIn(p Period) int { return p.Next().FirstDay().AddDate(0, 0, -1).Day() }
