package wallet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"socialwallet/program"
	"socialwallet/wallet"
)

func TestReportSpec(t *testing.T) {
	prog := program.Default() // 5 January – 1 May 2026, UTC+5
	jan, feb, apr := wallet.Period{Year: 2026, Month: 1}, wallet.Period{Year: 2026, Month: 2}, wallet.Period{Year: 2026, Month: 4}
	for _, tc := range []struct {
		name   string
		q      wallet.ReportQuery
		code   wallet.Code
		months int
		days   int // day bounds: days of the range + 1
	}{
		{"one month", wallet.ReportQuery{From: jan, To: jan}, "", 1, 32},
		{"two months", wallet.ReportQuery{From: jan, To: feb, City: "akkol"}, "", 2, 31 + 28 + 1},
		{"whole programme", wallet.ReportQuery{From: jan, To: apr}, "", 4, 31 + 28 + 31 + 30 + 1},
		{"reversed", wallet.ReportQuery{From: feb, To: jan}, wallet.CodeInvalid, 0, 0},
		{"unknown city", wallet.ReportQuery{From: jan, To: jan, City: "almaty"}, wallet.CodeInvalid, 0, 0},
		{"before the programme", wallet.ReportQuery{From: wallet.Period{Year: 2025, Month: 12}, To: jan}, wallet.CodeOutsideProgram, 0, 0},
		{"after the programme", wallet.ReportQuery{From: apr, To: wallet.Period{Year: 2026, Month: 5}}, wallet.CodeOutsideProgram, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := prog.ReportSpec(tc.q)
			if tc.code != "" {
				if !wallet.IsCode(err, tc.code) {
					t.Fatalf("ReportSpec(%+v) = %v; want code %s", tc.q, err, tc.code)
				}
				return
			}
			if err != nil || len(spec.Months) != tc.months || len(spec.Days) != tc.days {
				t.Fatalf("ReportSpec(%+v) = %d months, %d days, %v; want %d, %d", tc.q, len(spec.Months), len(spec.Days), err, tc.months, tc.days)
			}
			first, last := spec.Months[0], spec.Months[len(spec.Months)-1]
			// Bounds are local midnights: 1 January 00:00 +05:00 is 31 December 19:00 UTC.
			if want := time.Date(tc.q.From.Year, tc.q.From.Month, 1, 0, 0, 0, 0, prog.Location); !first.Start.Equal(want) || !spec.Days[0].Equal(want) {
				t.Errorf("start = %v, first day %v; want %v", first.Start, spec.Days[0], want)
			}
			if !last.End.Equal(prog.Deadline(tc.q.To)) || !spec.Days[len(spec.Days)-1].Equal(last.End) {
				t.Errorf("end = %v, last bound %v; want the deadline %v", last.End, spec.Days[len(spec.Days)-1], prog.Deadline(tc.q.To))
			}
			if _, off := spec.Days[1].Zone(); off != 5*3600 || spec.Days[1].Sub(spec.Days[0]) != 24*time.Hour {
				t.Errorf("second bound %v; want a day after the first, at +05:00", spec.Days[1])
			}
		})
	}
}

// figures is a source that hands back canned figures, to test the arithmetic
// that BuildReport does on them.
type figures wallet.ReportFigures

func (f figures) ReportFigures(context.Context, wallet.ReportSpec) (wallet.ReportFigures, error) {
	return wallet.ReportFigures(f), nil
}

