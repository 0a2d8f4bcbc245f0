package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/locales"
	"socialwallet/wallet"
)

// toIIN step: /start, language, own contact of p; the bot waits for the IIN.
func (h *harness) toIIN(u *telegramtest.User, phone, lang string) {
	h.t.Helper()
	m := h.send(u, "/start")
	for _, b := range m.Buttons() {
		if b.Data == "lang:"+lang {
			u.Press(m, b.Data)
		}
	}
	h.sync()
	u.ShareContact(phone)
	h.sync()
	if got := u.Last().Text; got != h.T(lang, "ask_iin", nil) {
		h.t.Fatalf("after the contact: %q; want the IIN asked", got)
	}
}

func (h *harness) linked(userID int64) bool {
	_, err := h.svc.TelegramLink(h.ctx, userID)
	return err == nil
}

func TestSomeoneElsesContactIsRefused(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(10, "ru")
	m := h.send(u, "/start")
	h.press(u, m, "✓ Русский")
	u.SendContact(h.people[0].Phone, 999) // a forwarded card of another Telegram user
	h.sync()
	if m := u.Last(); m.Text != h.T("ru", "contact_not_own", nil) || m.Keyboard == nil || !m.Keyboard[0][0].RequestContact {
		t.Errorf("someone else's contact: %q; want the refusal and the contact button again", m.Text)
	}
	u.SendContact(h.people[0].Phone, 0) // a contact that is no Telegram user at all
	h.sync()
	if got := u.Last().Text; got != h.T("ru", "contact_not_own", nil) {
		t.Errorf("a plain contact card: %q; want the refusal", got)
	}
	// Then the own number works, and nothing was counted against the user.
	u.ShareContact(h.people[0].Phone)
	h.sync()
	if got := u.Last().Text; got != h.T("ru", "ask_iin", nil) {
		t.Errorf("own contact after the refusal: %q; want the IIN asked", got)
	}
}

func TestBadIINIsAnsweredAtOnce(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(11, "kk")
	p := h.people[0]
	h.toIIN(u, p.Phone, "kk")
	wrong := p.IIN[:11] + string('0'+(p.IIN[11]-'0'+1)%10)
	tests := []struct{ name, text string }{
		{"checksum", wrong},
		{"eleven digits", p.IIN[:11]},
		{"letters", "ЖСН 12345678"},
	}
	for _, tt := range tests {
		id := u.Send(tt.text)
		h.sync()
		if got := u.Last().Text; got != h.T("kk", "iin_invalid", nil) {
			t.Errorf("IIN %s: %q; want iin_invalid", tt.name, got)
		}
		if !h.tg.UserMessageDeleted(u.ID(), iinMessageID(h, u, id)) {
			t.Errorf("IIN %s: the message was not deleted", tt.name)
		}
	}
	if h.linked(11) {
		t.Fatal("linked after bad IINs")
	}
	// Bad checksums are not attempts: five of them do not lock.
	for i := 0; i < 5; i++ {
		u.Send(wrong)
	}
	h.sync()
	h.send(u, p.IIN)
	if !h.linked(11) {
		t.Errorf("the right IIN after bad ones did not link: %q", u.Last().Text)
	}
}

func TestUnknownPhone(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(12, "ru")
	m := h.send(u, "/start")
	h.press(u, m, "✓ Русский")
	u.ShareContact("+77770000001")
	h.sync()
	m = u.Last()
	contains(t, "unknown phone", m.Text, h.T("ru", "phone_unknown", map[string]any{"Help": h.T("ru", "help_generic", nil), "Left": 4})[:40],
		"Кокшетау: ", "Павлодар: ", "Осталось попыток: 4")
	u.ShareContact("+15550000000")
	h.sync()
	contains(t, "foreign phone", u.Last().Text, "не похож на казахстанский")
	if h.linked(12) {
		t.Error("an unknown phone linked")
	}
}

