package main

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

func reportEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestReportCommandRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown format", []string{"--period", "2026-02", "--format", "pdf"}, `--format: want text, csv, html, not "pdf"`},
		{"period and range", []string{"--period", "2026-02", "--from", "2026-01"}, "--period and --from/--to exclude each other"},
		{"malformed period", []string{"--period", "2026-2"}, `period "2026-2": want YYYY-MM`},
		{"reversed range", []string{"--from", "2026-03", "--to", "2026-01"}, "period 2026-03 is after 2026-01"},
		{"unknown city", []string{"--period", "2026-02", "--city", "almaty"}, `unknown city "almaty"`},
		{"outside the programme", []string{"--period", "2025-12"}, "period 2025-12 is outside the programme"},
		{"stray argument", []string{"--period", "2026-02", "extra"}, "silent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// No database is reachable here: refusals come before connecting.
			env := reportEnv(map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"})
			err := run(context.Background(), append([]string{"socialwallet", "report"}, tc.args...), env, &stdout, &stderr)
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("report %v = %v (exit %d); want exit 2 with %q", tc.args, err, exitCode(err), tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("report %v wrote %q to stdout; want nothing", tc.args, stdout.String())
			}
		})
	}
}

// TestReportCommand runs the report on a simulated pilot (three cities,
// January to mid-April 2026) seeded through the wallet's use cases, and
// checks the command's output against the simulation's own tally of what it
// did; then renders the HTML in headless Chromium.
func TestReportCommand(t *testing.T) {
	url := pgtest.URL(t)
	asOf := time.Date(2026, time.April, 16, 12, 0, 0, 0, program.Default().Location)
	sim := simulatePilot(t, url, asOf)
	env := reportEnv(map[string]string{
		"DATABASE_URL": url,
		"SW_ENV":       "test",
		"SW_FAKE_NOW":  asOf.Format(time.RFC3339),
	})
	report := func(t *testing.T, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), append([]string{"socialwallet", "report"}, args...), env, &stdout, &stderr); err != nil {
			t.Fatalf("report %v = %v; stderr %s", args, err, stderr.String())
		}
		return stdout.String()
	}

	t.Run("csv matches the simulation", func(t *testing.T) {
		// No period: the programme from January to the current month, April.
		recs, err := csv.NewReader(strings.NewReader(report(t, "--format", "csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1+4*3 {
			t.Fatalf("%d CSV lines; want a header and 4 months × 3 cities", len(recs))
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		for _, rec := range recs[1:] {
			k := simKey{rec[col["period"]], rec[col["city"]]}
			want := sim.tally[k]
			if want == nil {
				want = &simTally{}
			}
			for _, c := range []struct {
				name string
				want string
			}{
				{"families", fmt.Sprint(want.families)},
				{"members", fmt.Sprint(want.issued)},
				{"issued", fmt.Sprint(want.issued)},
				{"issued_kzt", tengeString(want.issued * 432_500)},
				{"activated", fmt.Sprint(want.activated)},
				{"activated_kzt", tengeString(want.activated * 432_500)},
				{"annulled", fmt.Sprint(want.annulled)},
				{"redeemed_kzt", tengeString(want.redeemed)},
				{"discount_saved_kzt", tengeString(want.discount)},
				{"purchases", fmt.Sprint(want.purchases)},
				{"active_merchants", fmt.Sprint(len(want.merchants))},
				{"reminders_sent", fmt.Sprint(want.reminders)},
				{"reminded_members", fmt.Sprint(len(want.reminded))},
				{"month_closed", fmt.Sprint(k.period != "2026-04")},
			} {
				if got := rec[col[c.name]]; got != c.want {
					t.Errorf("%s %s: %s = %s; want %s", k.period, k.city, c.name, got, c.want)
				}
			}
			if want.issued > 0 {
				rate, _ := strconv.ParseFloat(rec[col["activation_rate"]], 64)
				if w := float64(want.activated) / float64(want.issued); math.Abs(rate-w) > 0.00005 {
					t.Errorf("%s %s: activation_rate = %v; want %.4f", k.period, k.city, rate, w)
				}
			}
		}
	})

	t.Run("one city, one month, text", func(t *testing.T) {
		out := report(t, "--period", "2026-02", "--city", "akkol")
		w := sim.tally[simKey{"2026-02", "akkol"}]
		for _, want := range []string{"Февраль 2026 (2026-02) — месяц завершён", "Акколь",
			fmt.Sprintf("Выдано %d", w.issued), fmt.Sprintf("Покупки %d", w.purchases)} {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " ")) {
				t.Errorf("text report lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "Кокшетау") || strings.Contains(out, "Март") {
			t.Errorf("text report for Akkol in February shows another city or month:\n%s", out)
		}
	})

	t.Run("out file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "r.csv")
		if out := report(t, "--from", "2026-02", "--to", "2026-03", "--format", "csv", "--out", path); out != "" {
			t.Errorf("stdout = %q with --out; want nothing", out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := report(t, "--from", "2026-02", "--to", "2026-03", "--format", "csv"); string(b) != want {
			t.Errorf("--out file differs from stdout:\n%s\nwant\n%s", b, want)
		}
	})

	t.Run("html in chromium", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "report.html")
		report(t, "--format", "html", "--out", path)
		png := renderInChromium(t, path)
		if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", "report.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote docs/report.png (%d bytes)", len(png))
		}
	})
}

