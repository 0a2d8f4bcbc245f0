package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"socialwallet/program"
	"socialwallet/wallet"
)

var (
	jan = wallet.Period{Year: 2026, Month: time.January}
	feb = wallet.Period{Year: 2026, Month: time.February}
)

// sample is a two-month report over the pilot's cities, built the way the
// command builds it, with hand-picked figures; February is still running.
func sample(t *testing.T, mutate func(*wallet.Program)) *wallet.Report {
	t.Helper()
	prog := program.Default()
	if mutate != nil {
		mutate(prog)
	}
	spec, err := prog.ReportSpec(wallet.ReportQuery{From: jan, To: feb})
	if err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, prog.Location) }
	figs := wallet.ReportFigures{
		Rows: []wallet.ReportRow{
			{Period: jan, City: "kokshetau", Families: 2, Members: 6, Linked: 3, Consented: 3, Issued: 6, IssuedValue: 2_595_000,
				Activated: 5, ActivatedValue: 2_162_500, Annulled: 1, AnnulledValue: 432_500, Redeemed: 1_130_000,
				Purchases: 2, DiscountSaved: 170_000, ActiveMerchants: 2, RemindersSent: 4, RemindedMembers: 2, RemindedActivated: 1, BotBlocked: 1},
			{Period: jan, City: "akkol", Families: 1, Members: 3, Linked: 1, Consented: 1, Issued: 3, IssuedValue: 1_297_500,
				Activated: 1, ActivatedValue: 432_500, Annulled: 2, AnnulledValue: 865_000, Redeemed: 135_050,
				Purchases: 1, DiscountSaved: 10_000, ActiveMerchants: 1, RemindersSent: 3, RemindedMembers: 2},
			{Period: feb, City: "kokshetau", Families: 2, Members: 5, Issued: 5, IssuedValue: 2_162_500, Activated: 2, ActivatedValue: 865_000},
		},
		Merchants: map[wallet.Period]int64{jan: 3},
		Activations: []wallet.ReportDayCount{
			{City: "kokshetau", Period: jan, Day: day(1, 6), Count: 3},
			{City: "kokshetau", Period: jan, Day: day(1, 26), Count: 2},
			{City: "akkol", Period: jan, Day: day(1, 30), Count: 1},
			{City: "kokshetau", Period: feb, Day: day(2, 3), Count: 2},
		},
	}
	return wallet.BuildReport(prog, spec, figs, time.Date(2026, time.February, 10, 12, 0, 0, 0, prog.Location))
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := CSV(&b, sample(t, nil)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+2*3 {
		t.Fatalf("%d records; want a header and 2 months × 3 cities", len(recs))
	}
	if got := strings.Join(recs[0], ","); got != strings.Join(csvHeader, ",") || len(csvHeader) != 26 {
		t.Errorf("header = %s", got)
	}
	row := func(period, city string) map[string]string {
		for _, r := range recs[1:] {
			if r[0] == period && r[1] == city {
				m := map[string]string{}
				for i, h := range recs[0] {
					m[h] = r[i]
				}
				return m
			}
		}
		t.Fatalf("no row %s %s", period, city)
		return nil
	}
	for _, tc := range []struct {
		period, city, column, want string
	}{
		{"2026-01", "kokshetau", "city_name", "Кокшетау"},
		{"2026-01", "kokshetau", "month_closed", "true"},
		{"2026-01", "kokshetau", "issued_kzt", "25950.00"},             // 2 595 000 tiyn
		{"2026-01", "kokshetau", "activation_rate", "0.8333"},          // 5 / 6
		{"2026-01", "kokshetau", "annulment_rate", "0.1667"},           // 1 / 6
		{"2026-01", "kokshetau", "redeemed_share", "0.5225"},           // 1 130 000 / 2 162 500
		{"2026-01", "kokshetau", "reminded_activation_rate", "0.5000"}, // 1 / 2
		{"2026-01", "akkol", "redeemed_kzt", "1350.50"},                // part tenge stays exact
		{"2026-01", "akkol", "reminded_activation_rate", "0.0000"},     // 0 / 2
		{"2026-01", "pavlodar", "issued", "0"},
		{"2026-01", "pavlodar", "activation_rate", ""}, // nothing issued: no rate
		{"2026-02", "kokshetau", "month_closed", "false"},
		{"2026-02", "kokshetau", "activated", "2"},
	} {
		if got := row(tc.period, tc.city)[tc.column]; got != tc.want {
			t.Errorf("%s %s %s = %q; want %q", tc.period, tc.city, tc.column, got, tc.want)
		}
	}
}

