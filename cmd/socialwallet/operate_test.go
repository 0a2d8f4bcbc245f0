package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/data"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/qrtest"
	"socialwallet/internal/redistest"
	"socialwallet/internal/tcpproxy"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// addStore loads the catalogue and adds a store in the family's city; it
// returns the store's API key.
func (s *botServe) addStore() string {
	s.t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, s.dbURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer pool.Close()
	prog := program.Default()
	svc := wallet.NewService(prog, clock.Frozen(time.Date(2026, 1, 10, 12, 0, 0, 0, prog.Location)), []byte(botTestSecret), postgres.New(pool))
	if _, _, err := svc.ImportCatalog(ctx, data.SZPT()); err != nil {
		s.t.Fatal(err)
	}
	_, key, err := svc.AddMerchant(ctx, wallet.Merchant{Name: "Дәмді", City: "akkol", Address: "Абай к-сі, 1", DiscountBP: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	return key
}

// say sends text (or, with a "contact:" prefix, the user's own contact) and
// waits until it is handled.
func (s *botServe) say(u *telegramtest.User, text string) telegramtest.Message {
	s.t.Helper()
	if phone, ok := strings.CutPrefix(text, "contact:"); ok {
		u.ShareContact(phone)
	} else {
		u.Send(text)
	}
	s.tg.Sync(s.t)
	return u.Last()
}

// press presses a button of m by its text and waits until it is handled.
func (s *botServe) press(u *telegramtest.User, m telegramtest.Message, text string) telegramtest.Message {
	s.t.Helper()
	u.PressButton(s.t, m, text)
	s.tg.Sync(s.t)
	return u.Last()
}

// link takes p from /start to the main menu in lang and activates what they
// may; it returns how many updates that took.
func (s *botServe) link(u *telegramtest.User, p fixtures.Person, lang string) int {
	s.t.Helper()
	b := locales.MustLoad()
	u.Send("/start")
	s.tg.Sync(s.t)
	u.Press(u.Last(), "lang:"+lang)
	s.tg.Sync(s.t)
	s.say(u, "contact:"+p.Phone)
	m := s.say(u, p.IIN)
	m = s.press(u, m, b.T(lang, "btn_agree", nil))
	m = s.say(u, b.T(lang, "btn_activate", nil))
	s.press(u, m, b.T(lang, "btn_activate_now", nil))
	return 7
}

var digits = regexp.MustCompile(`\d`)

// fallbackCode reads the 8-digit code from a QR photo's caption.
func fallbackCode(t *testing.T, caption string) string {
	t.Helper()
	for _, l := range strings.Split(caption, "\n") {
		if ds := digits.FindAllString(l, -1); len(ds) == 8 {
			return strings.Join(ds, "")
		}
	}
	t.Fatalf("no 8-digit code in the caption %q", caption)
	return ""
}

// post sends a JSON request to the cashier API with the store's key.
func post(t *testing.T, url, key, idem, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitHTTP polls url until it answers want, or fails after d.
func waitHTTP(t *testing.T, url string, want int, d time.Duration) (time.Duration, []byte) {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < d {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return time.Since(start), b
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("GET %s did not answer %d within %v; last: %s", url, want, d, last)
	return 0, nil
}

// One recipient's whole conversation and a purchase at the till through
// `socialwallet serve`: every metric an operator watches is on /metrics
// afterwards, every log line is JSON, each update and job has its line with
// duration and outcome, and no IIN, phone number, bot token, QR token,
// typed code or store key is anywhere in the log.
func TestServeMetricsAndLogsOfAConversationAndAPurchase(t *testing.T) {
	s := newBotServe(t)
	addr := freePort(t)
	s.vars["HTTP_ADDR"] = addr
	key := s.addStore()
	stop := s.serve()
	defer func() { stop() }()
	s.waitPolling()
	base := "http://" + addr
	waitHTTP(t, base+"/readyz", http.StatusOK, 20*time.Second)

	b := locales.MustLoad()
	mother := s.people[0]
	u := s.tg.NewUser(time.Now().UnixNano()%1_000_000_000+1, "ru")
	updates := s.link(u, mother, "ru")
	s.say(u, b.T("ru", "btn_balance", nil))
	qr := s.say(u, b.T("ru", "btn_qr", nil))
	updates += 2
	if qr.Photo == nil {
		t.Fatalf("QR code = %q; want a photo", qr.Body())
	}
	token, err := qrtest.Decode(qr.Photo)
	if err != nil {
		t.Fatal(err)
	}
	code := fallbackCode(t, qr.Caption)

	if status, body := post(t, base+"/v1/tokens/check", key, "", `{"code":"`+code+`"}`); status != http.StatusOK {
		t.Fatalf("POST /v1/tokens/check = %d %s", status, body)
	}
	if status, body := post(t, base+"/v1/tokens/check", "wrong-key", "", `{"code":"`+code+`"}`); status != http.StatusUnauthorized {
		t.Errorf("POST /v1/tokens/check with a wrong key = %d %s; want 401", status, body)
	}
	purchase := `{"token":"` + token + `","receipt_no":"R-1","lines":[{"product":"potato","qty_milli":2000,"unit_price_tiyn":25000}]}`
	if status, body := post(t, base+"/v1/redemptions", key, "till-1-R-1", purchase); status != http.StatusCreated {
		t.Fatalf("POST /v1/redemptions = %d %s", status, body)
	}
	if status, body := post(t, base+"/v1/redemptions", key, "till-1-R-2", purchase); status != http.StatusConflict {
		t.Errorf("the same token again = %d %s; want 409 token_used", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.tg.WaitMessages(ctx, u.ID(), len(u.Messages())+1); err != nil {
		t.Fatalf("no receipt in the chat: %v", err)
	}

	wants := []struct{ what, re string }{
		{"updates handled by kind and outcome", `socialwallet_bot_updates_total\{kind="contact",outcome="ok"\} 1\n`},
		{"button presses handled", `socialwallet_bot_updates_total\{kind="button",outcome="ok"\} [1-9]`},
		{"handler latency histogram", `socialwallet_bot_update_duration_seconds_bucket\{kind="text",le="\+Inf"\} [1-9]`},
		{"Bot API calls by method and result code", `socialwallet_telegram_requests_total\{code="200",method="sendPhoto"\} 1\n`},
		{"Bot API long polls", `socialwallet_telegram_requests_total\{code="200",method="getUpdates"\} [1-9]`},
		{"limiter wait", `socialwallet_notify_limiter_wait_seconds_count [1-9]`},
		{"messages sent by kind", `socialwallet_notify_sends_total\{kind="receipt",result="sent"\} 1\n`},
		{"redemptions by outcome", `socialwallet_pos_redemptions_total\{outcome="created"\} 1\n`},
		{"refused redemptions", `socialwallet_pos_redemptions_total\{outcome="token_used"\} 1\n`},
		{"vouchers by state for the current period", `socialwallet_vouchers\{period="2026-01",state="activated"\} 3\n`},
		{"vouchers waiting", `socialwallet_vouchers\{period="2026-01",state="issued"\} 1\n`},
		{"job queue depth", `socialwallet_job_queue_jobs\{queue="sw_notify",state="available"\} \d`},
		{"job failures", `socialwallet_job_queue_jobs\{queue="sw_notify",state="discarded"\} 0\n`},
		{"job attempts by outcome", `socialwallet_jobs_runs_total\{kind="sw_notice",outcome="ok"\} [1-9]`},
		{"process metrics", `process_resident_memory_bytes `},
	}
	// The receipt's job records its send a moment after Telegram answered.
	var series string
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, b := waitHTTP(t, base+"/metrics", http.StatusOK, 5*time.Second)
		series = string(b)
		missing := 0
		for _, w := range wants {
			if !regexp.MustCompile(w.re).MatchString(series) {
				missing++
			}
		}
		if missing == 0 || time.Now().After(end) {
			break
		}
	}
	for _, w := range wants {
		if !regexp.MustCompile(w.re).MatchString(series) {
			t.Errorf("/metrics has no %s (%s)", w.what, w.re)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(series, "socialwallet_"))
	}

	stop()
	stop = func() {}
	log := s.log.String()
	var updateLines, jobLines int
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("log line %d is not JSON: %q", n, sc.Text())
			continue
		}
		switch line["msg"] {
		case "update":
			updateLines++
			if _, ok := line["ms"].(float64); !ok || line["outcome"] == nil || line["kind"] == nil {
				t.Errorf("log line %d of an update has no kind, outcome or duration: %s", n, sc.Text())
			}
		case "job":
			jobLines++
			if _, ok := line["ms"].(float64); !ok || line["outcome"] == nil || line["kind"] == nil {
				t.Errorf("log line %d of a job has no kind, outcome or duration: %s", n, sc.Text())
			}
		}
	}
	if updateLines < updates {
		t.Errorf("%d update lines in the log; want one for each of the %d updates", updateLines, updates)
	}
	if jobLines == 0 {
		t.Error("no job line in the log; want one per job attempt")
	}
	local := strings.TrimPrefix(mother.Phone, "+7")
	secrets := map[string]string{
		"IIN":                        mother.IIN,
		"phone (E.164)":              mother.Phone,
		"phone (digits)":             "7" + local,
		"phone (8…)":                 "8" + local,
		"phone (ten digits)":         local,
		"bot token":                  s.tg.Token(),
		"QR token":                   token,
		"QR token's signature":       token[len(token)-16:],
		"typed code":                 code,
		"store key":                  key,
		"a wrong key that was tried": "wrong-key",
	}
	for _, p := range s.people[1:] {
		secrets["IIN of "+string(p.Role)] = p.IIN
	}
	for what, v := range secrets {
		if strings.Contains(log, v) {
			t.Errorf("the log holds the %s %q", what, v)
		}
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out bytes.Buffer
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out.WriteString(l + "\n")
		}
	}
	return out.String()
}

// /readyz turns unready within 2 s of PostgreSQL or Redis going away and
// ready again when they return. Meanwhile the bot tells people, in their
// language, that the service is unavailable: everyone while PostgreSQL is
// down; while Redis is down only those who are not linked yet (linking's
// steps live in Redis), since a linked person's session is rebuilt from
// PostgreSQL and the balance still comes.
func TestReadyzAndTheBotWhileADependencyIsDown(t *testing.T) {
	s := newBotServe(t)
	pgURL, err := url.Parse(s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	pg := tcpproxy.New(t, pgURL.Host)
	pgURL.Host = pg.Addr()
	s.vars["DATABASE_URL"] = pgURL.String()
	redisURL, err := url.Parse(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	rd := tcpproxy.New(t, redisURL.Host)
	redisURL.Host = rd.Addr()
	s.vars["REDIS_URL"] = redisURL.String()
	addr := freePort(t)
	s.vars["HTTP_ADDR"] = addr
	stop := s.serve()
	defer stop()
	s.waitPolling()
	readyz := "http://" + addr + "/readyz"
	waitHTTP(t, readyz, http.StatusOK, 20*time.Second)

	b := locales.MustLoad()
	linked := s.tg.NewUser(time.Now().UnixNano()%1_000_000_000+1, "ru")
	s.link(linked, s.people[0], "ru")
	balance := b.T("ru", "balance_total", map[string]any{"Amount": "12\u00a0975\u00a0₸"})
	if got := s.say(linked, b.T("ru", "btn_balance", nil)).Text; !strings.Contains(got, balance) {
		t.Fatalf("balance before any outage = %q; want %q", got, balance)
	}
	newcomer := s.tg.NewUser(linked.ID()+1, "kk")

	tests := []struct {
		name  string
		proxy *tcpproxy.Proxy
		// what each person is told meanwhile
		linked, newcomer string
	}{
		{"postgres", pg, b.T("ru", "unavailable", nil), b.T("kk", "unavailable", nil)},
		{"redis", rd, balance, b.T("kk", "unavailable", nil)},
	}
	for _, tt := range tests {
		tt.proxy.Cut()
		took, body := waitHTTP(t, readyz, http.StatusServiceUnavailable, 5*time.Second)
		if took > 2*time.Second {
			t.Errorf("%s down: /readyz unready after %v; want within 2 s", tt.name, took)
		}
		var state map[string]string
		if err := json.Unmarshal(body, &state); err != nil || state[tt.name] != "down" {
			t.Errorf("%s down: /readyz = %s; want %s down", tt.name, body, tt.name)
		}
		if got := s.say(linked, b.T("ru", "btn_balance", nil)).Text; !strings.Contains(got, tt.linked) {
			t.Errorf("%s down: a linked person's balance = %q; want %q", tt.name, got, tt.linked)
		}
		if got := s.say(newcomer, "/start").Text; got != tt.newcomer {
			t.Errorf("%s down: /start from a newcomer = %q; want %q", tt.name, got, tt.newcomer)
		}
		tt.proxy.Restore()
		waitHTTP(t, readyz, http.StatusOK, 10*time.Second)
		if got := s.say(linked, b.T("ru", "btn_balance", nil)).Text; !strings.Contains(got, balance) {
			t.Errorf("%s back: balance = %q; want %q", tt.name, got, balance)
		}
		if got := s.say(newcomer, "/start").Text; got != b.T("kk", "choose_language", nil) {
			t.Errorf("%s back: /start from a newcomer = %q; want the language picker", tt.name, got)
		}
	}
}

// A binary newer than its database (migrate not run after an upgrade)
// refuses to serve and says what to do; after `socialwallet migrate` it
// serves, and /readyz reports the schema current.
func TestServeWhileTheSchemaIsBehind(t *testing.T) {
	s := newBotServe(t)
	ctx := context.Background()
	pool, err := postgres.Open(ctx, s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if pending, err := postgres.PendingMigrations(ctx, pool); !pending || err != nil {
		t.Fatalf("PendingMigrations() with the last migration undone = %v, %v; want true", pending, err)
	}
	addr := freePort(t)
	s.vars["HTTP_ADDR"] = addr
	getenv := func(k string) string { return s.vars[k] }
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var out, errs bytes.Buffer
	if err := run(sctx, []string{"socialwallet", "serve"}, getenv, &out, &errs); err == nil || !strings.Contains(err.Error(), "run `socialwallet migrate` first") {
		t.Fatalf("serve with the schema behind = %v; want a refusal saying to migrate", err)
	}
	if err := run(ctx, []string{"socialwallet", "migrate"}, getenv, &out, &errs); err != nil {
		t.Fatalf("migrate = %v: %s", err, errs.String())
	}
	if pending, err := postgres.PendingMigrations(ctx, pool); pending || err != nil {
		t.Errorf("PendingMigrations() after migrate = %v, %v; want false", pending, err)
	}
	stop := s.serve()
	defer stop()
	if _, body := waitHTTP(t, "http://"+addr+"/readyz", http.StatusOK, 20*time.Second); !strings.Contains(string(body), `"schema":"ok"`) {
		t.Errorf("/readyz after migrate = %s; want the schema ok", body)
	}
	// The container's HEALTHCHECK asks the same through the binary.
	for _, args := range [][]string{{"health"}, {"health", "--ready"}} {
		if err := run(ctx, append([]string{"socialwallet"}, args...), getenv, &out, &errs); err != nil {
			t.Errorf("socialwallet %v against a ready service = %v; want exit 0", args, err)
		}
	}
	stop()
	if err := run(ctx, []string{"socialwallet", "health"}, getenv, &out, &errs); exitCode(err) != 1 {
		t.Errorf("socialwallet health with nothing serving = %v; want exit 1", err)
	}
}
