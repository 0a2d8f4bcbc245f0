package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

// statuses lists the status of each call of method since mark, in order.
func statuses(h *harness, method string, mark int) []int {
	var out []int
	for _, c := range h.tg.CallsSince(mark) {
		if c.Method == method {
			out = append(out, c.Status)
		}
	}
	return out
}

func equalInts(a, b []int) bool {
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

func TestTooManyRequestsIsWaitedOut(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(40, "ru")
	h.link(u, h.people[0], "ru")
	mark := h.tg.Mark()
	h.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Code: 429, RetryAfter: 1, Times: 1})
	m := h.send(u, h.T("ru", "btn_help", nil))
	if got := statuses(h, "sendMessage", mark); !equalInts(got, []int{429, 200}) {
		t.Fatalf("sendMessage statuses = %v; want 429 then 200", got)
	}
	calls := h.tg.CallsSince(mark)
	if gap := calls[1].At.Sub(calls[0].At); gap < time.Second {
		t.Errorf("the retry came %v after the 429; want retry_after (1 s) waited out", gap)
	}
	contains(t, "help after a 429", m.Text, h.prog.Name)
}

func TestServerErrorsAndTimeoutsAreRetried(t *testing.T) {
	tests := []struct {
		name  string
		fault telegramtest.Fault
		want  []int
	}{
		{"502 twice", telegramtest.Fault{Method: "sendMessage", Code: 502, Times: 2}, []int{502, 502, 200}},
		{"500 from a proxy page", telegramtest.Fault{Method: "sendMessage", Code: 500, HTML: true, Times: 1}, []int{500, 200}},
		// A first attempt that never answers is abandoned at the call timeout
		// (status 0) and tried again.
		{"timeout", telegramtest.Fault{Method: "sendMessage", Delay: 5 * time.Second, Times: 1}, []int{0, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const base = 200 * time.Millisecond
			h := newHarness(t, func(c *bot.Config) {
				c.Retry.CallTimeout, c.Retry.Base, c.Retry.Max = 300*time.Millisecond, base, 10*base
			})
			u := h.tg.NewUser(41, "kk")
			h.link(u, h.people[0], "kk")
			mark := h.tg.Mark()
			h.tg.InjectFault(tt.fault)
			m := h.send(u, h.T("kk", "btn_balance", nil))
			waitStatuses(t, h, "sendMessage", mark, len(tt.want))
			if got := statuses(h, "sendMessage", mark); !equalInts(got, tt.want) {
				t.Errorf("sendMessage statuses = %v; want %v", got, tt.want)
			}
			// Backoff: the n-th retry waits at least base·2^(n-1) after the
			// attempt before it began.
			var at []time.Time
			for _, c := range h.tg.CallsSince(mark) {
				if c.Method == "sendMessage" {
					at = append(at, c.At)
				}
			}
			for i := 1; i < len(at); i++ {
				if gap, want := at[i].Sub(at[i-1]), base<<(i-1); gap < want {
					t.Errorf("retry %d came %v after the attempt before; want at least %v", i, gap, want)
				}
			}
			contains(t, "balance after the faults", m.Text, h.T("kk", "balance_total", map[string]any{"Amount": "0\u00a0₸"}))
		})
	}
}

// waitStatuses waits until n calls of method are recorded after mark (an
// abandoned request is recorded when the server notices).
func waitStatuses(t *testing.T, h *harness, method string, mark, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(statuses(h, method, mark)) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d %s calls; want %d", len(statuses(h, method, mark)), method, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestPollingSurvivesTelegramFailures(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(42, "ru")
	mark := h.tg.Mark()
	h.tg.InjectFault(telegramtest.Fault{Method: "getUpdates", Code: 502, Times: 2})
	h.tg.InjectFault(telegramtest.Fault{Method: "getUpdates", Code: 429, RetryAfter: 1, Times: 1})
	m := h.send(u, "/start")
	if m.Text != h.T("ru", "choose_language", nil) {
		t.Errorf("after getUpdates failures: %q; want the picker", m.Text)
	}
	var got []int
	for _, c := range h.tg.Calls()[mark:] {
		if c.Method == "getUpdates" && c.Status != 200 {
			got = append(got, c.Status)
		}
	}
	if !equalInts(got, []int{502, 502, 429}) {
		t.Errorf("failed polls = %v; want 502, 502, 429, then on", got)
	}
}

