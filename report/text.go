package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"socialwallet/wallet"
)

// Text writes, per month, a table with a line per figure and a column per
// city (and the total when there are several): narrow enough for a terminal
// however many months are asked for.
func Text(w io.Writer, r *wallet.Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "Социальный кошелёк — оценка пилота / Әлеуметтік әмиян — пилотты бағалау")
	fmt.Fprintf(bw, "Программа: %s\n", r.Title)
	fmt.Fprintf(bw, "Период: %s; города: %s; данные на %s\n", rangeName(r), citiesLine(r), moment(r.AsOf, r.Location))
	for _, m := range r.Months {
		fmt.Fprintf(bw, "\n%s (%s) — %s\n", monthName(m.Period), m.Period, status(r, m.Period))
		head := []string{"Показатель"}
		for _, c := range r.Cities {
			head = append(head, c.NameRU)
		}
		withTotal := len(r.Cities) > 1
		if withTotal {
			head = append(head, "Итого")
		}
		table := [][]string{head}
		for _, mt := range metrics() {
			if mt.section != "" {
				table = append(table, []string{mt.section + ":"})
			}
			line := []string{"  " + mt.label}
			for _, c := range r.Cities {
				line = append(line, mt.show(r.Row(m.Period, c.ID)))
			}
			if withTotal {
				line = append(line, mt.show(r.Total(m.Period)))
			}
			table = append(table, line)
		}
		writeAligned(bw, table)
	}
	return bw.Flush()
}

func citiesLine(r *wallet.Report) string {
	if r.Query.City == "" {
		names := make([]string, len(r.Cities))
		for i, c := range r.Cities {
			names[i] = c.NameRU
		}
		return "все (" + strings.Join(names, ", ") + ")"
	}
	return cityName(r, r.Query.City)
}

// writeAligned left-aligns the first column and right-aligns the others,
// measuring in characters (the labels are Cyrillic).
func writeAligned(w io.Writer, table [][]string) {
	var widths []int
	for _, row := range table {
		if len(row) == 1 {
			continue // a section heading spans the line
		}
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range table {
		var b strings.Builder
		for i, cell := range row {
			pad := 0
			if i < len(widths) {
				pad = widths[i] - utf8.RuneCountInString(cell)
			}
			if len(row) == 1 {
				pad = 0
			}
			switch {
			case i == 0:
				b.WriteString(cell)
				b.WriteString(strings.Repeat(" ", pad))
			default:
				b.WriteString("  ")
				b.WriteString(strings.Repeat(" ", pad))
				b.WriteString(cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