func tengeString(tiyn int64) string { return fmt.Sprintf("%d.%02d", tiyn/100, tiyn%100) }

// chromiumPath finds Debian's chromium (or another Chrome); under CI=true its
// absence fails the test.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI=true (apt-get install -y chromium)")
	}
	t.Skip("Chromium not installed; set CI=true to make this a failure")
	return ""
}

// renderInChromium opens the file in headless Chromium, fails on any console
// error, uncaught exception, error in the browser log or request for anything
// but the file itself, checks the charts drew and nothing overflows, and
// returns a full-page PNG.
func renderInChromium(t *testing.T, path string) []byte {
	t.Helper()
	exe := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var (
		mu       sync.Mutex
		problems []string
	)
	note := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	fileURL := "file://" + path
	err := chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				note("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			note("exception: %s", ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				note("browser log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; u != fileURL && !strings.HasPrefix(u, "data:") {
				note("request for %s: the report must be self-contained", u)
			}
		}
	})
	if err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(fileURL)); err != nil {
		t.Fatalf("open %s: %v", fileURL, err)
	}
	type layout struct {
		Charts, Drawn, Scripts, Overflow int
		Title                            string
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[layout](`(() => {
		const svgs = [...document.querySelectorAll('svg')];
		const drawn = svgs.filter(s => s.getBoundingClientRect().width > 200 && s.querySelector('rect, polyline')).length;
		const over = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length;
		return {Charts: svgs.length, Drawn: drawn, Scripts: document.scripts.length, Overflow: over, Title: document.title};
	})()`))
	if err != nil {
		t.Fatalf("inspect the page: %v", err)
	}
	// Two overview charts and one activation curve per month (four months).
	if got.Charts != 6 || got.Drawn != 6 || got.Scripts != 0 || got.Overflow != 0 || !strings.Contains(got.Title, "Оценка пилота") {
		t.Errorf("page = %+v; want 6 charts all drawn, no script, nothing overflowing, the report's title", got)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// Let late events (a failed resource, a deferred error) arrive.
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("Chromium: %s", p)
	}
	return png
}

// The simulated pilot: behaviour with the shapes the report is for — most
// recipients activate in the first days, the rest around the reminders, some
// never; families spend most of what they activate at their city's stores.

type simKey struct{ period, city string }

type simTally struct {
	families, issued, activated, annulled int64
	purchases, discount, redeemed         int64
	reminders                             int64
	merchants                             map[int64]bool
	reminded                              map[int64]bool
}