func TestPhotoFailureSendsTheCodeAsText(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(43, "ru")
	mother := h.people[0]
	h.link(u, mother, "ru")
	m := h.send(u, h.T("ru", "btn_activate", nil))
	h.press(u, m, h.T("ru", "btn_activate_now", nil))
	h.tg.InjectFault(telegramtest.Fault{Method: "sendPhoto", Code: 400, Description: "Bad Request: IMAGE_PROCESS_FAILED"})
	m = h.send(u, h.T("ru", "btn_qr", nil))
	if m.Photo != nil {
		t.Fatal("a photo went out")
	}
	code := fallbackCode(t, m.Text)
	contains(t, "code as text", m.Text, "Не удалось отправить картинку")
	signed, err := codesOf(h).Lookup(h.ctx, code)
	if err != nil {
		t.Fatalf("Lookup(the texted code) = %v", err)
	}
	if tok, err := wallet.ParseQRToken(secret, signed, h.clock.Now()); err != nil || tok.MemberID != h.member(mother.IIN).ID {
		t.Errorf("the texted code stands for %v, %v", tok, err)
	}
}

// Redis flushed in the middle of linking: the user is asked to repeat the
// step; a linked user goes on as if nothing happened.
func TestRedisFlushedMidConversation(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(44, "kk")
	mother, father := h.people[0], h.people[1]
	h.toIIN(u, mother.Phone, "kk")
	h.flushRedis()
	id := u.Send(mother.IIN)
	h.sync()
	if got := u.Last(); got.Text != h.T("kk", "session_lost", nil) || got.Keyboard == nil || !got.Keyboard[0][0].RequestContact {
		t.Fatalf("IIN after the flush: %q; want the phone asked again", got.Text)
	}
	if !h.tg.UserMessageDeleted(u.ID(), iinMessageID(h, u, id)) {
		t.Error("the IIN sent after the flush stayed in the chat")
	}
	u.ShareContact(mother.Phone)
	h.sync()
	h.send(u, mother.IIN)
	h.press(u, u.Last(), h.T("kk", "btn_agree", nil))
	if !h.linked(u.ID()) {
		t.Fatal("not linked after repeating the step")
	}

	// A linked user loses nothing: the session is rebuilt from the link.
	v := h.tg.NewUser(45, "ru")
	h.link(v, father, "kk") // Kazakh chosen despite a Russian Telegram
	h.flushRedis()
	m := h.send(v, h.T("kk", "btn_balance", nil))
	contains(t, "balance after the flush", m.Text, h.T("kk", "balance_total", map[string]any{"Amount": "0\u00a0₸"}))
	m = h.send(v, h.T("kk", "btn_activate", nil))
	h.flushRedis()
	h.press(v, m, h.T("kk", "btn_activate_now", nil))
	if n := h.activations(h.member(father.IIN).FamilyID); n != 1 {
		t.Errorf("%d activations after a flush; want the father's 1", n)
	}
	// Consent buttons still work on a lost session.
	h.flushRedis()
	m = h.send(v, "/consent")
	h.press(v, m, h.T("kk", "btn_revoke", nil))
	if cs, _ := h.svc.ConsentState(h.ctx, h.member(father.IIN).ID); cs.Consent.Active() {
		t.Error("Revoke after a flush did nothing")
	}
}

// flushRedis deletes every key of this test (the server is shared by tests
// running in parallel, so not FLUSHDB).
func (h *harness) flushRedis() {
	h.t.Helper()
	iter := h.rc.Scan(h.ctx, 0, h.prefix+"*", 1000).Iterator()
	n := 0
	for iter.Next(h.ctx) {
		h.rc.Del(h.ctx, iter.Val())
		n++
	}
	if n == 0 {
		h.t.Fatal("flushRedis: nothing to flush")
	}
}

