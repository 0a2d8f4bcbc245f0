package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/internal/redistest"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// serve, started at 10:00 on 25 January, issues January (not yet issued),
// tells the linked members, sends the D-7 reminder with its Activate button
// through the fake Bot API, and exports the wave's plan on /metrics.
func TestServeRunsTheScheduleAndSendsNotices(t *testing.T) {
	const secret = "jobs-serve-test-secret-0123"
	dbURL := pgtest.URL(t)
	redistest.Client(t)
	pool, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	prog := program.Default()
	svc := wallet.NewService(prog, clock.Frozen(time.Date(2026, 1, 10, 12, 0, 0, 0, prog.Location)), []byte(secret), postgres.New(pool))
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, fixtures.NewGen().Family(3, "pavlodar", 3))
	if res, err := svc.ImportRegistry(context.Background(), &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	if _, err := pool.Exec(context.Background(), `INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at)
		SELECT 5000 + id, id, 5000 + id, 'kk', now() FROM members WHERE role = 'applicant'`); err != nil {
		t.Fatal(err)
	}
	var applicant int64
	pool.QueryRow(context.Background(), `SELECT 5000 + id FROM members WHERE role = 'applicant'`).Scan(&applicant)

	tg := telegramtest.New(t)
	addr := freePort(t)
	vars := map[string]string{
		"SW_ENV": "test", "SW_SECRET": secret, "SW_FAKE_NOW": "2026-01-25T10:00:00+05:00",
		"DATABASE_URL": dbURL, "REDIS_URL": redistest.URL(), "HTTP_ADDR": addr,
		"TELEGRAM_TOKEN": tg.Token(), "TELEGRAM_API_ENDPOINT": tg.Endpoint(), "SW_SEND_RATE": "25",
	}
	log := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"socialwallet", "serve"}, func(k string) string { return vars[k] }, log, log)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve = %v", err)
		}
	}()

	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	msgs, err := tg.WaitMessages(wctx, applicant, 2)
	if err != nil {
		t.Fatalf("applicant's messages: %v; log:\n%s", err, log.String())
	}
	b := locales.MustLoad()
	jan := wallet.Period{Year: 2026, Month: time.January}
	var issued, reminder *telegramtest.Message
	for i := range msgs {
		switch {
		case strings.Contains(msgs[i].Body(), locales.Month("kk", jan)):
			issued = &msgs[i]
		case strings.Contains(msgs[i].Body(), b.T("kk", "days", nil, 7)):
			reminder = &msgs[i]
		}
	}
	// The applicant covers her own voucher and her child's: 8 650 ₸.
	if issued == nil || !strings.Contains(issued.Body(), "8\u00a0650\u00a0₸") {
		t.Errorf("no issue notice for 8 650 ₸ among %q", jobsBodies(msgs))
	}
	if reminder == nil {
		t.Fatalf("no D-7 reminder among %q", jobsBodies(msgs))
	}
	if _, ok := reminder.ButtonWithData("act:2026-01"); !ok {
		t.Errorf("reminder buttons %+v; want act:2026-01", reminder.Buttons())
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := `socialwallet_wave_recipients{period="2026-01",step="remind-7"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if strings.Contains(log.String(), tg.Token()) {
		t.Error("the log holds the bot token")
	}
}

func jobsBodies(ms []telegramtest.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body()
	}
	return out
}
