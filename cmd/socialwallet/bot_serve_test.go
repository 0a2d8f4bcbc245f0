package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

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

const botTestSecret = "bot-serve-test-secret-0123"

// syncBuffer collects the service's log lines from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// botServe is a database with one family of four, a fake Telegram, and
// `socialwallet serve` started and stopped on demand.
type botServe struct {
	t      *testing.T
	dbURL  string
	tg     *telegramtest.Server
	people []fixtures.Person
	vars   map[string]string
	log    *syncBuffer
}

func newBotServe(t *testing.T) *botServe {
	t.Helper()
	dbURL := pgtest.URL(t)
	redistest.Client(t) // skips the test when Redis is missing
	pool, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	prog := program.Default()
	svc := wallet.NewService(prog, clock.Frozen(time.Date(2026, 1, 10, 12, 0, 0, 0, prog.Location)), []byte(botTestSecret), postgres.New(pool))
	people := fixtures.NewGen().Family(7, "akkol", 4)
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, people)
	if res, err := svc.ImportRegistry(context.Background(), &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	if _, err := svc.Issue(context.Background(), wallet.Period{Year: 2026, Month: time.January}); err != nil {
		t.Fatal(err)
	}
	tg := telegramtest.New(t)
	return &botServe{t: t, dbURL: dbURL, tg: tg, people: people, log: &syncBuffer{}, vars: map[string]string{
		"SW_ENV":                "test",
		"SW_SECRET":             botTestSecret,
		"SW_FAKE_NOW":           "2026-01-10T12:00:00+05:00",
		"DATABASE_URL":          dbURL,
		"REDIS_URL":             redistest.URL(),
		"HTTP_ADDR":             "127.0.0.1:0",
		"TELEGRAM_TOKEN":        tg.Token(),
		"TELEGRAM_API_ENDPOINT": tg.Endpoint(),
	}}
}

// serve starts `socialwallet serve`; the returned stop (once, however often
// it is called) waits for it to end.
func (s *botServe) serve() (stop func()) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"socialwallet", "serve"}, func(k string) string { return s.vars[k] }, s.log, s.log)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					s.t.Errorf("serve = %v; log:\n%s", err, s.log.String())
				}
			case <-time.After(30 * time.Second):
				s.t.Fatal("serve did not stop")
			}
		})
	}
}

// waitPolling waits until the bot holds a long poll.
func (s *botServe) waitPolling() {
	s.t.Helper()
	for end := time.Now().Add(20 * time.Second); !s.tg.Polling(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			s.t.Fatalf("the bot never polled; log:\n%s", s.log.String())
		}
	}
}