// The bot restarted between two steps goes on from the stored state.
func TestRestartMidConversation(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(46, "ru")
	mother := h.people[0]
	h.toIIN(u, mother.Phone, "ru")
	h.restart()
	h.send(u, mother.IIN)
	m := u.Last()
	if _, ok := m.Button(h.T("ru", "btn_agree", nil)); !ok {
		t.Fatalf("IIN after a restart: %q; want the consent", m.Text)
	}
	h.restart()
	h.press(u, m, h.T("ru", "btn_agree", nil))
	m = h.send(u, h.T("ru", "btn_activate", nil))
	// Updates that arrive while the bot is down are handled when it is back.
	h.stop()
	u.Press(m, "act:2026-01")
	u.Send(h.T("ru", "btn_balance", nil))
	h.start()
	h.sync()
	contains(t, "balance after a restart", u.Last().Text, h.T("ru", "balance_total", map[string]any{"Amount": "12\u00a0975\u00a0₸"}))
}

func TestSlashStartClearsABlock(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(47, "kk")
	h.link(u, h.people[0], "kk")
	// The jobs' sender met a 403 for this user.
	if _, err := h.store.Pool().Exec(h.ctx, `UPDATE telegram_links SET blocked_at = now() WHERE telegram_user_id = $1`, u.ID()); err != nil {
		t.Fatal(err)
	}
	m := h.send(u, "/start")
	if m.Text != h.T("kk", "welcome_back", nil) || len(m.KeyboardTexts()) != 8 {
		t.Errorf("/start of a linked user: %q; want welcome back and the menu", m.Text)
	}
	if l, _ := h.svc.TelegramLink(h.ctx, u.ID()); !l.BlockedAt.IsZero() {
		t.Error("blocked_at still set after /start")
	}
}

func TestLanguageSwitch(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(48, "ru")
	h.link(u, h.people[0], "ru")
	m := h.send(u, h.T("ru", "btn_language", nil))
	h.press(u, m, "Қазақша")
	if l, _ := h.svc.TelegramLink(h.ctx, u.ID()); l.Lang != "kk" {
		t.Errorf("language = %s; want kk", l.Lang)
	}
	if got := u.Last(); got.Text != h.T("kk", "lang_changed", nil) || got.KeyboardTexts()[0] != h.T("kk", "btn_balance", nil) {
		t.Errorf("after switching: %q %v; want the Kazakh menu", got.Text, got.KeyboardTexts())
	}
	// The old Russian keyboard still works after the switch, and answers in Kazakh.
	contains(t, "old keyboard", h.send(u, h.T("ru", "btn_balance", nil)).Text, "Отбасыңыздың қалдығы")
	// The picker is single-use.
	id := u.Press(m, "lang:ru")
	h.sync()
	if a, _ := h.tg.Answer(id); a.Text != h.T("kk", "old_button", nil) {
		t.Errorf("a used picker answered %q", a.Text)
	}
}

