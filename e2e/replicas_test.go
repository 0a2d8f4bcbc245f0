package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	rstore "socialwallet/store/redis"
)

// Behind a load balancer (here a small round-robin reverse proxy on one
// address), two webhook replicas take turns at one chat's updates. Each
// time the first answer is slow and the next update reaches the other
// replica meanwhile: the per-chat lock in Redis makes it wait, so the
// answers keep the order of the questions.
func TestWebhookReplicasKeepChatOrder(t *testing.T) {
	h := newHarness(t)
	h.stop()
	const secret = "replica-secret_0123456789"
	var replicas []*url.URL
	for i := 0; i < 2; i++ {
		cfg := h.config(func(c *bot.Config) { c.ChatLocks = rstore.NewChatLocks(h.rc, h.prefix, time.Minute) })
		b, err := bot.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		handler, err := b.WebhookHandler(secret)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(handler)
		defer srv.Close()
		u, _ := url.Parse(srv.URL)
		replicas = append(replicas, u)
	}
	var next atomic.Int64
	var mu sync.Mutex
	var servedBy []int
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := int(next.Add(1)-1) % len(replicas)
		mu.Lock()
		servedBy = append(servedBy, i)
		mu.Unlock()
		r.SetURL(replicas[i])
	}})
	defer lb.Close()

	u := h.tg.NewUser(120, "ru")
	mk := func(id int, text string) tgbotapi.Update {
		return tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{MessageID: id, Date: int(h.clock.Now().Unix()),
			From: &u.User, Chat: &tgbotapi.Chat{ID: u.ID(), Type: "private"}, Text: text,
			Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: len(text)}}}}
	}
	const pairs = 3
	for p := 0; p < pairs; p++ {
		slow := h.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Delay: 300 * time.Millisecond, Times: 1})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			telegramtest.PostUpdate(context.Background(), nil, lb.URL, secret, mk(9001+2*p, "/start"))
		}()
		for h.tg.FaultHits(slow) == 0 {
			time.Sleep(time.Millisecond)
		}
		status, err := telegramtest.PostUpdate(context.Background(), nil, lb.URL, secret, mk(9002+2*p, "/help"))
		wg.Wait()
		if err != nil || status != 200 {
			t.Fatalf("update %d through the balancer = %d, %v", 9002+2*p, status, err)
		}
	}
	mu.Lock()
	if len(servedBy) != 2*pairs || servedBy[0] == servedBy[1] {
		t.Fatalf("the balancer sent the updates to replicas %v; want them to alternate", servedBy)
	}
	mu.Unlock()
	picker := h.T("ru", "choose_language", nil)[:20]
	var texts []string
	for _, m := range u.Messages() {
		texts = append(texts, m.Text[:min(len(m.Text), 30)])
	}
	ms := u.Messages()
	ordered := len(ms) == 2*pairs
	for i := 0; ordered && i < len(ms); i += 2 {
		ordered = strings.Contains(ms[i].Text, picker) && strings.HasPrefix(ms[i+1].Text, "ℹ️")
	}
	if !ordered {
		t.Errorf("answers in the chat = %q; want the picker then Help, %d times: the order of the updates", texts, pairs)
	}
}

// Whatever goes wrong with Telegram, the token is never in a log line.
func TestTokenNeverLogged(t *testing.T) {
	var buf syncBuf
	h := newHarness(t, func(c *bot.Config) {
		c.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	u := h.tg.NewUser(121, "ru")
	h.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Code: 500, HTML: true})
	u.Send("/start")
	h.sync()
	h.tg.Close() // Telegram unreachable: polls fail with the URL (and so the token) in the error
	for end := time.Now().Add(10 * time.Second); strings.Count(buf.String(), "getUpdates failed") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no poll failure logged:\n%s", buf.String())
		}
	}
	logs := buf.String()
	if strings.Contains(logs, h.tg.Token()) || strings.Contains(logs, strings.Split(h.tg.Token(), ":")[1]) {
		t.Errorf("the token is in the log:\n%s", logs)
	}
	if !strings.Contains(logs, "<token>") {
		t.Errorf("want the redacted URL in the poll errors:\n%s", logs)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