// serve restarted mid-conversation goes on from the stored state: the user
// shares their phone with one process and gives the IIN to the next.
func TestServeRestartedMidConversation(t *testing.T) {
	s := newBotServe(t)
	b := locales.MustLoad()
	stop := s.serve()
	s.waitPolling()
	u := s.tg.NewUser(time.Now().UnixNano()%1_000_000_000+1, "ru")
	u.Send("/start")
	s.tg.Sync(t)
	u.Press(u.Last(), "lang:ru")
	s.tg.Sync(t)
	u.ShareContact(s.people[0].Phone)
	s.tg.Sync(t)
	if got := u.Last().Text; got != b.T("ru", "ask_iin", nil) {
		t.Fatalf("before the restart: %q; want the IIN asked", got)
	}
	stop()

	stop = s.serve()
	defer stop()
	u.Send(s.people[0].IIN)
	s.tg.Sync(t)
	m := u.Last()
	if _, ok := m.Button(b.T("ru", "btn_agree", nil)); !ok {
		t.Fatalf("IIN after the restart: %q; want the consent", m.Text)
	}
	u.PressButton(t, m, b.T("ru", "btn_agree", nil))
	s.tg.Sync(t)
	u.Send(b.T("ru", "btn_activate", nil))
	s.tg.Sync(t)
	u.Press(u.Last(), "act:2026-01")
	s.tg.Sync(t)
	if !strings.Contains(u.Last().Text, "12\u00a0975\u00a0₸") {
		t.Errorf("after activating: %q; want 12 975 ₸", u.Last().Text)
	}
	if cmds := s.tg.Commands("kk"); len(cmds) == 0 {
		t.Error("serve did not set the Kazakh commands")
	}
	if strings.Contains(s.log.String(), s.people[0].IIN) || strings.Contains(s.log.String(), s.tg.Token()) {
		t.Error("the log holds an IIN or the token")
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// In webhook mode serve sets the webhook with its secret, Telegram's POSTs
// are handled, and a POST without the secret is refused.
func TestServeInWebhookMode(t *testing.T) {
	s := newBotServe(t)
	addr := freePort(t)
	s.vars["HTTP_ADDR"] = addr
	s.vars["TELEGRAM_MODE"] = "webhook"
	s.vars["WEBHOOK_URL"] = "http://" + addr + "/tg/hook"
	s.vars["WEBHOOK_SECRET"] = "hook_secret-0123456789"
	stop := s.serve()
	defer stop()
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if wh, ok := s.tg.Webhook(); ok {
			if wh.URL != s.vars["WEBHOOK_URL"] || wh.SecretToken != s.vars["WEBHOOK_SECRET"] {
				t.Fatalf("webhook = %+v", wh)
			}
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no webhook set; log:\n%s", s.log.String())
		}
	}
	u := s.tg.NewUser(time.Now().UnixNano()%1_000_000_000+1, "kk")
	u.Send("/start")
	s.tg.Sync(t)
	if got := u.Last().Text; got != locales.MustLoad().T("kk", "choose_language", nil) {
		t.Errorf("/start by webhook: %q; want the picker", got)
	}
	mark := s.tg.Mark()
	upd := tgbotapi.Update{UpdateID: 5, Message: &tgbotapi.Message{MessageID: 99, From: &u.User,
		Chat: &tgbotapi.Chat{ID: u.ID(), Type: "private"}, Text: "/start", Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: 6}}}}
	status, err := telegramtest.PostUpdate(context.Background(), nil, s.vars["WEBHOOK_URL"], "wrong_secret-0123456789", upd)
	if err != nil || status != http.StatusUnauthorized {
		t.Errorf("POST with a wrong secret = %d, %v; want 401", status, err)
	}
	if calls := s.tg.CallsSince(mark); len(calls) != 0 {
		t.Errorf("a refused POST made %d calls", len(calls))
	}
}

func TestServeWithoutATokenRunsWithoutTheBot(t *testing.T) {
	s := newBotServe(t)
	addr := freePort(t)
	s.vars["HTTP_ADDR"] = addr
	delete(s.vars, "TELEGRAM_TOKEN")
	stop := s.serve()
	defer stop()
	var resp *http.Response
	var err error
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get(fmt.Sprintf("http://%s/healthz", addr)); err == nil {
			break
		}
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz = %v, %v; want serve up without the bot", resp, err)
	}
	resp.Body.Close()
	if !strings.Contains(s.log.String(), "the Telegram bot is off") {
		t.Errorf("log does not say the bot is off:\n%s", s.log.String())
	}
	if n := len(s.tg.Calls()); n != 0 {
		t.Errorf("%d calls to Telegram without a token", n)
	}
}

func TestWebhookSettings(t *testing.T) {
	tests := []struct {
		name      string
		c         config
		url, path string
		ok        bool
	}{
		{"https with a path", config{Env: "production", WebhookURL: "https://bot.example.kz/hook", WebhookSecret: "abcdefghijklmnop"}, "https://bot.example.kz/hook", "/hook", true},
		{"no path", config{Env: "production", WebhookURL: "https://bot.example.kz", WebhookSecret: "abcdefghijklmnop"}, "https://bot.example.kz/telegram/webhook", "/telegram/webhook", true},
		{"http in production", config{Env: "production", WebhookURL: "http://bot.example.kz/h", WebhookSecret: "abcdefghijklmnop"}, "", "", false},
		{"http in a test", config{Env: "test", WebhookURL: "http://127.0.0.1:1/h", WebhookSecret: "abcdefghijklmnop"}, "http://127.0.0.1:1/h", "/h", true},
		{"no URL", config{Env: "test", WebhookSecret: "abcdefghijklmnop"}, "", "", false},
		{"short secret", config{Env: "test", WebhookURL: "https://x.kz/h", WebhookSecret: "short"}, "", "", false},
		{"secret with a space", config{Env: "test", WebhookURL: "https://x.kz/h", WebhookSecret: "abcdefgh ijklmnop"}, "", "", false},
	}
	for _, tt := range tests {
		u, p, err := webhookSettings(tt.c)
		if (err == nil) != tt.ok || u != tt.url || p != tt.path {
			t.Errorf("webhookSettings(%s) = %q, %q, %v; want %q, %q, ok %v", tt.name, u, p, err, tt.url, tt.path, tt.ok)
		}
	}
}