type simActor struct {
	id     int64
	family *simFamily
	linked bool
	// blockedAt: the recipient blocked the bot; no reminder reaches them after.
	blockedAt time.Time
	consented bool
}

type simFamily struct {
	id, city  string
	actors    []*simActor
	vouchers  map[wallet.Period][]int64 // activated vouchers, in order
	balance   map[int64]int64
	since     map[int64]time.Time // when each was activated
	activated map[wallet.Period]time.Time
}

type simCity struct {
	id       string
	families int
	never    float64 // share of actors who never activate in a month
	early    float64 // share who activate in the first days
	link     float64 // share of adults linked to Telegram
}

type simulation struct {
	tally map[simKey]*simTally
}

func simulatePilot(t *testing.T, url string, asOf time.Time) *simulation {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	prog := program.Default()
	clk := clock.Frozen(prog.Start)
	svc := wallet.NewService(prog, clk, []byte("simulation-secret-32-bytes-long!"), postgres.New(pool))
	rng := rand.New(rand.NewPCG(2026, 5))
	sim := &simulation{tally: map[simKey]*simTally{}}
	tally := func(p wallet.Period, city string) *simTally {
		k := simKey{p.String(), city}
		if sim.tally[k] == nil {
			sim.tally[k] = &simTally{merchants: map[int64]bool{}, reminded: map[int64]bool{}}
		}
		return sim.tally[k]
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}

	cities := []simCity{
		{"kokshetau", 34, 0.10, 0.55, 0.92},
		{"akkol", 16, 0.22, 0.35, 0.78},
		{"pavlodar", 46, 0.07, 0.65, 0.95},
	}
	g := fixtures.NewGen()
	var people []fixtures.Person
	var families []*simFamily
	n := 0
	for _, c := range cities {
		for range c.families {
			n++
			size := 2 + rng.IntN(4)
			ps := g.Family(n, c.id, size)
			people = append(people, ps...)
			families = append(families, &simFamily{id: ps[0].FamilyID, city: c.id,
				vouchers: map[wallet.Period][]int64{}, balance: map[int64]int64{}, since: map[int64]time.Time{}, activated: map[wallet.Period]time.Time{}})
		}
	}
	var reg bytes.Buffer
	fixtures.WriteRegistry(&reg, people)
	if res, err := svc.ImportRegistry(ctx, &reg, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	city := map[string]simCity{}
	for _, c := range cities {
		city[c.id] = c
	}
	// Adults activate: the applicant (own and the children's) and the father.
	byID := map[string]*simFamily{}
	for _, f := range families {
		byID[f.id] = f
	}
	rows, err := pool.Query(ctx, `SELECT id, family_id FROM members WHERE birth_date < '2000-01-01' ORDER BY role, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var fid string
		rows.Scan(&id, &fid)
		f := byID[fid]
		a := &simActor{id: id, family: f, linked: rng.Float64() < city[f.city].link}
		if a.linked && rng.Float64() < 0.05 {
			a.blockedAt = time.Date(2026, time.Month(2+rng.IntN(2)), 1+rng.IntN(27), 9+rng.IntN(10), 0, 0, 0, prog.Location)
		}
		f.actors = append(f.actors, a)
	}
	rows.Close()
	for _, f := range families {
		for _, a := range f.actors {
			if !a.linked {
				continue
			}
			linked := prog.Start.Add(time.Duration(2+rng.IntN(40)) * time.Hour)
			var blocked any
			if !a.blockedAt.IsZero() {
				blocked = a.blockedAt
			}
			exec(`INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at, blocked_at) VALUES ($1, $1, $1, $2, $3, $4)`,
				a.id, []string{"kk", "ru"}[rng.IntN(2)], linked, blocked)
		}
	}
	merchants := map[string][]int64{}
	for _, c := range cities {
		for i := range 2 + rng.IntN(3) {
			id, _, err := svc.AddMerchant(ctx, wallet.Merchant{Name: fmt.Sprintf("Магазин %d", i+1), City: c.id,
				Lat: 53, Lon: 70, DiscountBP: 1000 + 100*rng.IntN(6)})
			if err != nil {
				t.Fatal(err)
			}
			merchants[c.id] = append(merchants[c.id], id)
		}
	}
	discountBP := map[int64]int64{}
	mrows, _ := pool.Query(ctx, `SELECT id, discount_bp FROM merchants`)
	for mrows.Next() {
		var id, bp int64
		mrows.Scan(&id, &bp)
		discountBP[id] = bp
	}
	mrows.Close()

	for _, p := range prog.Periods() {
		start, deadline := prog.PeriodStart(p), prog.Deadline(p)
		if !start.Before(asOf) {
			break
		}
		clk.Set(prog.IssueAt(p))
		if _, err := svc.Issue(ctx, p); err != nil {
			t.Fatal(err)
		}
		vrows, _ := pool.Query(ctx, `SELECT m.family_id FROM vouchers v JOIN members m ON m.id = v.member_id WHERE v.period = $1`, p.FirstDay())
		seen := map[string]bool{}
		for vrows.Next() {
			var fid string
			vrows.Scan(&fid)
			tl := tally(p, byID[fid].city)
			tl.issued++
			if !seen[fid] {
				seen[fid] = true
				tl.families++
			}
		}
		vrows.Close()

		// When each actor activates this month.
		type event struct {
			at    time.Time
			actor *simActor
		}
		var events []event
		schedule := prog.ReminderSchedule(p)
		for _, f := range families {
			c := city[f.city]
			for _, a := range f.actors {
				r := rng.Float64()
				var at time.Time
				switch {
				case r < c.never:
					continue
				case r < c.never+c.early*(1-c.never):
					at = start.Add(time.Duration(8+rng.ExpFloat64()*60) * time.Hour)
				case a.linked && (a.blockedAt.IsZero() || a.blockedAt.After(deadline)):
					rem := prog.ReminderAt(p, schedule[rng.IntN(len(schedule))])
					at = rem.Add(time.Duration(5+rng.ExpFloat64()*600) * time.Minute)
				default:
					at = deadline.Add(-time.Duration(1+rng.IntN(10*24)) * time.Hour)
				}
				if !at.Before(deadline) {
					at = deadline.Add(-time.Duration(1+rng.IntN(120)) * time.Minute)
				}
				if at.Before(asOf) {
					events = append(events, event{at, a})
				}
			}
		}
		sort.Slice(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
		firstActivation := map[int64]time.Time{}
		for _, e := range events {
			if !e.actor.consented {
				clk.Set(e.at.Add(-10 * time.Minute))
				if err := svc.GiveConsent(ctx, e.actor.id); err != nil {
					t.Fatal(err)
				}
				e.actor.consented = true
			}
			clk.Set(e.at)
			got, err := svc.Activate(ctx, e.actor.id, p)
			if err != nil {
				t.Fatalf("Activate(%d, %s) = %v", e.actor.id, p, err)
			}
			f := e.actor.family
			tally(p, f.city).activated += int64(len(got))
			firstActivation[e.actor.id] = e.at
			for _, v := range got {
				f.vouchers[p] = append(f.vouchers[p], v.ID)
				f.balance[v.ID] = int64(v.Amount)
				f.since[v.ID] = e.at
			}
			if _, ok := f.activated[p]; !ok {
				f.activated[p] = e.at
			}
		}
		// Reminders reach linked, unblocked actors who had not activated yet.
		for _, d := range schedule {
			at := prog.ReminderAt(p, d)
			if !at.Before(asOf) {
				continue
			}
			for _, f := range families {
				for _, a := range f.actors {
					if !a.linked || (!a.blockedAt.IsZero() && a.blockedAt.Before(at)) {
						continue
					}
					if act, ok := firstActivation[a.id]; ok && act.Before(at) {
						continue
					}
					sent := at.Add(time.Duration(rng.IntN(40)) * time.Minute)
					exec(`INSERT INTO notifications (member_id, kind, period, days_before, created_at, queued_at, sent_at)
						VALUES ($1, 'reminder', $2, $3, $4, $4, $5)`, a.id, p.FirstDay(), d, at, sent)
					tl := tally(p, f.city)
					tl.reminders++
					tl.reminded[a.id] = true
				}
			}
		}
		// Purchases: most families spend most of what they activated, in one
		// to three visits, mostly at their own city's stores.
		for _, f := range families {
			first, ok := f.activated[p]
			if !ok {
				continue
			}
			var total int64
			for _, v := range f.vouchers[p] {
				total += f.balance[v]
			}
			want := int64(float64(total) * (0.55 + 0.45*rng.Float64()))
			visits := 1 + rng.IntN(3)
			at := first
			for i := range visits {
				at = at.Add(time.Duration(6+rng.IntN(150)) * time.Hour)
				if !at.Before(asOf) || !at.Before(deadline.Add(72*time.Hour)) {
					break
				}
				plan := want / int64(visits)
				if i == visits-1 {
					plan = want - plan*int64(visits-1)
				}
				// Only value activated by then can pay.
				type take struct{ voucher, amount int64 }
				var takes []take
				var covered int64
				for _, v := range f.vouchers[p] {
					n := min(plan-covered, f.balance[v])
					if n <= 0 || f.since[v].After(at) {
						continue
					}
					takes = append(takes, take{v, n})
					covered += n
				}
				if covered == 0 {
					continue
				}
				shops := merchants[f.city]
				if rng.Float64() < 0.06 {
					shops = merchants[cities[rng.IntN(len(cities))].id]
				}
				m := shops[rng.IntN(len(shops))]
				gross := covered * 10000 / (10000 - discountBP[m])
				discount := gross - covered
				buyer := f.actors[0].id
				token := make([]byte, 12)
				cryptorand.Read(token)
				exec(`INSERT INTO qr_tokens (token_id, member_id, issued_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $3)`,
					token, buyer, at, at.Add(5*time.Minute))
				var rid int64
				err := pool.QueryRow(ctx, `INSERT INTO redemptions (merchant_id, family_id, member_id, token_id, idempotency_key,
						request_hash, receipt_no, mode, gross, discount, covered, to_pay, response, created_at)
					VALUES ($1, $2, $3, $4, $5, '\x00', $5, 'spend', $6, $7, $8, 0, '{}', $9) RETURNING id`,
					m, f.id, buyer, token, fmt.Sprintf("k%x", token), gross, discount, covered, at).Scan(&rid)
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range takes {
					f.balance[tk.voucher] -= tk.amount
					exec(`INSERT INTO ledger (voucher_id, kind, amount, redemption_id, created_at) VALUES ($1, 'redemption', $2, $3, $4)`, tk.voucher, -tk.amount, rid, at)
					exec(`UPDATE vouchers SET balance = balance - $2,
						state = CASE WHEN balance = $2 THEN 'spent' ELSE state END,
						closed_at = CASE WHEN balance = $2 THEN $3::timestamptz END WHERE id = $1`, tk.voucher, tk.amount, at)
				}
				tl := tally(p, f.city)
				tl.redeemed += covered
				made := tally(prog.PeriodAt(at), f.city)
				made.purchases++
				made.discount += discount
				made.merchants[m] = true
			}
		}
		if deadline.Before(asOf) {
			clk.Set(deadline.Add(5 * time.Minute))
			n, err := svc.Annul(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			for _, c := range cities {
				tl := tally(p, c.id)
				tl.annulled = tl.issued - tl.activated
				sum += tl.annulled
			}
			if sum != n {
				t.Fatalf("Annul(%s) = %d; the simulation expects %d", p, n, sum)
			}
		}
	}
	return sim
}