// "Not me" on a receipt sent by the jobs: the family's wallet freezes, the
// receipt is edited to say whom to call, and no code is given any more.
func TestNotMeFreezesTheFamily(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(49, "ru")
	mother := h.people[0]
	h.link(u, mother, "ru")
	m := h.send(u, h.T("ru", "btn_activate", nil))
	h.press(u, m, h.T("ru", "btn_activate_now", nil))
	m = h.send(u, h.T("ru", "btn_qr", nil))
	signed := decodeQR(t, m.Photo)
	mid, _, err := h.svc.AddMerchant(h.ctx, wallet.Merchant{Name: "Арай", City: "kokshetau", Lat: 53.28, Lon: 69.38, DiscountBP: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := h.store.ListMerchants(h.ctx)
	var shop wallet.Merchant
	for _, x := range ms {
		if x.ID == mid {
			shop = x
		}
	}
	red, _, err := h.svc.Redeem(h.ctx, wallet.RedeemRequest{Merchant: shop, Token: signed, IdempotencyKey: "k", RequestHash: []byte{1},
		ReceiptNo: "1", Lines: []wallet.LineInput{{Product: "buckwheat", QtyMilli: 1000, UnitPrice: 50000}}})
	if err != nil {
		t.Fatal(err)
	}
	receipt := h.sendAs(u.ID(), "Покупка в «Арай»: 450 ₸", "notme:"+itoa(red.ID))
	mark := h.tg.Mark()
	id := u.Press(receipt, "notme:"+itoa(red.ID))
	h.sync()
	if calls := h.tg.CallsSince(mark); len(calls) != 2 {
		t.Errorf("Not me made %v; want the answer and one edit", methods(calls))
	}
	if a, _ := h.tg.Answer(id); a.Text != h.T("ru", "notme_done_short", nil) {
		t.Errorf("answer = %q", a.Text)
	}
	edited, _ := h.tg.Message(u.ID(), receipt.ID)
	contains(t, "receipt after Not me", edited.Text, "Покупка в «Арай»", "Кошелёк семьи заморожен", "Кокшетау")
	var frozen bool
	h.store.Pool().QueryRow(h.ctx, `SELECT frozen_at IS NOT NULL FROM families WHERE id = 'F0000000'`).Scan(&frozen)
	if !frozen {
		t.Error("the family is not frozen")
	}
	m = h.send(u, h.T("ru", "btn_qr", nil))
	if m.Photo != nil || m.Text != h.T("ru", "frozen", map[string]any{"Help": "Обратитесь в отдел занятости и социальных программ города Кокшетау."}) {
		t.Errorf("QR of a frozen family: %q; want the reason and whom to call", m.Text)
	}
	// Someone else's purchase cannot be reported.
	v := h.tg.NewUser(50, "ru")
	h.link(v, h.people[4], "ru")
	other := h.sendAs(v.ID(), "Чужой чек", "notme:"+itoa(red.ID))
	id = v.Press(other, "notme:"+itoa(red.ID))
	h.sync()
	if a, _ := h.tg.Answer(id); a.Text != h.T("ru", "notme_not_yours", nil) {
		t.Errorf("Not me on another family's purchase answered %q", a.Text)
	}
	h.store.Pool().QueryRow(h.ctx, `SELECT frozen_at IS NOT NULL FROM families WHERE id = 'F0000001'`).Scan(&frozen)
	if frozen {
		t.Error("another family was frozen")
	}
}

func codesOf(h *harness) *rstore.Codes { return rstore.NewCodes(h.rc, h.prefix) }

// With Redis unreachable the bot still answers: every update rebuilds the
// session from PostgreSQL, so a linked user loses nothing, and the QR code
// still comes (without the typed fallback code).
func TestRedisDownTheBotStillAnswers(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(130, "ru")
	mother := h.people[0]
	h.link(u, mother, "ru")
	m := h.send(u, h.T("ru", "btn_activate", nil))
	h.press(u, m, h.T("ru", "btn_activate_now", nil))
	h.stop()
	dead := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer dead.Close()
	sessions := rstore.NewSessions(dead, "x:", time.Hour)
	claims := rstore.NewDedupe(dead, "x:", 1, time.Hour)
	h.start(func(c *bot.Config) {
		c.Sessions, c.Claims, c.Intake = sessions, claims, rstore.Intake{Claims: claims, Sessions: sessions}
		c.Codes = rstore.NewCodes(dead, "x:")
		c.Attempts = rstore.NewLinkAttempts(dead, "x:", 5, time.Hour)
	})
	contains(t, "balance without Redis", h.send(u, h.T("ru", "btn_balance", nil)).Text,
		h.T("ru", "balance_total", map[string]any{"Amount": "12\u00a0975\u00a0₸"}))
	m = h.send(u, h.T("ru", "btn_qr", nil))
	if m.Photo == nil || !strings.Contains(m.Caption, h.T("ru", "qr_caption_nocode", map[string]any{"Until": "12:05", "Minutes": 5})[:30]) {
		t.Errorf("QR without Redis = %q; want the photo without a fallback code", m.Caption)
	}
	if _, err := wallet.ParseQRToken(secret, decodeQR(t, m.Photo), h.clock.Now()); err != nil {
		t.Errorf("the QR code without Redis does not verify: %v", err)
	}
}
