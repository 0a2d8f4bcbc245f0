// Package report renders the pilot's evaluation report (wallet.Report) for
// operators: CSV for spreadsheets, an aligned text table for the terminal and
// one self-contained HTML file whose SVG charts are drawn here, with no
// script and no network asset. It computes nothing about the programme: the
// figures and rates come from package wallet.
package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"socialwallet/wallet"
)

// Formats are the output formats Write knows.
var Formats = []string{"text", "csv", "html"}

// Write renders r in format.
func Write(w io.Writer, r *wallet.Report, format string) error {
	switch format {
	case "text":
		return Text(w, r)
	case "csv":
		return CSV(w, r)
	case "html":
		return HTML(w, r)
	}
	return fmt.Errorf("report: unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

const nbsp = "\u00a0"

// metric is one line of the human tables: a label and how to show a row's value.
type metric struct {
	label string
	show  func(wallet.ReportRow) string
	// section starts a group of lines under a heading.
	section string
}

func metrics() []metric {
	return []metric{
		{section: "Охват", label: "Семьи", show: func(r wallet.ReportRow) string { return count(r.Families) }},
		{label: "Получатели", show: func(r wallet.ReportRow) string { return count(r.Members) }},
		{label: "Привязаны к Telegram", show: func(r wallet.ReportRow) string { return countOf(r.Linked, r.Members) }},
		{label: "Дали согласие", show: func(r wallet.ReportRow) string { return countOf(r.Consented, r.Members) }},
		{label: "Заблокировали бота", show: func(r wallet.ReportRow) string { return count(r.BotBlocked) }},

		{section: "Ваучеры", label: "Выдано", show: func(r wallet.ReportRow) string { return count(r.Issued) }},
		{label: "Выдано, ₸", show: func(r wallet.ReportRow) string { return money(r.IssuedValue) }},
		{label: "Активировано", show: func(r wallet.ReportRow) string { return count(r.Activated) }},
		{label: "Активировано, ₸", show: func(r wallet.ReportRow) string { return money(r.ActivatedValue) }},
		{label: "Доля активации", show: func(r wallet.ReportRow) string { return percent(r.ActivationRate(), 1) }},
		{label: "Аннулировано", show: func(r wallet.ReportRow) string { return count(r.Annulled) }},
		{label: "Аннулировано, ₸", show: func(r wallet.ReportRow) string { return money(r.AnnulledValue) }},
		{label: "Доля аннулирования", show: func(r wallet.ReportRow) string { return percent(r.AnnulmentRate(), 1) }},

		{section: "Покупки", label: "Потрачено, ₸", show: func(r wallet.ReportRow) string { return money(r.Redeemed) }},
		{label: "Потрачено от активированного", show: func(r wallet.ReportRow) string { return percent(r.RedeemedShare(), 1) }},
		{label: "Скидка покупателям, ₸", show: func(r wallet.ReportRow) string { return money(r.DiscountSaved) }},
		{label: "Покупки", show: func(r wallet.ReportRow) string { return count(r.Purchases) }},
		{label: "Активные магазины", show: func(r wallet.ReportRow) string { return count(r.ActiveMerchants) }},

		{section: "Напоминания", label: "Отправлено", show: func(r wallet.ReportRow) string { return count(r.RemindersSent) }},
		{label: "Получили напоминание", show: func(r wallet.ReportRow) string { return count(r.RemindedMembers) }},
		{label: "Активировали за 48 ч", show: func(r wallet.ReportRow) string {
			return countOf(r.RemindedActivated, r.RemindedMembers)
		}},
	}
}

// count groups digits by three with no-break spaces: 1 234 567.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(nbsp)
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// countOf is "n (p %)": a head count and its share of a whole.
func countOf(n, of int64) string {
	if of == 0 {
		return count(n)
	}
	return count(n) + " (" + percent(wallet.Ratio{Num: n, Den: of}, 0) + ")"
}

func money(t wallet.Tiyn) string { return wallet.FormatTenge(t) }

// wholeMoney rounds to whole tenge, for headline figures.
func wholeMoney(t wallet.Tiyn) string {
	if t >= 0 {
		return wallet.FormatTenge((t + 50) / 100 * 100)
	}
	return wallet.FormatTenge((t - 50) / 100 * 100)
}

// percent shows a ratio as "83,3 %" (decimal comma, as Russian and Kazakh
// write it); "—" when there is nothing to divide by.
func percent(r wallet.Ratio, decimals int) string {
	v, ok := r.Value()
	if !ok {
		return "—"
	}
	return decimal(100*v, decimals) + nbsp + "%"
}

func decimal(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	return strings.Replace(s, ".", ",", 1)
}

// compactMoney is for chart axes: "850 ₸", "12,5 тыс. ₸", "1,2 млн ₸".
func compactMoney(t wallet.Tiyn) string {
	tenge := float64(t) / 100
	switch a := math.Abs(tenge); {
	case a >= 1e9:
		return trimZero(decimal(tenge/1e9, 1)) + nbsp + "млрд" + nbsp + "₸"
	case a >= 1e6:
		return trimZero(decimal(tenge/1e6, 1)) + nbsp + "млн" + nbsp + "₸"
	case a >= 1e3:
		return trimZero(decimal(tenge/1e3, 1)) + nbsp + "тыс." + nbsp + "₸"
	}
	return strconv.FormatFloat(tenge, 'f', 0, 64) + nbsp + "₸"
}

func trimZero(s string) string { return strings.TrimSuffix(s, ",0") }

var (
	monthsNominative = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
	monthsGenitive   = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}
	monthsShort      = [...]string{"янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"}
	monthsKK         = [...]string{"қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"}
)

// monthName is "Январь 2026".
func monthName(p wallet.Period) string {
	n := []rune(monthsNominative[p.Month-1])
	return string(unicode.ToUpper(n[0])) + string(n[1:]) + " " + strconv.Itoa(p.Year)
}

// monthNameKK is "2026 жылғы қаңтар".
func monthNameKK(p wallet.Period) string {
	return strconv.Itoa(p.Year) + " жылғы " + monthsKK[p.Month-1]
}

func monthShort(p wallet.Period) string { return monthsShort[p.Month-1] + " " + strconv.Itoa(p.Year) }

// moment is "10 марта 2026, 12:00 (UTC+5)" in the programme's zone.
func moment(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	_, off := l.Zone()
	zone := "UTC" + fmt.Sprintf("%+d", off/3600)
	if off%3600 != 0 {
		zone += fmt.Sprintf(":%02d", abs(off%3600)/60)
	}
	return fmt.Sprintf("%d %s %d, %02d:%02d (%s)", l.Day(), monthsGenitive[l.Month()-1], l.Year(), l.Hour(), l.Minute(), zone)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// cityName is the Russian name of a city of the report; "" is every city.
func cityName(r *wallet.Report, id string) string {
	if id == "" {
		return "Все города"
	}
	for _, c := range r.Cities {
		if c.ID == id {
			return c.NameRU
		}
	}
	return id
}

// status says whether a month's activation figures are final.
func status(r *wallet.Report, p wallet.Period) string {
	if r.Closed(p) {
		return "месяц завершён"
	}
	return "месяц идёт: данные на " + moment(r.AsOf, r.Location)
}

// rangeName is "январь – апрель 2026" or "Январь 2026".
func rangeName(r *wallet.Report) string {
	f, t := r.Query.From, r.Query.To
	if f == t {
		return monthName(f)
	}
	if f.Year == t.Year {
		return monthsNominative[f.Month-1] + " – " + monthsNominative[t.Month-1] + " " + strconv.Itoa(t.Year)
	}
	return monthsNominative[f.Month-1] + " " + strconv.Itoa(f.Year) + " – " + monthsNominative[t.Month-1] + " " + strconv.Itoa(t.Year)
}
