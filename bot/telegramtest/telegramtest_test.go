package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
)

func connect(t *testing.T, srv *telegramtest.Server) *bot.API {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	api, err := bot.NewAPI(ctx, srv.Token(), srv.Endpoint(), nil)
	if err != nil {
		t.Fatalf("NewAPI = %v", err)
	}
	return api
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestGetMeAndWrongToken(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	if api.Self.UserName != telegramtest.BotUser.UserName {
		t.Errorf("Self = %+v; want %+v", api.Self, telegramtest.BotUser)
	}
	_, err := bot.NewAPI(ctx(t), "1:wrong", srv.Endpoint(), nil)
	if bot.Code(err) != 401 {
		t.Errorf("NewAPI(wrong token) = %v; want 401", err)
	}
}

func TestUpdatesOffsetSemantics(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	u := srv.NewUser(42, "kk")
	id1 := u.Send("/start")
	id2 := u.ShareContact("+77011234567")

	ups, err := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Timeout: 0})
	if err != nil || len(ups) != 2 {
		t.Fatalf("GetUpdates = %d updates, %v; want 2", len(ups), err)
	}
	if ups[0].UpdateID != id1 || ups[1].UpdateID != id2 {
		t.Errorf("update ids %d, %d; want %d, %d", ups[0].UpdateID, ups[1].UpdateID, id1, id2)
	}
	if ups[0].Message.Text != "/start" || !ups[0].Message.IsCommand() || ups[0].Message.From.LanguageCode != "kk" {
		t.Errorf("first update = %+v; want the /start command from a kk user", ups[0].Message)
	}
	if c := ups[1].Message.Contact; c == nil || c.UserID != 42 {
		t.Errorf("second update contact = %+v; want the user's own", c)
	}
	// Without confirming, the same updates come again.
	again, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: id1})
	if len(again) != 2 {
		t.Errorf("GetUpdates(offset %d) = %d updates; want 2", id1, len(again))
	}
	// Confirming the first leaves the second.
	rest, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: id2})
	if len(rest) != 1 || rest[0].UpdateID != id2 {
		t.Errorf("GetUpdates(offset %d) = %v; want only %d", id2, rest, id2)
	}
	none, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: id2 + 1, Timeout: 1})
	if len(none) != 0 {
		t.Errorf("GetUpdates after confirming all = %d updates; want 0 after the 1 s timeout", len(none))
	}
	if srv.Pending() != 0 {
		t.Errorf("Pending = %d; want 0", srv.Pending())
	}
	limited, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: id2 + 1, Limit: 1})
	if len(limited) != 0 {
		t.Errorf("limit: got %d", len(limited))
	}
}

// A long poll must end as soon as an update arrives; the test's deadline is far
// shorter than the poll's 50 s timeout, so a fake that waited it out fails.
func TestLongPollReturnsWhenAnUpdateArrives(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	u := srv.NewUser(7, "ru")
	got := make(chan []tgbotapi.Update, 1)
	go func() {
		ups, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Timeout: 50})
		got <- ups
	}()
	waitPoll(t, srv)
	u.Send("hello")
	select {
	case ups := <-got:
		if len(ups) != 1 || ups[0].Message.Text != "hello" {
			t.Errorf("long poll = %v; want the one message", ups)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("long poll did not return when the update arrived")
	}
}

func TestSecondPollEndsTheFirstWithConflict(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	first := make(chan error, 1)
	go func() {
		_, err := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Timeout: 30})
		first <- err
	}()
	waitPoll(t, srv)
	go api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Timeout: 1})
	if err := <-first; bot.Code(err) != 409 {
		t.Errorf("first poll = %v; want 409 conflict", err)
	}
}