// Every CSV column carries its own figure: a row whose figures all differ is
// written, and each column is read back by its header.
func TestCSVColumnsCarryTheirFigures(t *testing.T) {
	prog := program.Default()
	spec, err := prog.ReportSpec(wallet.ReportQuery{From: jan, To: jan, City: "akkol"})
	if err != nil {
		t.Fatal(err)
	}
	figs := wallet.ReportFigures{Rows: []wallet.ReportRow{{Period: jan, City: "akkol",
		Families: 1, Members: 19, Linked: 3, Consented: 4, Issued: 20, IssuedValue: 600, Activated: 7, ActivatedValue: 800,
		Annulled: 9, AnnulledValue: 1000, Redeemed: 400, Purchases: 13, DiscountSaved: 1200, ActiveMerchants: 14,
		RemindersSent: 15, RemindedMembers: 16, RemindedActivated: 8, BotBlocked: 2}}}
	var b bytes.Buffer
	if err := CSV(&b, wallet.BuildReport(prog, spec, figs, time.Date(2026, time.March, 1, 0, 0, 0, 0, prog.Location))); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("CSV = %v, %v; want a header and one row", recs, err)
	}
	got := map[string]string{}
	for i, h := range recs[0] {
		got[h] = recs[1][i]
	}
	want := map[string]string{
		"period": "2026-01", "city": "akkol", "city_name": "Акколь", "month_closed": "true",
		"families": "1", "members": "19", "linked": "3", "consented": "4",
		"issued": "20", "issued_kzt": "6.00", "activated": "7", "activated_kzt": "8.00", "activation_rate": "0.3500",
		"annulled": "9", "annulled_kzt": "10.00", "annulment_rate": "0.4500",
		"redeemed_kzt": "4.00", "redeemed_share": "0.5000", "discount_saved_kzt": "12.00", "purchases": "13", "active_merchants": "14",
		"reminders_sent": "15", "reminded_members": "16", "reminded_activated_48h": "8", "reminded_activation_rate": "0.5000",
		"bot_blocked": "2",
	}
	if len(got) != len(want) {
		t.Errorf("CSV has %d columns; want %d", len(got), len(want))
	}
	for col, w := range want {
		if got[col] != w {
			t.Errorf("CSV column %s = %q; want %q", col, got[col], w)
		}
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, sample(t, nil)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Январь 2026 (2026-01) — месяц завершён",
		"Февраль 2026 (2026-02) — месяц идёт: данные на 10 февраля 2026, 12:00 (UTC+5)",
		"Доля активации",
		"83,3\u00a0%",   // Kokshetau, January: 5 of 6
		"3 (50\u00a0%)", // linked: 3 of 6
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	// Within a month's table every figure line is as wide as its header:
	// the numbers are right-aligned to one edge.
	for _, block := range strings.Split(out, "\n\n")[1:] {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		width := utf8.RuneCountInString(lines[1])
		for _, l := range lines[2:] {
			if strings.HasSuffix(l, ":") {
				continue // a section heading
			}
			if w := utf8.RuneCountInString(l); w != width {
				t.Errorf("line %q is %d characters; the header is %d", l, w, width)
			}
		}
	}
}

