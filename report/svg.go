package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"socialwallet/wallet"
)

// The charts are plain SVG written here: a few rectangles, lines and labels
// are less to audit than a charting library, and the file stays self-contained.

// palette is the Okabe–Ito set, told apart by colour-blind readers too.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D31", "#444444"}

const totalColour = "#1d2433"

// Stack colours for spend vs. annulled.
const (
	colSpent    = "#1b7f5f"
	colUnspent  = "#9fd8c2"
	colPending  = "#c9ced6"
	colAnnulled = "#d1495b"
)

func cityColour(i int) string { return palette[i%len(palette)] }

// canvas collects SVG elements.
type canvas struct {
	b    strings.Builder
	w, h float64
}

func newCanvas(w, h float64, class, label string) *canvas {
	c := &canvas{w: w, h: h}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" class="%s" role="img" aria-label="%s">`, w, h, class, esc(label))
	return c
}

func esc(s string) string { return html.EscapeString(s) }

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

func (c *canvas) rect(x, y, w, h float64, fill, title string) {
	if h < 0 {
		y, h = y+h, -h
	}
	fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s">`, f1(x), f1(y), f1(w), f1(h), fill)
	if title != "" {
		fmt.Fprintf(&c.b, `<title>%s</title>`, esc(title))
	}
	c.b.WriteString(`</rect>`)
}