// waitPoll waits until a getUpdates request is being held.
func waitPoll(t *testing.T, srv *telegramtest.Server) {
	t.Helper()
	// A held poll is recorded only when it ends; ask the server whether one is open.
	deadline := time.Now().Add(5 * time.Second)
	for !srv.Polling() {
		if time.Now().After(deadline) {
			t.Fatal("no poll arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSendEditAnswerDelete(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	u := srv.NewUser(42, "ru")

	msg := tgbotapi.NewMessage(42, "Выберите язык")
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData("Қазақша", "lang:kk"),
		tgbotapi.NewInlineKeyboardButtonData("Русский", "lang:ru")))
	sent, err := api.Send(ctx(t), msg)
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	last := u.Last()
	if last.ID != sent.MessageID || last.Text != "Выберите язык" {
		t.Fatalf("Last = %+v; want the message sent (%d)", last, sent.MessageID)
	}
	if b, ok := last.Button("Русский"); !ok || b.Data != "lang:ru" {
		t.Errorf("Button(Русский) = %+v, %v; want data lang:ru", b, ok)
	}

	upd := u.PressButton(t, last, "Русский")
	ups, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{})
	cq := ups[len(ups)-1].CallbackQuery
	if cq == nil || cq.Data != "lang:ru" || cq.Message.MessageID != last.ID || cq.From.ID != 42 {
		t.Fatalf("callback = %+v; want lang:ru on message %d", cq, last.ID)
	}
	if _, err := api.Request(ctx(t), tgbotapi.NewCallback(cq.ID, "ok")); err != nil {
		t.Errorf("answerCallbackQuery = %v", err)
	}
	if a, ok := srv.Answer(upd); !ok || a.Text != "ok" {
		t.Errorf("Answer = %+v, %v; want ok", a, ok)
	}
	if _, err := api.Request(ctx(t), tgbotapi.NewCallback(cq.ID, "again")); bot.Code(err) != 400 {
		t.Errorf("second answer = %v; want 400", err)
	}

	edit := tgbotapi.NewEditMessageText(42, last.ID, "Язык: русский")
	if _, err := api.Send(ctx(t), edit); err != nil {
		t.Fatalf("edit = %v", err)
	}
	m, _ := srv.Message(42, last.ID)
	if m.Text != "Язык: русский" || m.Inline != nil || m.Edits != 1 {
		t.Errorf("after edit = %+v; want new text, no keyboard, 1 edit", m)
	}
	if _, err := api.Send(ctx(t), edit); bot.Code(err) != 400 {
		t.Errorf("same edit again = %v; want 400 message is not modified", err)
	}
	if _, err := api.Send(ctx(t), tgbotapi.NewEditMessageText(42, 999, "x")); bot.Code(err) != 400 {
		t.Errorf("edit of a missing message = %v; want 400", err)
	}
	kb := tgbotapi.NewEditMessageReplyMarkup(42, last.ID, tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("OK", "ok"))))
	if _, err := api.Send(ctx(t), kb); err != nil {
		t.Errorf("editMessageReplyMarkup = %v", err)
	}
	if _, err := api.Request(ctx(t), tgbotapi.NewDeleteMessage(42, last.ID)); err != nil {
		t.Errorf("deleteMessage = %v", err)
	}
	if m, _ := srv.Message(42, last.ID); !m.Deleted {
		t.Errorf("message not deleted")
	}

	keyboard := tgbotapi.NewMessage(42, "Телефон")
	keyboard.ReplyMarkup = tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact("Поделиться")))
	api.Send(ctx(t), keyboard)
	if k := u.Keyboard(); len(k) != 1 || !k[0][0].RequestContact {
		t.Errorf("Keyboard = %+v; want the contact button", k)
	}
	rm := tgbotapi.NewMessage(42, "Спасибо")
	rm.ReplyMarkup = tgbotapi.NewRemoveKeyboard(true)
	api.Send(ctx(t), rm)
	if k := u.Keyboard(); k != nil {
		t.Errorf("Keyboard after remove = %+v; want none", k)
	}
}

