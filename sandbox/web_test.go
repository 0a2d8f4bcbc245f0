package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/wallet"
)

// page is the sandbox's pages on a fake Bot API, with no bot behind it: the
// test plays the bot by calling the Bot API itself.
type page struct {
	t      *testing.T
	tg     *telegramtest.Server
	clock  *clock.Offset
	prog   *wallet.Program
	web    *Web
	srv    *httptest.Server
	kicked atomic.Int32
	demo   *Demo
}

var demoPeople = []Person{
	{TelegramID: 700000010, Name: "Серікбаева Гүлнар", City: "kokshetau", FamilyID: "F0000001", Applicant: true, Phone: "+77010000010", IIN: "850202400040", FamilySize: 3, Minors: 1, Lang: "kk"},
	{TelegramID: 700000070, Name: "Бекенова Гүлнар", City: "pavlodar", FamilyID: "F0000007", Applicant: true, Phone: "+77010000070", IIN: "850808400061", FamilySize: 3, Minors: 1, PreLinked: true, Lang: "ru"},
}

func newPage(t *testing.T) *page {
	t.Helper()
	p := &page{t: t, tg: telegramtest.New(t)}
	var err error
	p.prog, err = Programme(program.Default(), almaty(t, "2026-02-10 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	p.clock = clock.StartingAt(almaty(t, "2026-02-10 12:00"))
	p.demo = &Demo{People: demoPeople, Prices: map[string]int64{"potato": 25000},
		Merchants: []Merchant{{ID: 1, Name: "Береке", City: "kokshetau", Address: "Абай, 45", DiscountBP: 1500, Key: "swk_test"}}}
	p.web = New(Config{Telegram: p.tg, Clock: p.clock, Program: p.prog, Demo: p.demo, Locales: locales.MustLoad(),
		Kick: func(context.Context) error { p.kicked.Add(1); return nil }})
	mux := http.NewServeMux()
	p.web.Register(mux)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// botCall calls the fake Bot API as the bot does, with form fields.
func (p *page) botCall(method string, fields map[string]string) json.RawMessage {
	p.t.Helper()
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	res, err := http.PostForm(p.tg.URL()+"/bot"+p.tg.Token()+"/"+method, form)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.answer(method, res)
}

func (p *page) answer(method string, res *http.Response) json.RawMessage {
	p.t.Helper()
	defer res.Body.Close()
	var out struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
		Desc   string          `json:"description"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || !out.OK {
		p.t.Fatalf("%s: %v %s", method, err, out.Desc)
	}
	return out.Result
}

// botPhoto sends a PNG the way sendPhoto uploads it.
func (p *page) botPhoto(chat int64, img []byte, caption string) {
	p.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("chat_id", fmt.Sprint(chat))
	mw.WriteField("caption", caption)
	mw.WriteField("protect_content", "true")
	fw, _ := mw.CreateFormFile("photo", "qr.png")
	fw.Write(img)
	mw.Close()
	res, err := http.Post(p.tg.URL()+"/bot"+p.tg.Token()+"/sendPhoto", mw.FormDataContentType(), &body)
	if err != nil {
		p.t.Fatal(err)
	}
	p.answer("sendPhoto", res)
}

func (p *page) view(id int64) View {
	p.t.Helper()
	v, err := p.web.Chats().View(id, "ru")
	if err != nil {
		p.t.Fatalf("View(%d) = %v", id, err)
	}
	return v
}

func (p *page) do(method, path string, body any) (int, []byte) {
	p.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func tinyPNG() []byte {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// The chat shows exactly what the fake Bot API holds: both sides in
// Telegram's order, edits in place, deletions (the bot's and the user's),
// the reply keyboard with its contact button until a message removes it,
// inline buttons, the photo, and the answers to presses.
func TestChatShowsWhatTheBotAPIHolds(t *testing.T) {
	p := newPage(t)
	c := p.web.Chats()
	mother := demoPeople[0]
	id := mother.TelegramID
	chat := fmt.Sprint(id)

	if err := c.SendText(id, "ru", "/start"); err != nil {
		t.Fatal(err)
	}
	var picker struct {
		MessageID int `json:"message_id"`
	}
	json.Unmarshal(p.botCall("sendMessage", map[string]string{"chat_id": chat, "text": "Выберите язык:",
		"reply_markup": `{"inline_keyboard":[[{"text":"Қазақша","callback_data":"lang:kk"},{"text":"✓ Русский","callback_data":"lang:ru"}]]}`}), &picker)
	v := p.view(id)
	if len(v.Messages) != 2 || v.Messages[0].From != "user" || v.Messages[0].Text != "/start" || v.Messages[1].From != "bot" ||
		len(v.Messages[1].Inline) != 1 || v.Messages[1].Inline[0][1].Data != "lang:ru" {
		t.Fatalf("after /start and the picker: %+v", v.Messages)
	}
	if v.Messages[0].Day != "10 февраля" || v.Messages[0].Time != "12:00" {
		t.Errorf("the user's message is dated %q %q; want 10 февраля 12:00 on the service's clock", v.Messages[0].Day, v.Messages[0].Time)
	}

	// A press of a button the message shows reaches the bot; others do not.
	if err := c.Press(id, "ru", picker.MessageID, "lang:ru"); err != nil {
		t.Fatalf("Press(lang:ru) = %v", err)
	}
	if err := c.Press(id, "ru", picker.MessageID, "lang:en"); !errors.Is(err, errNoButton) {
		t.Errorf("Press(a button the message lacks) = %v; want errNoButton", err)
	}
	if err := c.Press(id, "ru", 999, "lang:ru"); !errors.Is(err, errNoMessage) {
		t.Errorf("Press(on no message) = %v; want errNoMessage", err)
	}
	upd := p.tg.Pending()
	if upd != 2 {
		t.Errorf("%d updates queued; want /start and the one press", upd)
	}
	var cq struct {
		Result []struct {
			CallbackQuery struct {
				ID   string `json:"id"`
				Data string `json:"data"`
			} `json:"callback_query"`
		} `json:"result"`
	}
	res, err := http.Get(p.tg.URL() + "/bot" + p.tg.Token() + "/getUpdates?timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&cq)
	res.Body.Close()
	if len(cq.Result) != 2 || cq.Result[1].CallbackQuery.Data != "lang:ru" {
		t.Fatalf("updates = %+v; want /start then the press", cq.Result)
	}
	p.botCall("answerCallbackQuery", map[string]string{"callback_query_id": cq.Result[1].CallbackQuery.ID, "text": "Язык: русский"})
	p.botCall("editMessageText", map[string]string{"chat_id": chat, "message_id": fmt.Sprint(picker.MessageID), "text": "Язык: русский ✓"})
	p.botCall("sendMessage", map[string]string{"chat_id": chat, "text": "Отправьте номер",
		"reply_markup": `{"keyboard":[[{"text":"📱 Отправить номер телефона","request_contact":true}]],"resize_keyboard":true,"one_time_keyboard":true}`})
	v = p.view(id)
	if m := v.Messages[1]; m.Text != "Язык: русский ✓" || !m.Edited || m.Inline != nil {
		t.Errorf("the picker after the edit = %+v; want it changed in place, no buttons", m)
	}
	if len(v.Keyboard) != 1 || !v.Keyboard[0][0].Contact || v.Keyboard[0][0].Text != "📱 Отправить номер телефона" {
		t.Errorf("keyboard = %+v; want the contact button", v.Keyboard)
	}
	if len(v.Answers) != 1 || v.Answers[0].Text != "Язык: русский" {
		t.Errorf("answers = %+v; want the press answered", v.Answers)
	}

	// The contact is the user's own, as Telegram's button sends it.
	if err := c.ShareContact(id, "ru"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendText(id, "ru", mother.IIN); err != nil {
		t.Fatal(err)
	}
	var ups struct {
		Result []struct {
			Message struct {
				MessageID int `json:"message_id"`
				Contact   *struct {
					Phone  string `json:"phone_number"`
					UserID int64  `json:"user_id"`
				} `json:"contact"`
				From struct {
					ID        int64  `json:"id"`
					FirstName string `json:"first_name"`
					Lang      string `json:"language_code"`
				} `json:"from"`
			} `json:"message"`
		} `json:"result"`
	}
	res, _ = http.Get(p.tg.URL() + "/bot" + p.tg.Token() + "/getUpdates?timeout=0&offset=" + fmt.Sprint(p.lastUpdateBelow(t)))
	json.NewDecoder(res.Body).Decode(&ups)
	res.Body.Close()
	if len(ups.Result) != 2 || ups.Result[0].Message.Contact == nil || ups.Result[0].Message.Contact.UserID != id ||
		ups.Result[0].Message.Contact.Phone != strings.TrimPrefix(mother.Phone, "+") || ups.Result[0].Message.From.FirstName != "Гүлнар" ||
		ups.Result[0].Message.From.Lang != "ru" {
		t.Fatalf("the contact update = %+v; want her own number and id, from Гүлнар with language ru", ups.Result)
	}
	iinMsg := ups.Result[1].Message.MessageID
	p.botCall("deleteMessage", map[string]string{"chat_id": chat, "message_id": fmt.Sprint(iinMsg)})
	p.botCall("sendMessage", map[string]string{"chat_id": chat, "text": "Спасибо", "reply_markup": `{"remove_keyboard":true}`})
	p.botPhoto(id, tinyPNG(), "Код для кассира: 1234 5678")
	p.botCall("sendMessage", map[string]string{"chat_id": chat, "text": "удалю"})
	var gone struct {
		MessageID int `json:"message_id"`
	}
	json.Unmarshal(p.botCall("sendMessage", map[string]string{"chat_id": chat, "text": "и это удалю"}), &gone)
	p.botCall("deleteMessage", map[string]string{"chat_id": chat, "message_id": fmt.Sprint(gone.MessageID)})

	v = p.view(id)
	var kinds, texts []string
	for i, m := range v.Messages {
		kinds = append(kinds, m.From+":"+m.Kind)
		texts = append(texts, m.Text)
		if i > 0 && v.Messages[i-1].ID >= m.ID {
			t.Errorf("messages out of order: %d before %d", v.Messages[i-1].ID, m.ID)
		}
	}
	wantKinds := "user:text bot:text bot:text user:contact bot:text bot:photo bot:text"
	if strings.Join(kinds, " ") != wantKinds {
		t.Errorf("chat = %v (%q); want %s", kinds, texts, wantKinds)
	}
	for _, m := range v.Messages {
		if strings.Contains(m.Text, mother.IIN) || m.Text == "и это удалю" {
			t.Errorf("a deleted message is shown: %q", m.Text)
		}
	}
	if v.Keyboard != nil {
		t.Errorf("keyboard = %+v after remove_keyboard; want none", v.Keyboard)
	}
	photo := v.Messages[5]
	if !photo.Protected || photo.Text != "Код для кассира: 1234 5678" || photo.Photo == "" {
		t.Errorf("photo message = %+v", photo)
	}
	status, body := p.do("GET", photo.Photo, nil)
	if status != 200 || !bytes.Equal(body, tinyPNG()) {
		t.Errorf("GET %s = %d, %d bytes; want the uploaded PNG", photo.Photo, status, len(body))
	}
}

// lastUpdateBelow is the offset past every update read so far.
func (p *page) lastUpdateBelow(t *testing.T) int {
	t.Helper()
	res, err := http.Get(p.tg.URL() + "/bot" + p.tg.Token() + "/getUpdates?timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ups struct {
		Result []struct {
			UpdateID int `json:"update_id"`
		} `json:"result"`
	}
	json.NewDecoder(res.Body).Decode(&ups)
	// The first two (the /start and the press) were read; the rest follow.
	return ups.Result[2].UpdateID
}

func TestChatsRefuseBadInput(t *testing.T) {
	p := newPage(t)
	c := p.web.Chats()
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"empty text", func() error { return c.SendText(demoPeople[0].TelegramID, "kk", "  ") }, errBadInput},
		{"text over Telegram's 4096", func() error { return c.SendText(demoPeople[0].TelegramID, "kk", strings.Repeat("ы", 4097)) }, errBadInput},
		{"someone not in the sandbox", func() error { return c.SendText(42, "kk", "/start") }, errNoUser},
		{"location of an unknown city", func() error { return c.ShareLocation(demoPeople[0].TelegramID, "kk", "almaty") }, errBadInput},
		{"not a phone", func() error { _, err := c.openPhone("123", "kk"); return err }, errBadInput},
	}
	for _, tt := range tests {
		if err := tt.do(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.want)
		}
	}
	if n := p.tg.Pending(); n != 0 {
		t.Errorf("%d updates reached the bot from refused input", n)
	}
}

func TestOpenByPhone(t *testing.T) {
	p := newPage(t)
	c := p.web.Chats()
	tests := []struct {
		phone  string
		demo   int64 // the demo person's id, 0 for a number of its own
		sameAs string
	}{
		{"+7 701 000 00 10", demoPeople[0].TelegramID, ""},
		{"87010000070", demoPeople[1].TelegramID, ""},
		{"+7 705 123 45 67", 0, ""},
		{"8 (705) 123-45-67", 0, "+7 705 123 45 67"},
	}
	ids := map[string]int64{}
	for _, tt := range tests {
		id, err := c.openPhone(tt.phone, "ru")
		if err != nil {
			t.Fatalf("openPhone(%q) = %v", tt.phone, err)
		}
		ids[tt.phone] = id
		switch {
		case tt.demo != 0 && id != tt.demo:
			t.Errorf("openPhone(%q) = %d; want the demo person %d", tt.phone, id, tt.demo)
		case tt.demo == 0 && (id < customBase || id >= customBase+100_000_000):
			t.Errorf("openPhone(%q) = %d; want an id of its own", tt.phone, id)
		}
		if tt.sameAs != "" && ids[tt.sameAs] != id {
			t.Errorf("openPhone(%q) = %d; want the same user as %q (%d)", tt.phone, id, tt.sameAs, ids[tt.sameAs])
		}
	}
	// Its contact carries the typed number.
	id := ids["+7 705 123 45 67"]
	if err := c.ShareContact(id, "ru"); err != nil {
		t.Fatal(err)
	}
	if v := p.view(id); len(v.Messages) != 1 || v.Messages[0].Text != "+77051234567" || v.User.Phone != "+77051234567" {
		t.Errorf("view = %+v", v)
	}
}

func TestTextsInBothLanguages(t *testing.T) {
	p := newPage(t)
	kk, err := p.web.Texts("kk")
	if err != nil {
		t.Fatal(err)
	}
	ru, err := p.web.Texts("ru")
	if err != nil {
		t.Fatal(err)
	}
	if len(kk) < 50 || len(kk) != len(ru) {
		t.Fatalf("%d Kazakh and %d Russian texts", len(kk), len(ru))
	}
	for id, s := range kk {
		if strings.Contains(s, "{{") || strings.Contains(ru[id], "{{") {
			t.Errorf("%s is not rendered: %q / %q", id, s, ru[id])
		}
	}
	if kk["sb_you_are"] != "Сіз — {Name}" || ru["sb_you_are"] != "Вы — {Name}" {
		t.Errorf("sb_you_are = %q / %q; want the field left for the page", kk["sb_you_are"], ru["sb_you_are"])
	}
	for _, lang := range []string{"kk", "ru"} {
		status, body := p.do("GET", "/sandbox/api/texts?lang="+lang, nil)
		var got map[string]string
		json.Unmarshal(body, &got)
		if status != 200 || got["sb_title"] == "" {
			t.Errorf("GET texts?lang=%s = %d %s", lang, status, body)
		}
	}
}

// The time controls move the one clock the service reads, forward only,
// kick the jobs, and date later messages on the moved clock.
func TestTimeControls(t *testing.T) {
	p := newPage(t)
	jump := func(to string) (int, ClockState) {
		status, body := p.do("POST", "/sandbox/api/clock?lang=ru", map[string]string{"to": to})
		var s ClockState
		if status == http.StatusConflict {
			var e struct{ Clock ClockState }
			json.Unmarshal(body, &e)
			return status, e.Clock
		}
		json.Unmarshal(body, &s)
		return status, s
	}
	status, s := jump("month-end")
	if status != 200 || !p.clock.Now().After(almaty(t, "2026-02-28 09:59")) || p.clock.Now().After(almaty(t, "2026-02-28 10:01")) {
		t.Fatalf("jump to month-end = %d %+v; clock %v", status, s, p.clock.Now())
	}
	if s.NowText != "28 февраля, 10:00" || s.MonthEnd.Allowed || !s.NextMonth.Allowed || p.kicked.Load() != 1 {
		t.Errorf("after month-end: %+v, kicked %d", s, p.kicked.Load())
	}
	if status, _ := jump("month-end"); status != http.StatusConflict {
		t.Errorf("a second month-end jump = %d; want 409 (the clock does not go back)", status)
	}
	p.botCall("sendMessage", map[string]string{"chat_id": fmt.Sprint(demoPeople[1].TelegramID), "text": "Еске салу"})
	if v := p.view(demoPeople[1].TelegramID); v.Messages[0].Day != "28 февраля" || v.Messages[0].Time != "10:00" {
		t.Errorf("a message after the jump is dated %s %s; want 28 февраля 10:00", v.Messages[0].Day, v.Messages[0].Time)
	}
	if status, s = jump("next-month"); status != 200 || s.Period != "2026-03" || p.kicked.Load() != 2 {
		t.Errorf("jump to next-month = %d %+v", status, s)
	}
	if status, body := p.do("POST", "/sandbox/api/clock", map[string]string{"to": "yesterday"}); status != http.StatusBadRequest {
		t.Errorf("jump to yesterday = %d %s; want 400", status, body)
	}
	// Past the programme's last month nothing moves any more.
	for p.prog.CheckPeriod(p.prog.PeriodAt(p.clock.Now())) == nil {
		if status, _ := jump("next-month"); status != 200 {
			t.Fatalf("jump within the programme = %d", status)
		}
	}
	if status, s := jump("next-month"); status != http.StatusConflict || s.NextMonth.Allowed || s.MonthEnd.Allowed {
		t.Errorf("after the programme: jump = %d, %+v; want both refused", status, s)
	}
}

func TestPagesAndAPI(t *testing.T) {
	p := newPage(t)
	for _, tc := range []struct {
		path, want, ctype string
	}{
		{"/", `id="wall"`, "text/html"},
		{"/cashier", `id="pay-btn"`, "text/html"},
		{"/assets/chat.js", "sendText", "javascript"},
		{"/assets/jsQR.js", "jsQR", "javascript"},
		{"/assets/jsQR.LICENSE", "Apache License", ""},
		{"/sandbox/api/merchants", "swk_test", "application/json"},
		{"/sandbox/api/people", "Серікбаева", "application/json"},
	} {
		res, err := http.Get(p.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), tc.want) || !strings.Contains(res.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("GET %s = %d %s; want 200 %s with %q", tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.ctype, tc.want)
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") && !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s has no CSP keeping it to this server", tc.path)
		}
	}
	id := demoPeople[0].TelegramID
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/sandbox/api/chats/42", nil, 404},
		{"GET", "/sandbox/api/chats/x", nil, 400},
		{"POST", fmt.Sprintf("/sandbox/api/chats/%d/text", id), map[string]string{"text": ""}, 400},
		{"POST", fmt.Sprintf("/sandbox/api/chats/%d/text", id), map[string]any{"text": "hi", "extra": 1}, 400},
		{"POST", fmt.Sprintf("/sandbox/api/chats/%d/press", id), map[string]any{"message": 5, "data": "x"}, 404},
		{"POST", fmt.Sprintf("/sandbox/api/chats/%d/fly", id), nil, 404},
		{"POST", "/sandbox/api/people", map[string]string{"phone": "12"}, 400},
		{"POST", fmt.Sprintf("/sandbox/api/chats/%d/text", id), map[string]string{"text": "/start"}, 204},
		{"POST", fmt.Sprintf("/sandbox/api/chats/%d/location", id), map[string]string{"city": ""}, 204},
	} {
		if status, body := p.do(tc.method, tc.path, tc.body); status != tc.want {
			t.Errorf("%s %s %v = %d %s; want %d", tc.method, tc.path, tc.body, status, body, tc.want)
		}
	}
	if n := p.tg.Pending(); n != 2 {
		t.Errorf("%d updates reached the bot; want the /start and the location", n)
	}
	v := p.view(id)
	if len(v.Messages) != 2 || v.Messages[1].Kind != "location" || !strings.HasPrefix(v.Messages[1].Text, "53.2") {
		t.Errorf("after /start and a location: %+v; want a location near Kokshetau", v.Messages)
	}
}

// With ?since= the chat answers only when it changes, as a long poll.
func TestChatLongPoll(t *testing.T) {
	p := newPage(t)
	id := demoPeople[0].TelegramID
	_, body := p.do("GET", fmt.Sprintf("/sandbox/api/chats/%d?lang=ru", id), nil)
	var v View
	json.Unmarshal(body, &v)
	go func() {
		time.Sleep(300 * time.Millisecond)
		p.botCall("sendMessage", map[string]string{"chat_id": fmt.Sprint(id), "text": "Сәлем"})
	}()
	start := time.Now()
	_, body = p.do("GET", fmt.Sprintf("/sandbox/api/chats/%d?lang=ru&since=%s", id, v.Version), nil)
	var next View
	json.Unmarshal(body, &next)
	if next.Version == v.Version || len(next.Messages) != 1 || next.Messages[0].Text != "Сәлем" {
		t.Errorf("long poll = %+v; want the new message", next)
	}
	if time.Since(start) < 250*time.Millisecond {
		t.Error("the long poll answered before anything changed")
	}
}