func (c *canvas) line(x1, y1, x2, y2 float64, class string) {
	fmt.Fprintf(&c.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" class="%s"/>`, f1(x1), f1(y1), f1(x2), f1(y2), class)
}

// text writes a label; anchor is start, middle or end.
func (c *canvas) text(x, y float64, anchor, class, s string) {
	fmt.Fprintf(&c.b, `<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, f1(x), f1(y), anchor, class, esc(s))
}

func (c *canvas) polyline(pts [][2]float64, colour, class, title string) {
	var b strings.Builder
	for i, p := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f1(p[0]) + "," + f1(p[1]))
	}
	fmt.Fprintf(&c.b, `<polyline points="%s" fill="none" stroke="%s" class="%s">`, b.String(), colour, class)
	if title != "" {
		fmt.Fprintf(&c.b, `<title>%s</title>`, esc(title))
	}
	c.b.WriteString(`</polyline>`)
}

func (c *canvas) html() template.HTML {
	return template.HTML(c.b.String() + `</svg>`) // every text went through esc
}

// frame is a plot area inside a canvas.
type frame struct{ left, top, right, bottom float64 }

func (f frame) width() float64  { return f.right - f.left }
func (f frame) height() float64 { return f.bottom - f.top }

// percentAxis draws horizontal grid lines at 0, 25, 50, 75 and 100 %.
func percentAxis(c *canvas, f frame) {
	for _, p := range []float64{0, 25, 50, 75, 100} {
		y := f.bottom - p/100*f.height()
		class := "grid"
		if p == 0 {
			class = "axis"
		}
		c.line(f.left, y, f.right, y, class)
		c.text(f.left-6, y+4, "end", "tick", fmt.Sprintf("%g%s%%", p, nbsp))
	}
}

func share(r wallet.Ratio) (float64, bool) { return r.Value() }

// activationChart draws, per month, one bar per city: the share of issued
// vouchers activated; a dark line across each month marks all cities.
func activationChart(r *wallet.Report) template.HTML {
	c := newCanvas(600, 300, "overview", "Доля активированных ваучеров по городам и месяцам")
	f := frame{left: 46, top: 22, right: 592, bottom: 262}
	percentAxis(c, f)
	n, nc := len(r.Months), len(r.Cities)
	gw := f.width() / float64(n)
	bw := math.Min(gw*0.76/float64(nc), 56)
	type label struct {
		x, y float64
		s    string
	}
	for i, m := range r.Months {
		x0 := f.left + float64(i)*gw + (gw-bw*float64(nc))/2
		var labels []label
		for j, city := range r.Cities {
			row := r.Row(m.Period, city.ID)
			v, ok := share(row.ActivationRate())
			x := x0 + float64(j)*bw
			if !ok {
				c.text(x+bw/2, f.bottom-6, "middle", "tick", "—")
				continue
			}
			h := v * f.height()
			c.rect(x+1, f.bottom-h, bw-2, h, cityColour(j),
				fmt.Sprintf("%s, %s: %s (%d из %d)", city.NameRU, monthName(m.Period), percent(row.ActivationRate(), 1), row.Activated, row.Issued))
			if bw >= 26 {
				labels = append(labels, label{x + bw/2, f.bottom - h - 5, percent(row.ActivationRate(), 0)})
			}
		}
		if nc > 1 {
			if v, ok := share(r.Total(m.Period).ActivationRate()); ok {
				y := f.bottom - v*f.height()
				c.line(x0-6, y, x0+bw*float64(nc)+6, y, "total")
			}
		}
		// Labels last, with a white halo, so the total line does not cross them.
		for _, l := range labels {
			c.text(l.x, l.y, "middle", "value", l.s)
		}
		c.text(f.left+float64(i)*gw+gw/2, f.bottom+20, "middle", "label", monthShort(m.Period))
		if !r.Closed(m.Period) {
			c.text(f.left+float64(i)*gw+gw/2, f.bottom+34, "middle", "tick", "идёт")
		}
	}
	return c.html()
}

// valueChart draws, per month and city, a bar as tall as the value issued,
// split into what was spent, activated but not spent, not yet activated
// and annulled.
func valueChart(r *wallet.Report) template.HTML {
	c := newCanvas(600, 300, "overview", "Выданная сумма: потрачено, не потрачено, ожидает активации и аннулировано")
	f := frame{left: 72, top: 22, right: 592, bottom: 262}
	var top wallet.Tiyn
	for _, x := range r.Rows {
		top = max(top, x.IssuedValue)
	}
	step, max := niceStep(float64(top), 5)
	for v := 0.0; v <= max+step/2; v += step {
		y := f.bottom - v/max*f.height()
		class := "grid"
		if v == 0 {
			class = "axis"
		}
		c.line(f.left, y, f.right, y, class)
		c.text(f.left-6, y+4, "end", "tick", compactMoney(wallet.Tiyn(v)))
	}
	n, nc := len(r.Months), len(r.Cities)
	gw := f.width() / float64(n)
	slot := gw * 0.86 / float64(nc)
	bw := math.Min(slot*0.78, 52)
	for i, m := range r.Months {
		gx := f.left + float64(i)*gw + gw*0.07
		for j, city := range r.Cities {
			row := r.Row(m.Period, city.ID)
			x := gx + float64(j)*slot + (slot-bw)/2
			y := f.bottom
			for _, seg := range []struct {
				v      wallet.Tiyn
				colour string
				name   string
			}{
				{row.Redeemed, colSpent, "потрачено"},
				{max0(row.Unspent()), colUnspent, "активировано, не потрачено"},
				{max0(row.PendingValue()), colPending, "ожидает активации"},
				{row.AnnulledValue, colAnnulled, "аннулировано"},
			} {
				if seg.v <= 0 {
					continue
				}
				h := float64(seg.v) / max * f.height()
				c.rect(x, y-h, bw, h, seg.colour, fmt.Sprintf("%s, %s — %s: %s", city.NameRU, monthName(m.Period), seg.name, money(seg.v)))
				y -= h
			}
			label := city.NameRU
			if slot < 62 && len([]rune(label)) > 5 {
				label = string([]rune(label)[:4]) + "."
			}
			c.text(x+bw/2, f.bottom+14, "middle", "tick city", label)
		}
		c.text(f.left+float64(i)*gw+gw/2, f.bottom+34, "middle", "label", monthShort(m.Period))
	}
	return c.html()
}

func max0(t wallet.Tiyn) wallet.Tiyn { return max(t, 0) }

// niceStep picks an axis step of 1, 2, 2.5 or 5 × 10ⁿ giving about n ticks,
// and the axis top it leads to.
func niceStep(top float64, ticks int) (step, max float64) {
	if top <= 0 {
		top = 100 * 100 // an empty chart still gets an axis up to 100 ₸
	}
	raw := top / float64(ticks)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return step, math.Ceil(top/step) * step
}

// curveChart draws one month's cumulative share of issued vouchers activated
// by each day, a line per city and one for all, with the reminder days as
// dashed verticals.
func curveChart(r *wallet.Report, m wallet.ReportMonth) template.HTML {
	c := newCanvas(440, 262, "curve-chart", "Кривая активации, "+monthName(m.Period))
	f := frame{left: 46, top: 42, right: 428, bottom: 226}
	var curves []wallet.ActivationCurve
	var total *wallet.ActivationCurve
	for i := range r.Curves {
		if r.Curves[i].Period != m.Period {
			continue
		}
		if r.Curves[i].City == "" {
			total = &r.Curves[i]
		} else {
			curves = append(curves, r.Curves[i])
		}
	}
	if total == nil {
		return c.html()
	}
	days := float64(total.DaysInMonth)
	// x is time in days from the month's start: day d ends at x(d).
	x := func(d float64) float64 { return f.left + d/days*f.width() }
	if total.FirstDay > 1 {
		c.rect(f.left, f.top, x(float64(total.FirstDay-1))-f.left, f.height(), "#eef0f3", "до начала программы")
	}
	percentAxis(c, f)
	for _, d := range []int{1, 5, 10, 15, 20, 25, total.DaysInMonth} {
		if d == 25 && total.DaysInMonth-d < 3 {
			continue
		}
		c.text(x(float64(d)-0.5), f.bottom+15, "middle", "tick", fmt.Sprint(d))
	}
	c.text(f.right, f.bottom+30, "end", "tick", "день месяца")
	for _, d := range total.ReminderDays {
		rx := x(float64(d-1) + float64(r.ReminderHour)/24)
		c.line(rx, f.top-4, rx, f.bottom, "reminder")
		c.text(rx, f.top-8, "middle", "reminder-label", fmt.Sprintf("−%d", total.DaysInMonth-d+1))
	}
	end := float64(total.LastDay)
	if !r.Closed(m.Period) && r.AsOf.After(m.Start) {
		end = r.AsOf.Sub(m.Start).Hours() / 24
		c.line(x(end), f.top, x(end), f.bottom, "today")
		c.text(x(end)+3, f.top+10, "start", "tick", "сейчас")
	}
	draw := func(cv wallet.ActivationCurve, colour, class, name string) {
		if cv.Issued == 0 || cv.LastDay < cv.FirstDay {
			return
		}
		pts := [][2]float64{{x(float64(cv.FirstDay - 1)), f.bottom}}
		for d := cv.FirstDay; d <= cv.LastDay; d++ {
			v, _ := cv.Share(d).Value()
			xd := math.Min(float64(d), end)
			pts = append(pts, [2]float64{x(xd), f.bottom - v*f.height()})
		}
		last := cv.Share(cv.LastDay)
		c.polyline(pts, colour, class, fmt.Sprintf("%s: %s активировано (%d из %d)", name, percent(last, 1), last.Num, last.Den))
	}
	for i, cv := range curves {
		draw(cv, cityColour(i), "curve", cityName(r, cv.City))
	}
	if len(curves) > 1 {
		draw(*total, totalColour, "curve total-curve", "Все города")
	}
	if total.Issued == 0 {
		c.text(f.left+f.width()/2, f.top+f.height()/2, "middle", "label", "ваучеры не выдавались")
	}
	c.text(f.left, 14, "start", "chart-title", monthName(m.Period))
	if v, ok := share(total.Share(total.LastDay)); ok {
		when := "к концу месяца"
		if !r.Closed(m.Period) {
			when = "на сегодня"
		}
		c.text(f.right, 14, "end", "tick", when+": "+decimal(100*v, 0)+nbsp+"%")
	}
	return c.html()
}