func TestBuildReport(t *testing.T) {
	prog := program.Default()
	jan, feb := wallet.Period{Year: 2026, Month: 1}, wallet.Period{Year: 2026, Month: 2}
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, prog.Location) }
	src := figures{
		Rows: []wallet.ReportRow{
			{Period: jan, City: "akkol", Families: 2, Members: 5, Issued: 5, IssuedValue: 5 * 432500, Activated: 4, ActivatedValue: 4 * 432500,
				Annulled: 1, AnnulledValue: 432500, Redeemed: 865000, Purchases: 3, DiscountSaved: 30000, ActiveMerchants: 2,
				RemindersSent: 4, RemindedMembers: 2, RemindedActivated: 1},
			{Period: jan, City: "kokshetau", Families: 1, Members: 2, Issued: 2, IssuedValue: 2 * 432500, Activated: 1, ActivatedValue: 432500,
				Purchases: 1, DiscountSaved: 5000, ActiveMerchants: 2},
			// A city the programme file no longer lists keeps its figures.
			{Period: feb, City: "almaty", Families: 1, Members: 1, Issued: 1, IssuedValue: 432500},
		},
		Merchants: map[wallet.Period]int64{jan: 3},
		Activations: []wallet.ReportDayCount{
			{City: "akkol", Period: jan, Day: day(1, 6), Count: 2},
			{City: "akkol", Period: jan, Day: day(1, 26), Count: 2},
			{City: "kokshetau", Period: jan, Day: day(1, 31), Count: 1},
		},
	}
	asOf := time.Date(2026, 2, 10, 12, 0, 0, 0, prog.Location)
	rep, err := wallet.MakeReport(context.Background(), prog, src, wallet.ReportQuery{From: jan, To: feb}, asOf)
	if err != nil {
		t.Fatal(err)
	}

	// 2 months × (3 programme cities + almaty), zeros where nothing happened.
	if len(rep.Rows) != 8 || len(rep.Totals) != 2 {
		t.Fatalf("%d rows, %d totals; want 8, 2", len(rep.Rows), len(rep.Totals))
	}
	var order []string
	for _, r := range rep.Rows[:4] {
		order = append(order, r.City)
	}
	if got := fmt.Sprint(order); got != "[kokshetau akkol pavlodar almaty]" {
		t.Errorf("city order = %s; want the programme's, then unknown ones", got)
	}
	if r := rep.Row(jan, "pavlodar"); r != (wallet.ReportRow{Period: jan, City: "pavlodar"}) {
		t.Errorf("Row(jan, pavlodar) = %+v; want zeros", r)
	}

	// January's total: 7 vouchers, 5 activated; merchants from the source
	// (3 distinct), not 2 + 2.
	tot := rep.Total(jan)
	if tot.Issued != 7 || tot.Activated != 5 || tot.Families != 3 || tot.ActiveMerchants != 3 || tot.DiscountSaved != 35000 {
		t.Errorf("Total(jan) = %+v; want 7 issued, 5 activated, 3 families, 3 merchants, 350 ₸ saved", tot)
	}
	for _, tc := range []struct {
		name string
		got  wallet.Ratio
		num  int64
		den  int64
		val  float64
		ok   bool
	}{
		{"activation", tot.ActivationRate(), 5, 7, 5.0 / 7, true},
		{"annulment", tot.AnnulmentRate(), 1, 7, 1.0 / 7, true},
		{"redeemed share", tot.RedeemedShare(), 865000, 5 * 432500, 0.4, true},
		{"reminder conversion", tot.ReminderConversion(), 1, 2, 0.5, true},
		{"nothing issued", rep.Row(feb, "akkol").ActivationRate(), 0, 0, 0, false},
	} {
		v, ok := tc.got.Value()
		if tc.got != (wallet.Ratio{Num: tc.num, Den: tc.den}) || ok != tc.ok || v != tc.val {
			t.Errorf("%s = %+v (%v, %v); want %d/%d (%v, %v)", tc.name, tc.got, v, ok, tc.num, tc.den, tc.val, tc.ok)
		}
	}
	// Pending: January's Kokshetau voucher neither activated nor annulled.
	if k := rep.Row(jan, "kokshetau"); k.Pending() != 1 || k.PendingValue() != 432500 || k.Unspent() != 432500 {
		t.Errorf("kokshetau: pending %d (%s), unspent %s; want 1 (4 325 ₸), 4 325 ₸", k.Pending(), k.PendingValue(), k.Unspent())
	}
	// Flows over the range add vouchers and money but not head counts.
	if f := rep.Flows(); f.Issued != 8 || f.IssuedValue != 8*432500 || f.Families != 0 || f.ActiveMerchants != 0 {
		t.Errorf("Flows() = %+v; want 8 vouchers, no head counts", f)
	}
	if !rep.Closed(jan) || rep.Closed(feb) {
		t.Errorf("Closed: jan %v, feb %v on 10 February; want true, false", rep.Closed(jan), rep.Closed(feb))
	}

	curve := func(p wallet.Period, city string) wallet.ActivationCurve {
		for _, c := range rep.Curves {
			if c.Period == p && c.City == city {
				return c
			}
		}
		t.Fatalf("no curve %s %q", p, city)
		return wallet.ActivationCurve{}
	}
	a := curve(jan, "akkol")
	for _, tc := range []struct{ day, want int }{{5, 0}, {6, 2}, {25, 2}, {26, 4}, {31, 4}} {
		if got := a.Share(tc.day); got != (wallet.Ratio{Num: int64(tc.want), Den: 5}) {
			t.Errorf("akkol Share(%d) = %+v; want %d/5", tc.day, got, tc.want)
		}
	}
	all := curve(jan, "")
	if all.Share(31) != (wallet.Ratio{Num: 5, Den: 7}) || all.FirstDay != 5 || all.LastDay != 31 || fmt.Sprint(all.ReminderDays) != "[25 29 31]" {
		t.Errorf("january total curve = %+v; want 5/7 by the 31st, days 5–31, reminders 25, 29, 31", all)
	}
	// February runs: its curve stops at the 10th; reminders on 22, 26, 28.
	if f := curve(feb, ""); f.LastDay != 10 || f.FirstDay != 1 || fmt.Sprint(f.ReminderDays) != "[22 26 28]" || f.DaysInMonth != 28 {
		t.Errorf("february curve = %+v; want days 1–10 of 28, reminders 22, 26, 28", f)
	}
}