func TestFiveFailuresLockLinkingForAnHour(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(13, "ru")
	mother, father := h.people[0], h.people[1]
	h.toIIN(u, mother.Phone, "ru")
	for i := 1; i <= 4; i++ {
		h.send(u, father.IIN) // a real IIN, but not the mother's
		if got := u.Last().Text; !strings.Contains(got, "Осталось попыток: "+string(rune('0'+5-i))) {
			t.Fatalf("failure %d: %q; want %d attempts left", i, got, 5-i)
		}
	}
	h.send(u, father.IIN)
	m := u.Last()
	contains(t, "fifth failure", m.Text, "Попытки исчерпаны", "до 13:00 (10 января)")
	// Locked: even the right IIN and phone are refused, and nothing links.
	u.ShareContact(mother.Phone)
	h.sync()
	contains(t, "while locked", u.Last().Text, h.T("ru", "link_locked", map[string]any{"Until": "13:00", "UntilDate": "10 января"}))
	if h.linked(13) {
		t.Fatal("linked while locked")
	}
	// Another person is not locked.
	other := h.tg.NewUser(14, "ru")
	h.toIIN(other, father.Phone, "ru")
	// An hour later the mother may try again.
	h.clock.Advance(time.Hour + time.Minute)
	u.ShareContact(mother.Phone)
	h.sync()
	h.send(u, mother.IIN)
	if !h.linked(13) {
		t.Errorf("after the hour the right IIN did not link: %q", u.Last().Text)
	}
}

func TestConsentDeclinedThenActivationAttempted(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(15, "kk")
	mother := h.people[0]
	h.toIIN(u, mother.Phone, "kk")
	m := h.send(u, mother.IIN)
	h.press(u, m, h.T("kk", "btn_decline", nil))
	if got := u.Last(); got.Text != h.T("kk", "consent_declined", nil) || len(got.KeyboardTexts()) != 8 {
		t.Errorf("after Decline: %q; want the explanation and the menu", got.Text)
	}
	me := h.member(mother.IIN)
	cs, _ := h.svc.ConsentState(h.ctx, me.ID)
	if !cs.Declined() || cs.Version != "2026-01" {
		t.Errorf("ConsentState = %+v; want the decline of 2026-01 recorded", cs)
	}
	// The Activate screen says what waits and asks for consent.
	m = h.send(u, h.T("kk", "btn_activate", nil))
	contains(t, "Activate without consent", m.Text, "12\u00a0975\u00a0₸", h.T("kk", "act_need_consent", map[string]any{"Month": locales.Month("kk", jan), "Amount": "12\u00a0975\u00a0₸"}))
	if _, ok := m.ButtonWithData("act:2026-01"); ok {
		t.Error("the Activate button is offered without consent")
	}
	// An Activate button pressed anyway (a reminder's) changes nothing.
	reminder := h.sendAs(u.ID(), "Ваучерлерді белсендіріңіз", "act:2026-01")
	mark := h.tg.Mark()
	id := u.Press(reminder, "act:2026-01")
	h.sync()
	if a, _ := h.tg.Answer(id); a.Text != h.T("kk", "consent_required_short", nil) {
		t.Errorf("Activate without consent answered %q", a.Text)
	}
	if calls := h.tg.CallsSince(mark); len(calls) > 2 {
		t.Errorf("%d calls; want at most 2", len(calls))
	}
	if n := h.activations(me.FamilyID); n != 0 {
		t.Errorf("%d activations without consent; want 0", n)
	}
	for _, b := range []string{"btn_qr", "btn_balance", "btn_history", "btn_family"} {
		if got := h.send(u, h.T("kk", b, nil)).Text; got != h.T("kk", "consent_required", nil) {
			t.Errorf("%s without consent: %q; want consent_required", b, got)
		}
	}
	// /consent gives the way back.
	m = h.send(u, "/consent")
	contains(t, "/consent", m.Text, h.T("kk", "consent_status_declined", map[string]any{"Date": "10 қаңтар"}))
	h.press(u, m, h.T("kk", "btn_agree", nil))
	m = h.send(u, h.T("kk", "btn_activate", nil))
	h.press(u, m, h.T("kk", "btn_activate_now", nil))
	if n := h.activations(me.FamilyID); n != 3 {
		t.Errorf("%d activations after agreeing; want 3", n)
	}
	// Revoking stops it again.
	m = h.send(u, "/consent")
	h.press(u, m, h.T("kk", "btn_revoke", nil))
	if cs, _ := h.svc.ConsentState(h.ctx, me.ID); cs.Consent.Active() {
		t.Error("consent still active after Revoke")
	}
	if got := h.send(u, h.T("kk", "btn_qr", nil)).Text; got != h.T("kk", "consent_required", nil) {
		t.Errorf("QR after revoking: %q", got)
	}
}

var jan = wallet.Period{Year: 2026, Month: time.January}

// sendAs sends a message with one button to chat through the Bot API, as the
// jobs' reminders and receipts do.
func (h *harness) sendAs(chat int64, text, data string) telegramtest.Message {
	h.t.Helper()
	msg := tgbotapi.NewMessage(chat, text)
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData("▶", data)))
	sent, err := h.api.Send(h.ctx, msg)
	if err != nil {
		h.t.Fatal(err)
	}
	m, _ := h.tg.Message(chat, sent.MessageID)
	return m
}