func TestHTML(t *testing.T) {
	// A programme file may name a city with anything; it must come out as text.
	rep := sample(t, func(p *wallet.Program) { p.Cities[0].NameRU = `Кокшетау <script>alert("x")</script> & Co` })
	var b bytes.Buffer
	if err := HTML(&b, rep); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, "ZgotmplZ") {
		t.Errorf("page contains a script or a value html/template refused")
	}
	if !strings.Contains(page, "Кокшетау &lt;script&gt;") {
		t.Errorf("city name not escaped")
	}
	// Self-contained: no external resource. The SVG namespace is a name, not a fetch.
	external := regexp.MustCompile(`(?i)(src=|href="http|url\(|@import|https?://)`)
	for _, m := range external.FindAllStringIndex(page, -1) {
		if s := page[m[0]:min(m[1]+26, len(page))]; !strings.HasPrefix(s, "http://www.w3.org/2000/svg") {
			t.Errorf("external reference %q", s)
		}
	}
	// Each chart is well-formed XML with the shapes it should have.
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 4 { // activation, spend vs. annulled, two curves
		t.Fatalf("%d charts; want 4", len(svgs))
	}
	for i, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		elems := map[string]int{}
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chart %d is not well-formed: %v", i, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				elems[se.Name.Local]++
			}
		}
		switch i {
		case 0: // bars for Kokshetau and Akkol in January, Kokshetau in February
			if elems["rect"] != 3 {
				t.Errorf("activation chart: %d bars; want 3", elems["rect"])
			}
		case 1: // January: Kokshetau spent, unspent, annulled; Akkol the same; February: spent? no — unspent and pending
			if elems["rect"] != 8 {
				t.Errorf("value chart: %d segments; want 8", elems["rect"])
			}
		case 2: // January: two cities and the total, three reminder lines
			if elems["polyline"] != 3 {
				t.Errorf("January curve: %d lines; want 3", elems["polyline"])
			}
		}
	}
	for _, want := range []string{"Социальный кошелёк: оценка пилота", "Әлеуметтік әмиян", "месяц идёт", "−7", "−3", "−1"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestWriteRefusesUnknownFormat(t *testing.T) {
	if err := Write(io.Discard, sample(t, nil), "xlsx"); err == nil {
		t.Errorf(`Write(format "xlsx") = nil; want an error`)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		name, got, want string
	}{
		{"count", count(1234567), "1\u00a0234\u00a0567"},
		{"count small", count(12), "12"},
		{"count negative", count(-1234), "−1\u00a0234"},
		{"percent", percent(wallet.Ratio{Num: 5, Den: 6}, 1), "83,3\u00a0%"},
		{"percent of nothing", percent(wallet.Ratio{}, 1), "—"},
		{"countOf", countOf(3, 6), "3 (50\u00a0%)"},
		{"tenge", tenge(1_350_05), "1350.05"},
		{"tenge negative", tenge(-5), "-0.05"},
		{"whole money rounds", wholeMoney(296_782_229), "2\u00a0967\u00a0822\u00a0₸"},
		{"whole money rounds up", wholeMoney(150), "2\u00a0₸"},
		{"compact tenge", compactMoney(85_000), "850\u00a0₸"},
		{"compact thousands", compactMoney(1_250_000), "12,5\u00a0тыс.\u00a0₸"},
		{"compact millions", compactMoney(120_000_000), "1,2\u00a0млн\u00a0₸"},
		{"compact round millions", compactMoney(200_000_000), "2\u00a0млн\u00a0₸"},
		{"month", monthName(feb), "Февраль 2026"},
		{"month kk", monthNameKK(feb), "2026 жылғы ақпан"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q; want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		top, step, max float64
	}{
		{69_000_000, 20_000_000, 80_000_000},
		{1_000, 200, 1_000},
		{0, 2_000, 10_000},
		{2_400, 500, 2_500},
	} {
		if step, max := niceStep(tc.top, 5); step != tc.step || max != tc.max {
			t.Errorf("niceStep(%v) = %v, %v; want %v, %v", tc.top, step, max, tc.step, tc.max)
		}
	}
}
