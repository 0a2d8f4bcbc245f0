package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	rstore "socialwallet/store/redis"
)

// Behind a load balancer, two webhook replicas get updates of one chat at
// once: the per-chat lock in Redis makes the second wait for the first, so
// the answers keep the order of the questions.
func TestWebhookReplicasKeepChatOrder(t *testing.T) {
	h := newHarness(t)
	h.stop()
	const secret = "replica-secret_0123456789"
	var urls []string
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
		urls = append(urls, srv.URL)
	}
	u := h.tg.NewUser(120, "ru")
	mk := func(id int, text string) tgbotapi.Update {
		return tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{MessageID: id, Date: int(h.clock.Now().Unix()),
			From: &u.User, Chat: &tgbotapi.Chat{ID: u.ID(), Type: "private"}, Text: text,
			Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: len(text)}}}}
	}
	// The first answer is slow; the second update reaches the other replica meanwhile.
	slow := h.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Delay: 400 * time.Millisecond, Times: 1})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		telegramtest.PostUpdate(context.Background(), nil, urls[0], secret, mk(9001, "/start"))
	}()
	for h.tg.FaultHits(slow) == 0 {
		time.Sleep(time.Millisecond)
	}
	status, err := telegramtest.PostUpdate(context.Background(), nil, urls[1], secret, mk(9002, "/help"))
	wg.Wait()
	if err != nil || status != 200 {
		t.Fatalf("second replica = %d, %v", status, err)
	}
	ms := u.Messages()
	if len(ms) != 2 || !strings.Contains(ms[0].Text, h.T("ru", "choose_language", nil)[:20]) || !strings.HasPrefix(ms[1].Text, "ℹ️") {
		var texts []string
		for _, m := range ms {
			texts = append(texts, m.Text[:min(len(m.Text), 30)])
		}
		t.Errorf("answers in the chat = %q; want the picker (first update) before Help (second)", texts)
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