func TestActivationOneSecondAfterTheDeadline(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(16, "ru")
	mother := h.people[0]
	h.link(u, mother, "ru")
	h.clock.Set(almaty(t, "2026-01-31 23:59:59"))
	m := h.send(u, h.T("ru", "btn_activate", nil))
	contains(t, "last second", m.Text, h.T("ru", "days", nil, 1), "31 января")
	h.clock.Set(almaty(t, "2026-02-01 00:00:01"))
	mark := h.tg.Mark()
	id := h.press(u, m, h.T("ru", "btn_activate_now", nil))
	if calls := h.tg.CallsSince(mark); len(calls) != 2 {
		t.Errorf("calls = %v; want the answer and one edit", methods(calls))
	}
	if a, _ := h.tg.Answer(id); a.Text != h.T("ru", "act_closed_short", map[string]any{"Month": "январь 2026"}) {
		t.Errorf("answer = %q", a.Text)
	}
	edited, _ := h.tg.Message(u.ID(), m.ID)
	contains(t, "closed month", edited.Text, "закрылась 31 января", "Ваучеры за февраль 2026 поступят 1 февраля")
	if edited.Inline != nil {
		t.Errorf("the closed month still offers %v", edited.Buttons())
	}
	if n := h.activations(h.member(mother.IIN).FamilyID); n != 0 {
		t.Errorf("%d activations after the deadline; want 0", n)
	}
}

func TestClosedMonthOffersTheNewOne(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(17, "kk")
	h.link(u, h.people[0], "kk")
	old := h.sendAs(u.ID(), "Қаңтар ваучерлерін белсендіріңіз", "act:2026-01")
	h.clock.Set(almaty(t, "2026-02-02 10:00:00"))
	if _, err := h.svc.Issue(h.ctx, wallet.Period{Year: 2026, Month: time.February}); err != nil {
		t.Fatal(err)
	}
	u.Press(old, "act:2026-01")
	h.sync()
	edited, _ := h.tg.Message(u.ID(), old.ID)
	if b, ok := edited.ButtonWithData("act:2026-02"); !ok {
		t.Errorf("closed January on a reminder = %q %v; want February offered", edited.Text, b)
	}
	u.Press(edited, "act:2026-02")
	h.sync()
	if n := h.activations(h.member(h.people[0].IIN).FamilyID); n != 3 {
		t.Errorf("%d activations; want February's 3", n)
	}
}

func TestDoubleTapActivatesOnce(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(18, "ru")
	mother := h.people[0]
	h.link(u, mother, "ru")
	m := h.send(u, h.T("ru", "btn_activate", nil))
	mark := h.tg.Mark()
	first := u.Press(m, "act:2026-01")
	second := u.Press(m, "act:2026-01") // before the first is answered
	h.sync()
	if n := h.activations(h.member(mother.IIN).FamilyID); n != 3 {
		t.Errorf("%d activations after a double tap; want 3 (one each)", n)
	}
	a1, _ := h.tg.Answer(first)
	a2, _ := h.tg.Answer(second)
	if a1.Text != h.T("ru", "act_done_short", map[string]any{"Amount": "12\u00a0975\u00a0₸"}) || a2.Text != h.T("ru", "act_already", nil) {
		t.Errorf("answers = %q, %q; want done, then already", a1.Text, a2.Text)
	}
	calls := h.tg.CallsSince(mark)
	if len(calls) > 4 {
		t.Errorf("two presses made %v; want at most two calls each", methods(calls))
	}
	// The same press on a reminder from the jobs: answered, edited, nothing activated twice.
	rem := h.sendAs(u.ID(), "Напоминание", "act:2026-01")
	mark = h.tg.Mark()
	u.Press(rem, "act:2026-01")
	h.sync()
	if calls := h.tg.CallsSince(mark); len(calls) != 2 || calls[0].Method != "answerCallbackQuery" || calls[1].Method != "editMessageText" {
		t.Errorf("press on a reminder = %v; want the answer and one edit", methods(calls))
	}
	if n := h.activations(h.member(mother.IIN).FamilyID); n != 3 {
		t.Errorf("%d activations; want still 3", n)
	}
}