func TestPhotoKeepsBytesAndProtectContent(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	png := []byte("\x89PNG\r\n\x1a\nfake")
	_, err := api.Upload(ctx(t), "sendPhoto", tgbotapi.Params{"chat_id": "42", "caption": "12345678", "protect_content": "true"},
		[]tgbotapi.RequestFile{{Name: "photo", Data: tgbotapi.FileBytes{Name: "qr.png", Bytes: png}}})
	if err != nil {
		t.Fatalf("Upload = %v", err)
	}
	m := srv.NewUser(42, "").Last()
	if !bytes.Equal(m.Photo, png) || m.Caption != "12345678" || !m.ProtectContent {
		t.Errorf("photo message = %+v; want the bytes, caption and protect_content", m)
	}
	if _, err := api.Send(ctx(t), tgbotapi.NewEditMessageText(42, m.ID, "x")); bot.Code(err) != 400 {
		t.Errorf("editMessageText on a photo = %v; want 400", err)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault telegramtest.Fault
		chat  int64
		check func(error) bool
	}{
		{"429 with retry_after", telegramtest.Fault{Code: 429, RetryAfter: 3, Times: 1}, 1, func(err error) bool {
			d, ok := bot.RetryAfter(err)
			return ok && d == 3*time.Second && bot.Temporary(err)
		}},
		{"403 blocked for the chat", telegramtest.Fault{Chat: 1, Code: 403, Description: "Forbidden: bot was blocked by the user"}, 1, bot.Blocked},
		{"403 of another chat does not hit", telegramtest.Fault{Chat: 2, Code: 403}, 1, func(err error) bool { return err == nil }},
		{"502 JSON", telegramtest.Fault{Code: 502, Times: 1}, 1, func(err error) bool { return bot.Code(err) == 502 && bot.Temporary(err) }},
		{"503 HTML page", telegramtest.Fault{Code: 503, HTML: true, Times: 1}, 1, func(err error) bool {
			var te *bot.TransportError
			return errors.As(err, &te) && te.Status == 503 && bot.Temporary(err)
		}},
		{"method filter", telegramtest.Fault{Method: "sendPhoto", Code: 500}, 1, func(err error) bool { return err == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t)
			api := connect(t, srv)
			id := srv.InjectFault(tt.fault)
			_, err := api.Send(ctx(t), tgbotapi.NewMessage(tt.chat, "hi"))
			if !tt.check(err) {
				t.Errorf("Send with fault %+v = %v", tt.fault, err)
			}
			if tt.fault.Times == 1 {
				if _, err := api.Send(ctx(t), tgbotapi.NewMessage(tt.chat, "again")); err != nil {
					t.Errorf("second Send = %v; want the one-time fault gone", err)
				}
				if srv.FaultHits(id) != -1 {
					t.Errorf("fault still present")
				}
			}
		})
	}
}

func TestUploadErrorsAreTyped(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	srv.Block(5)
	_, err := api.Upload(ctx(t), "sendPhoto", tgbotapi.Params{"chat_id": "5"},
		[]tgbotapi.RequestFile{{Name: "photo", Data: tgbotapi.FileBytes{Name: "a.png", Bytes: []byte("x")}}})
	if !bot.Blocked(err) {
		t.Errorf("Upload to a blocked chat = %v; want Blocked", err)
	}
	srv.Unblock(5)
	if _, err := api.Send(ctx(t), tgbotapi.NewMessage(5, "back")); err != nil {
		t.Errorf("after Unblock = %v", err)
	}
}

func TestSlowAnswerEndsWithTheContext(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	srv.Slow("sendMessage", time.Minute)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := api.Send(c, tgbotapi.NewMessage(1, "hi"))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send to a slow server = %v; want the deadline", err)
	}
	// The server notices the abandoned request a moment after the client.
	var calls []telegramtest.Call
	for end := time.Now().Add(5 * time.Second); len(calls) == 0 && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		calls = srv.CallsTo("sendMessage")
	}
	if len(calls) != 1 || calls[0].Status != 0 {
		t.Errorf("calls = %+v; want one unanswered", calls)
	}
}

func TestLimitRateAndPeakRate(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	srv.LimitRate(5)
	var limited int
	for i := 0; i < 8; i++ {
		if _, err := api.Send(ctx(t), tgbotapi.NewMessage(int64(i+1), "x")); err != nil {
			if _, ok := bot.RetryAfter(err); !ok {
				t.Fatalf("Send = %v; want success or 429", err)
			}
			limited++
		}
	}
	if limited < 3 {
		t.Errorf("%d of 8 sends limited at 5/s; want at least 3", limited)
	}
	if p := srv.PeakRate("sendMessage", time.Second); p > 5 {
		t.Errorf("PeakRate = %d; want ≤ 5", p)
	}
	if n := srv.Count("sendMessage"); n != 8-limited {
		t.Errorf("Count = %d; want %d", n, 8-limited)
	}
}

