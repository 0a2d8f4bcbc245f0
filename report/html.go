package report

import (
	"html/template"
	"io"

	"socialwallet/wallet"
)

// HTML writes the report as one file: inline CSS, inline SVG, no script, no
// font or image fetched from anywhere, so it can be mailed and archived.
func HTML(w io.Writer, r *wallet.Report) error {
	return page.Execute(w, newView(r))
}

type legendItem struct {
	Colour string
	Label  string
	Class  string // swatch shape: "" box, "line", "dash"
}

type kpi struct {
	Label, Value, Note string
}

type tableRow struct {
	Section string
	Label   string
	Cells   []string
}

type monthView struct {
	Name, NameKK, Period, Status string
	Closed                       bool
	Head                         []string
	Rows                         []tableRow
	Curve                        template.HTML
}

type view struct {
	Title, Range, Cities, AsOf string
	KPIs                       []kpi
	CityLegend                 []legendItem
	ActivationLegend           []legendItem
	ValueLegend                []legendItem
	CurveLegend                []legendItem
	Activation, Value          template.HTML
	Months                     []monthView
	Reminders                  string
}

func newView(r *wallet.Report) view {
	v := view{
		Title:      r.Title,
		Range:      rangeName(r),
		Cities:     citiesLine(r),
		AsOf:       moment(r.AsOf, r.Location),
		Activation: activationChart(r),
		Value:      valueChart(r),
	}
	flows := r.Flows()
	v.KPIs = []kpi{
		{"Выдано", wholeMoney(flows.IssuedValue), count(flows.Issued) + " ваучеров"},
		{"Активировано", percent(flows.ActivationRate(), 1), wholeMoney(flows.ActivatedValue)},
		{"Аннулировано", wholeMoney(flows.AnnulledValue), percent(flows.AnnulmentRate(), 1) + " ваучеров"},
		{"Потрачено", wholeMoney(flows.Redeemed), percent(flows.RedeemedShare(), 1) + " активированного"},
		{"Скидка покупателям", wholeMoney(flows.DiscountSaved), count(flows.Purchases) + " покупок"},
		{"После напоминания", percent(flows.ReminderConversion(), 1), "активировали за 48 ч"},
	}
	for i, c := range r.Cities {
		v.CityLegend = append(v.CityLegend, legendItem{Colour: cityColour(i), Label: c.NameRU})
	}
	v.ActivationLegend = append([]legendItem(nil), v.CityLegend...)
	v.CurveLegend = append([]legendItem(nil), v.CityLegend...)
	if len(r.Cities) > 1 {
		v.ActivationLegend = append(v.ActivationLegend, legendItem{Colour: totalColour, Label: "все города", Class: "line"})
		v.CurveLegend = append(v.CurveLegend, legendItem{Colour: totalColour, Label: "все города", Class: "line"})
	}
	v.CurveLegend = append(v.CurveLegend, legendItem{Colour: "#7a8599", Label: "дни напоминаний (за сколько дней до конца месяца)", Class: "dash"})
	v.ValueLegend = []legendItem{
		{Colour: colSpent, Label: "потрачено"},
		{Colour: colUnspent, Label: "активировано, не потрачено"},
		{Colour: colPending, Label: "ожидает активации"},
		{Colour: colAnnulled, Label: "аннулировано"},
	}
	for i, d := range r.ReminderDaysBefore {
		if i > 0 {
			v.Reminders += ", "
		}
		v.Reminders += itoa(int64(d))
	}

	for _, m := range r.Months {
		mv := monthView{
			Name: monthName(m.Period), NameKK: monthNameKK(m.Period), Period: m.Period.String(),
			Status: status(r, m.Period), Closed: r.Closed(m.Period), Curve: curveChart(r, m),
		}
		for _, c := range r.Cities {
			mv.Head = append(mv.Head, c.NameRU)
		}
		if len(r.Cities) > 1 {
			mv.Head = append(mv.Head, "Итого")
		}
		for _, mt := range metrics() {
			row := tableRow{Section: mt.section, Label: mt.label}
			for _, c := range r.Cities {
				row.Cells = append(row.Cells, mt.show(r.Row(m.Period, c.ID)))
			}
			if len(r.Cities) > 1 {
				row.Cells = append(row.Cells, mt.show(r.Total(m.Period)))
			}
			mv.Rows = append(mv.Rows, row)
		}
		v.Months = append(v.Months, mv)
	}
	return v
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc": func(n int) int { return n + 1 },
}).Parse(`<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Оценка пилота — {{.Range}}</title>
<style>
:root { --ink: #1d2433; --muted: #5f6b7d; --line: #dfe3ea; --bg: #f5f6f8; --card: #fff; --accent: #0072B2; }
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0 auto; max-width: 1200px; padding: 32px 28px 48px; color: var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 16px; margin-bottom: 24px; }
h1 { font-size: 28px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 0; }
h3 { font-size: 17px; margin: 0; }
.kk { color: var(--muted); font-size: 14px; margin: 2px 0 0; }
header .kk { font-size: 16px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 14px 0 0; padding: 0; list-style: none; color: var(--muted); }
.meta b { color: var(--ink); font-weight: 600; }
section { margin: 0 0 28px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; }
.card > .kk { margin-bottom: 10px; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 12px; }
.kpi .label { color: var(--muted); font-size: 13px; }
.kpi .value { font-size: 21px; font-weight: 650; margin: 2px 0; white-space: nowrap; }
.kpi .note { color: var(--muted); font-size: 12.5px; white-space: nowrap; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 8px 0 0; padding: 0; list-style: none; font-size: 13px; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.swatch.line { height: 3px; border-radius: 0; width: 18px; }
.swatch.dash { height: 2px; width: 18px; border-radius: 0; background: repeating-linear-gradient(90deg, #7a8599 0 4px, transparent 4px 7px) !important; }
.curves { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 20px; margin-top: 6px; }
svg { width: 100%; height: auto; display: block; font-family: inherit; }
svg .grid { stroke: #e8ebf0; stroke-width: 1; }
svg .axis { stroke: #9aa3b2; stroke-width: 1; }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .label { fill: var(--ink); font-size: 12.5px; font-weight: 600; }
svg .value { fill: var(--ink); font-size: 11px; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.overview .tick { font-size: 12px; }
svg.overview .city { font-size: 10.5px; }
svg.overview .value { font-size: 12px; }
svg.overview .label { font-size: 13px; }
svg .chart-title { fill: var(--ink); font-size: 14px; font-weight: 650; }
svg .total { stroke: ` + totalColour + `; stroke-width: 2.5; }
svg .curve { stroke-width: 2.2; stroke-linejoin: round; }
svg .total-curve { stroke-width: 3; stroke-opacity: 0.85; }
svg .reminder { stroke: #7a8599; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg .reminder-label { fill: #5f6b7d; font-size: 10.5px; font-weight: 600; }
svg .today { stroke: #b5bcc8; stroke-width: 1; }
.month { margin-top: 16px; }
.month-head { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
.badge { font-size: 12.5px; padding: 2px 10px; border-radius: 999px; background: #e6f4ee; color: #1b6b50; }
.badge.open { background: #fff3dc; color: #8a5a00; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 14px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eef0f4; }
thead th { text-align: right; font-size: 13px; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); }
thead th:first-child { text-align: left; }
td { text-align: right; white-space: nowrap; }
td:first-child { text-align: left; white-space: normal; color: var(--ink); }
td:last-child, th:last-child { font-weight: 600; }
tr.section td { padding-top: 10px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
.notes { color: var(--muted); font-size: 13.5px; }
.notes h2 { color: var(--ink); }
.notes dt { color: var(--ink); font-weight: 600; margin-top: 8px; }
.notes dd { margin: 0; }
footer { color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--line); padding-top: 12px; }
@media (max-width: 900px) { .kpis { grid-template-columns: repeat(2, 1fr); } .charts, .curves { grid-template-columns: 1fr; } }
@media print { html { background: #fff; } .card, .kpi { break-inside: avoid; } }
</style>
</head>
<body>
<header>
  <h1>Социальный кошелёк: оценка пилота</h1>
  <p class="kk">Әлеуметтік әмиян: пилоттық жобаны бағалау есебі</p>
  <ul class="meta">
    <li>Программа: <b>{{.Title}}</b></li>
    <li>Период: <b>{{.Range}}</b></li>
    <li>Города: <b>{{.Cities}}</b></li>
    <li>Данные на <b>{{.AsOf}}</b></li>
  </ul>
</header>

<section class="kpis" aria-label="Итоги за период">
{{- range .KPIs}}
  <div class="kpi"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div><div class="note">{{.Note}}</div></div>
{{- end}}
</section>

<section class="charts">
  <div class="card">
    <h2>Доля активации по городам</h2>
    <p class="kk">Қалалар бойынша белсендірілген ваучерлер үлесі</p>
    {{.Activation}}
    <ul class="legend">{{range .ActivationLegend}}<li><span class="swatch {{.Class}}" style="background: {{.Colour}}; border-color: {{.Colour}}"></span>{{.Label}}</li>{{end}}</ul>
  </div>
  <div class="card">
    <h2>Потрачено и аннулировано</h2>
    <p class="kk">Жұмсалған және күші жойылған сома</p>
    {{.Value}}
    <ul class="legend">{{range .ValueLegend}}<li><span class="swatch" style="background: {{.Colour}}"></span>{{.Label}}</li>{{end}}</ul>
  </div>
</section>

<section class="card">
  <h2>Когда активируют: кривая активации по дням месяца</h2>
  <p class="kk">Ай күндері бойынша белсендіру қисығы — ескертулерге қатысты</p>
  <p class="notes">Накопленная доля выданных ваучеров месяца, активированных к концу каждого дня. Пунктирные вертикали — напоминания, которые программа рассылает за {{.Reminders}} дн. до конца месяца.</p>
  <div class="curves">{{range .Months}}<div>{{.Curve}}</div>{{end}}</div>
  <ul class="legend">{{range .CurveLegend}}<li><span class="swatch {{.Class}}" style="background: {{.Colour}}; border-color: {{.Colour}}"></span>{{.Label}}</li>{{end}}</ul>
</section>

<section>
  <h2>Показатели по месяцам и городам</h2>
  <p class="kk">Айлар мен қалалар бойынша көрсеткіштер</p>
{{- range .Months}}
  <div class="card month">
    <div class="month-head">
      <div><h3>{{.Name}}</h3><p class="kk">{{.NameKK}}</p></div>
      <span class="badge{{if not .Closed}} open{{end}}">{{.Status}}</span>
    </div>
    <table>
      <thead><tr><th>Показатель</th>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
      <tbody>
{{- range .Rows}}
{{- if .Section}}
        <tr class="section"><td colspan="{{len .Cells | inc}}">{{.Section}}</td></tr>
{{- end}}
        <tr><td>{{.Label}}</td>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{- end}}
      </tbody>
    </table>
  </div>
{{- end}}
</section>

<section class="card notes">
  <h2>Как считаются показатели</h2>
  <p class="kk">Көрсеткіштер қалай есептеледі</p>
  <dl>
    <dt>Семьи, получатели</dt><dd>Семьи и их члены, которым выдан ваучер этого месяца (один ваучер на человека в месяц).</dd>
    <dt>Привязаны к Telegram, заблокировали бота</dt><dd>Получатели месяца, связавшие Telegram до конца месяца; из привязанных — те, у кого бот отмечен заблокированным до конца месяца.</dd>
    <dt>Дали согласие</dt><dd>Получатели, чьё согласие действовало хотя бы в один момент месяца. Дети до 18 лет согласие не дают: их ваучеры активирует заявитель.</dd>
    <dt>Активировано, аннулировано</dt><dd>Ваучеры месяца с записью активации в журнале; ваучеры, не активированные до конца месяца и аннулированные. Доли — от числа выданных.</dd>
    <dt>Потрачено</dt><dd>Сумма списаний с ваучеров этого месяца по журналу за вычетом возвратов по отменённым покупкам — когда бы ни была сделана покупка; доля — от активированной суммы.</dd>
    <dt>Покупки, скидка, активные магазины</dt><dd>Неотменённые покупки, сделанные в этом месяце семьями города; скидка по ним; число разных магазинов, где они сделаны (в строке «Итого» магазин, обслуживший два города, считается один раз).</dd>
    <dt>Напоминания</dt><dd>Отправленные напоминания месяца; получатели хотя бы одного; из них — активировавшие ваучер (свой или, как заявитель, ребёнка) не позже чем через 48 часов после первого напоминания.</dd>
  </dl>
</section>

<footer>Сформировано командой <code>socialwallet report</code> {{.AsOf}} по журналу операций, ваучерам, покупкам, привязкам Telegram, согласиям и отправленным уведомлениям (не по счётчикам). Время — по часовому поясу программы.</footer>
</body>
</html>
`))