func TestOldAndForeignButtons(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(19, "ru")
	m := h.send(u, "/start")
	picker := m
	h.press(u, m, "✓ Русский")
	u.ShareContact(h.people[0].Phone)
	h.sync()
	h.send(u, h.people[0].IIN)
	h.press(u, u.Last(), h.T("ru", "btn_agree", nil))

	tests := []struct {
		name string
		msg  telegramtest.Message
		data string
	}{
		{"the first language picker", picker, "lang:kk"},
		{"unknown data", u.Last(), "zzz:1"},
		{"malformed period", u.Last(), "act:2026-13"},
		{"consent of an old version", u.Last(), "consent:yes:2025-01"},
		{"not me without a number", u.Last(), "notme:x"},
	}
	for _, tt := range tests {
		before, _ := h.svc.TelegramLink(h.ctx, u.ID())
		mark := h.tg.Mark()
		id := u.Press(tt.msg, tt.data)
		h.sync()
		a, ok := h.tg.Answer(id)
		if !ok {
			t.Errorf("%s: not answered", tt.name)
		}
		calls := h.tg.CallsSince(mark)
		after, _ := h.svc.TelegramLink(h.ctx, u.ID())
		if after.Lang != before.Lang {
			t.Errorf("%s changed the language to %s", tt.name, after.Lang)
		}
		switch tt.name {
		case "consent of an old version":
			if a.Text != h.T("ru", "consent_outdated", nil) || len(calls) > 2 {
				t.Errorf("%s: %q, %v", tt.name, a.Text, methods(calls))
			}
		default:
			if a.Text != h.T("ru", "old_button", nil) || len(calls) != 1 {
				t.Errorf("%s: answered %q with %v; want old_button and nothing else", tt.name, a.Text, methods(calls))
			}
		}
	}
}

func TestPhotoStickerAndCommandsOutOfTurn(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(20, "kk")
	tests := []struct {
		name string
		act  func() int
		want string
	}{
		{"balance before /start", func() int { return u.Send("/balance") }, "finish_linking_start"},
		{"a photo before /start", func() int { return u.SendPhoto() }, "finish_linking_start"},
	}
	for _, tt := range tests {
		tt.act()
		h.sync()
		if got := u.Last().Text; got != h.T("kk", tt.want, nil) {
			t.Errorf("%s: %q; want %s", tt.name, got, tt.want)
		}
	}
	m := h.send(u, "/start")
	h.press(u, m, "✓ Қазақша")
	for _, tc := range []struct {
		name string
		act  func() int
		want string
	}{
		{"QR while the phone is awaited", func() int { return u.Send("/qr") }, "finish_linking_phone"},
		{"a typed phone", func() int { return u.Send("+7 701 000 00 00") }, "use_contact_button"},
		{"a sticker while the phone is awaited", func() int { return u.SendSticker() }, "finish_linking_phone"},
	} {
		tc.act()
		h.sync()
		if got := u.Last().Text; got != h.T("kk", tc.want, nil) {
			t.Errorf("%s: %q; want %s", tc.name, got, tc.want)
		}
	}
	u.ShareContact(h.people[0].Phone)
	h.sync()
	if got := h.send(u, h.T("kk", "btn_balance", nil)).Text; got != h.T("kk", "finish_linking_iin", nil) {
		t.Errorf("menu while the IIN is awaited: %q", got)
	}
	h.send(u, h.people[0].IIN)
	h.press(u, u.Last(), h.T("kk", "btn_agree", nil))
	for _, tc := range []struct {
		name string
		act  func() int
		want string
	}{
		{"a photo", func() int { return u.SendPhoto() }, "not_understood"},
		{"a sticker", func() int { return u.SendSticker() }, "not_understood"},
		{"an unknown command", func() int { return u.Send("/pay") }, "unknown_command"},
		{"free text", func() int { return u.Send("сәлем") }, "use_menu"},
		{"a contact after linking", func() int { return u.ShareContact(h.people[0].Phone) }, "already_linked"},
	} {
		before := h.activations("F0000000")
		tc.act()
		h.sync()
		if got := u.Last().Text; got != h.T("kk", tc.want, nil) {
			t.Errorf("%s: %q; want %s", tc.name, got, tc.want)
		}
		if h.activations("F0000000") != before || !h.linked(u.ID()) {
			t.Errorf("%s changed something", tc.name)
		}
	}
}

func TestRedeliveredUpdateDoesNothing(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(21, "ru")
	h.link(u, h.people[0], "ru")
	m := h.send(u, h.T("ru", "btn_activate", nil))
	press := u.Press(m, "act:2026-01")
	h.sync()
	balance := u.Send(h.T("ru", "btn_balance", nil))
	h.sync()
	n := len(u.Messages())
	mark := h.tg.Mark()
	for _, id := range []int{press, balance} {
		if err := h.tg.Redeliver(id); err != nil {
			t.Fatal(err)
		}
	}
	h.sync()
	if calls := h.tg.CallsSince(mark); len(calls) != 0 {
		t.Errorf("redelivered updates made %v; want nothing", methods(calls))
	}
	if len(u.Messages()) != n || h.activations("F0000000") != 3 {
		t.Errorf("redelivery changed the chat or the ledger")
	}
}