func TestCommandsStoredPerLanguage(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	cfg := tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "balance", Description: "Қалдық"})
	cfg.LanguageCode = "kk"
	if _, err := api.Request(ctx(t), cfg); err != nil {
		t.Fatal(err)
	}
	if c := srv.Commands("kk"); len(c) != 1 || c[0].Command != "balance" {
		t.Errorf("Commands(kk) = %v", c)
	}
	bad := tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Bad Command", Description: "x"})
	if _, err := api.Request(ctx(t), bad); bot.Code(err) != 400 {
		t.Errorf("invalid command = %v; want 400", err)
	}
}

func TestWebhookDeliveryWithSecret(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	var mu sync.Mutex
	var got []int
	var secrets []string
	fail := 1 // the first delivery fails and must be retried
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u tgbotapi.Update
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &u)
		mu.Lock()
		defer mu.Unlock()
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if fail > 0 {
			fail--
			w.WriteHeader(500)
			return
		}
		got = append(got, u.UpdateID)
	}))
	defer hook.Close()

	if _, err := api.Raw(ctx(t), "setWebhook", tgbotapi.Params{"url": hook.URL, "secret_token": "s3cret_ABC"}); err != nil {
		t.Fatalf("setWebhook = %v", err)
	}
	if wh, ok := srv.Webhook(); !ok || wh.SecretToken != "s3cret_ABC" {
		t.Errorf("Webhook = %+v; want the secret kept", wh)
	}
	if _, err := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{}); bot.Code(err) != 409 {
		t.Errorf("getUpdates with a webhook = %v; want 409", err)
	}
	u := srv.NewUser(9, "kk")
	a, b := u.Send("one"), u.Send("two")
	srv.Sync(t)
	if err := srv.Redeliver(a); err != nil {
		t.Fatal(err)
	}
	srv.Sync(t)
	mu.Lock()
	if want := []int{a, b, a}; !equal(got, want) {
		t.Errorf("delivered %v; want %v", got, want)
	}
	for _, s := range secrets {
		if s != "s3cret_ABC" {
			t.Errorf("secret header %q; want s3cret_ABC", s)
		}
	}
	mu.Unlock()
	if _, err := api.Request(ctx(t), tgbotapi.DeleteWebhookConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Webhook(); ok {
		t.Error("webhook still set after deleteWebhook")
	}
	if _, err := api.Raw(ctx(t), "setWebhook", tgbotapi.Params{"url": hook.URL, "secret_token": "bad secret!"}); bot.Code(err) != 400 {
		t.Errorf("setWebhook with a bad secret = %v; want 400", err)
	}
}

func TestRedeliverInPolling(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	u := srv.NewUser(3, "ru")
	id := u.Send("/balance")
	ups, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{})
	api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: ups[0].UpdateID + 1})
	if err := srv.Redeliver(id); err != nil {
		t.Fatal(err)
	}
	again, _ := api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: id + 1})
	if len(again) != 1 || again[0].UpdateID != id {
		t.Errorf("redelivered = %v; want update %d again", again, id)
	}
	done := make(chan struct{})
	go func() { srv.Sync(t); close(done) }()
	api.GetUpdates(ctx(t), tgbotapi.UpdateConfig{Offset: id + 1})
	<-done
}

func TestConcurrentUsersAndPeak(t *testing.T) {
	srv := telegramtest.New(t)
	api := connect(t, srv)
	var wg sync.WaitGroup
	for i := 1; i <= 20; i++ {
		wg.Add(1)
		go func(chat int64) {
			defer wg.Done()
			api.Send(ctx(t), tgbotapi.NewMessage(chat, "x"+strconv.FormatInt(chat, 10)))
		}(int64(i))
	}
	wg.Wait()
	if n := srv.Count(""); n != 20 {
		t.Errorf("Count = %d; want 20", n)
	}
	if _, err := srv.WaitMessages(ctx(t), 7, 1); err != nil {
		t.Error(err)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