// The webhook: a request with a wrong secret gets 401 and nothing is handled;
// with the right one the update is handled once however often it comes.
func TestWebhookSecret(t *testing.T) {
	h := newHarness(t)
	h.stop() // no polling: this bot takes updates by webhook
	const secret = "webhook-secret_0123456789"
	handler, err := h.bot.WebhookHandler(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	upd := tgbotapi.Update{UpdateID: 777, Message: &tgbotapi.Message{MessageID: 1, Date: int(h.clock.Now().Unix()),
		From: &tgbotapi.User{ID: 30, FirstName: "A", LanguageCode: "ru"}, Chat: &tgbotapi.Chat{ID: 30, Type: "private"},
		Text: "/start", Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: 6}}}}
	tests := []struct {
		name   string
		secret string
		want   int
	}{
		{"no secret", "", http.StatusUnauthorized},
		{"wrong secret", "webhook-secret_0123456780", http.StatusUnauthorized},
		{"a prefix of the secret", secret[:10], http.StatusUnauthorized},
		{"right secret", secret, http.StatusOK},
		{"right secret, redelivered", secret, http.StatusOK},
	}
	for _, tt := range tests {
		mark := h.tg.Mark()
		status, err := telegramtest.PostUpdate(h.ctx, nil, srv.URL, tt.secret, upd)
		if err != nil || status != tt.want {
			t.Errorf("%s: status %d, %v; want %d", tt.name, status, err, tt.want)
		}
		calls := h.tg.CallsSince(mark)
		switch tt.name {
		case "right secret":
			if len(calls) != 1 || calls[0].Method != "sendMessage" {
				t.Errorf("%s: %v; want the language picker sent", tt.name, methods(calls))
			}
		default:
			if len(calls) != 0 {
				t.Errorf("%s: %v; want nothing handled", tt.name, methods(calls))
			}
		}
	}
	if ok, _ := rawClaim(h, 777); ok {
		t.Error("update 777 not claimed")
	}
	if _, err := h.bot.WebhookHandler("short"); err == nil {
		t.Error("a short webhook secret was accepted")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set(bot.SecretHeader, secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %v, %v; want 405", resp, err)
	}
	bad, _ := json.Marshal(map[string]any{"update_id": "x"})
	req, _ = http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(bad)))
	req.Header.Set(bot.SecretHeader, secret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad JSON = %v, %v; want 400", resp, err)
	}
}

// rawClaim claims an update id as the bot does, to see whether it was taken.
func rawClaim(h *harness, id int64) (bool, error) {
	return h.rc.SetNX(context.Background(), h.prefix+"update:"+itoa(h.api.Self.ID)+":"+itoa(id), 1, time.Minute).Result()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A linked recipient with consent but nothing activated asks for a QR code:
// there is nothing to pay with, so no code is made, and the answer says what
// to do first.
func TestNoQRCodeWithoutValue(t *testing.T) {
	for _, tt := range []struct {
		lang   string
		person int
	}{{"kk", 0}, {"ru", 4}} {
		t.Run(tt.lang, func(t *testing.T) {
			h := newHarness(t)
			u := h.tg.NewUser(60+int64(tt.person), tt.lang)
			h.link(u, h.people[tt.person], tt.lang)
			me := h.member(h.people[tt.person].IIN)
			mark := h.tg.Mark()
			m := h.send(u, h.T(tt.lang, "btn_qr", nil))
			if m.Photo != nil || m.Text != h.T(tt.lang, "qr_no_value", nil) {
				t.Errorf("QR with nothing activated = %q (photo %v); want %q", m.Text, m.Photo != nil, h.T(tt.lang, "qr_no_value", nil))
			}
			for _, c := range h.tg.CallsSince(mark) {
				if c.Method == "sendPhoto" {
					t.Errorf("a QR photo was sent with nothing to pay with")
				}
			}
			var tokens int
			h.store.Pool().QueryRow(h.ctx, `SELECT count(*) FROM qr_tokens WHERE member_id = $1`, me.ID).Scan(&tokens)
			if tokens != 0 {
				t.Errorf("%d QR tokens made with nothing to pay with; want none", tokens)
			}
		})
	}
}
