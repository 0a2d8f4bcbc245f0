package pos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/data"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/qrtest"
	"socialwallet/internal/redistest"
	"socialwallet/jobs"
	"socialwallet/locales"
	"socialwallet/pos"
	"socialwallet/program"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

// shop is the whole service as serve wires it, on a frozen clock: the bot
// polling the fake Bot API, the cashier API over HTTP, the jobs delivering
// notifications through the bot's sender, one family of four and one store.
type shop struct {
	t      *testing.T
	ctx    context.Context
	svc    *wallet.Service
	store  *postgres.Store
	tg     *telegramtest.Server
	bundle *locales.Bundle
	people []fixtures.Person
	url    string
	key    string
}

func newShop(t *testing.T) *shop {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pool := testPool(t, 16)
	rc, prefix := redistest.Client(t)
	st := postgres.New(pool)
	prog := program.Default()
	clk := clock.Frozen(start)
	svc := wallet.NewService(prog, clk, secret, st)
	s := &shop{t: t, ctx: ctx, svc: svc, store: st, tg: telegramtest.New(t), bundle: locales.MustLoad(),
		people: fixtures.NewGen().Family(3, "kokshetau", 4)}
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, s.people)
	if res, err := svc.ImportRegistry(ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry() = %+v, %v", res, err)
	}
	if _, _, err := svc.ImportCatalog(ctx, data.SZPT()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Issue(ctx, january); err != nil {
		t.Fatal(err)
	}
	_, key, err := svc.AddMerchant(ctx, wallet.Merchant{Name: "Дәмді", City: "kokshetau", Lat: 53.28, Lon: 69.39, DiscountBP: 1500})
	if err != nil {
		t.Fatal(err)
	}
	s.key = key

	api, err := bot.NewAPI(ctx, s.tg.Token(), s.tg.Endpoint(), &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	codes := rstore.NewCodes(rc, prefix)
	b, err := bot.New(bot.Config{
		API: api, Wallet: svc, NotMe: svc, Program: prog, Clock: clk, Locales: s.bundle,
		Sessions:    rstore.NewSessions(rc, prefix, 24*time.Hour),
		Claims:      rstore.NewDedupe(rc, prefix, api.Self.ID, 24*time.Hour),
		Codes:       codes,
		Attempts:    rstore.NewLinkAttempts(rc, prefix, 5, time.Hour),
		PollTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := jobs.New(pool, jobs.Config{
		Program: prog, Clock: clk, Wallet: svc, Store: st,
		Sender:        bot.NewSender(api, s.bundle, prog, svc, bot.RenderReceipt),
		Limiter:       rstore.NewSendLimiter(rc, rstore.SendLimiterConfig{Rate: 25, Prefix: prefix}),
		NoSchedule:    true,
		DispatchEvery: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { b.Poll(ctx); done <- struct{}{} }()
	go func() { j.Run(ctx); done <- struct{}{} }()
	srv := httptest.NewServer(pos.New(pos.Config{Wallet: svc, Codes: codes, Limiter: rstore.NewCodeLimiter(rc, prefix)}))
	s.url = srv.URL
	t.Cleanup(func() { srv.Close(); cancel(); <-done; <-done })
	return s
}

func (s *shop) send(u *telegramtest.User, text string) telegramtest.Message {
	s.t.Helper()
	u.Send(text)
	s.tg.Sync(s.t)
	return u.Last()
}

func (s *shop) press(u *telegramtest.User, m telegramtest.Message, text string) {
	s.t.Helper()
	u.PressButton(s.t, m, text)
	s.tg.Sync(s.t)
}

// linkAndActivate is the recipient's first conversation: language, phone,
// IIN, consent, then Activate.
func (s *shop) linkAndActivate(u *telegramtest.User, p fixtures.Person, lang string) {
	s.t.Helper()
	m := s.send(u, "/start")
	name := map[string]string{"kk": "Қазақша", "ru": "Русский"}[lang]
	if _, ok := m.Button(name); !ok {
		name = "✓ " + name
	}
	s.press(u, m, name)
	u.ShareContact(p.Phone)
	s.tg.Sync(s.t)
	m = s.send(u, p.IIN)
	s.press(u, m, s.bundle.T(lang, "btn_agree", nil))
	m = s.send(u, s.bundle.T(lang, "btn_activate", nil))
	s.press(u, m, s.bundle.T(lang, "btn_activate_now", nil))
}

// showQR asks the bot for a code and reads it as the till does: the QR
// image's text, and the 8 digits under it.
func (s *shop) showQR(u *telegramtest.User, lang string) (token, code string) {
	s.t.Helper()
	m := s.send(u, s.bundle.T(lang, "btn_qr", nil))
	text, err := qrtest.Decode(m.Photo)
	if err != nil {
		s.t.Fatalf("QR message %q: %v", m.Body(), err)
	}
	for _, l := range strings.Split(m.Caption, "\n") {
		f := strings.Fields(l)
		if n := len(f); n >= 2 {
			if c, ok := wallet.ValidFallbackCode(f[n-2] + f[n-1]); ok {
				return text, c
			}
		}
	}
	s.t.Fatalf("no 8-digit code in %q", m.Caption)
	return "", ""
}

func (s *shop) post(path string, body any, key string) (int, []byte) {
	s.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.url+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// nextMessage waits for the bot's next message to u after the n it had.
func (s *shop) nextMessage(u *telegramtest.User, n int) telegramtest.Message {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	ms, err := s.tg.WaitMessages(ctx, u.ID(), n+1)
	if err != nil {
		s.t.Fatalf("no message after %d: %v", n, err)
	}
	return ms[n]
}

// TestPurchaseFromTheBotsQRWithReceiptInTheChat: a recipient links in the
// bot and activates; the cashier scans the bot's QR code (or types the code
// under it), rings up, and the recipient's chat receives the receipt through
// the jobs, with the Not me button; a void sends the void receipt, and Not me
// freezes the family at the till.
func TestPurchaseFromTheBotsQRWithReceiptInTheChat(t *testing.T) {
	tests := []struct {
		name, lang string
		typed      bool
	}{
		{"scanned QR code, Kazakh", "kk", false},
		{"typed 8-digit code, Russian", "ru", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShop(t)
			u := s.tg.NewUser(int64(700+i), tt.lang)
			mother := s.people[0]
			s.linkAndActivate(u, mother, tt.lang)
			token, code := s.showQR(u, tt.lang)
			cred := map[string]any{"token": token}
			if tt.typed {
				cred = map[string]any{"code": code}
			}

			// The cashier looks, then rings up potatoes and milk.
			st, body := s.post("/v1/tokens/check", cred, "")
			if st != 200 || !strings.Contains(string(body), `"available_tiyn":1297500`) {
				t.Fatalf("check = %d %s; want 200 with the 3 activated vouchers", st, body)
			}
			before := len(u.Messages())
			req := map[string]any{"receipt_no": "K2-000184", "lines": basket}
			for k, v := range cred {
				req[k] = v
			}
			st, body = s.post("/v1/redemptions", req, "e2e-1")
			var red redemption
			json.Unmarshal(body, &red)
			if st != 201 || red.GrossTiyn != 85500 || red.DiscountTiyn != 12825 || red.CoveredTiyn != 72675 ||
				red.FamilyRemainingTiyn != 1297500-72675 || len(red.Lines) != 2 || red.Lines[0].NetTiyn != 31875 {
				t.Fatalf("purchase = %d %s", st, body)
			}

			// The receipt arrives in the chat, as the renderer makes it.
			m := s.nextMessage(u, before)
			rc, err := s.svc.Receipt(s.ctx, red.ID)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := bot.RenderReceipt(s.bundle, tt.lang, rc)
			if m.Text != want {
				t.Errorf("receipt in the chat =\n%s\nwant\n%s", m.Text, want)
			}
			lines := map[string][]string{
				"kk": {"«Дәмді» дүкеніндегі сатып алу", "Картоп, 1,5 кг — 318,75 ₸", "Ваучермен төленді: 726,75 ₸", "Отбасы әмиянында қалды: 12 248,25 ₸"},
				"ru": {"Покупка в магазине «Дәмді»", "Картофель, 1,5 кг — 318,75 ₸", "Оплачено ваучером: 726,75 ₸", "Осталось в кошельке семьи: 12 248,25 ₸"},
			}[tt.lang]
			for _, l := range lines {
				if !strings.Contains(strings.ReplaceAll(m.Text, "\u00a0", " "), l) {
					t.Errorf("receipt lacks %q:\n%s", l, m.Text)
				}
			}
			notMe, ok := m.ButtonWithData(fmt.Sprintf("notme:%d", red.ID))
			if !ok || notMe.Text != s.bundle.T(tt.lang, "btn_notme", nil) {
				t.Errorf("receipt buttons = %+v; want Not me with notme:%d", m.Buttons(), red.ID)
			}

			// A second purchase, voided by the store: the void receipt follows.
			token2, _ := s.showQR(u, tt.lang)
			n := len(u.Messages())
			st, body = s.post("/v1/redemptions", map[string]any{"token": token2, "receipt_no": "K2-000185", "lines": basket[:1]}, "e2e-2")
			json.Unmarshal(body, &red)
			if st != 201 {
				t.Fatalf("second purchase = %d %s", st, body)
			}
			s.nextMessage(u, n)
			st, body = s.post(fmt.Sprintf("/v1/redemptions/%d/void", red.ID), nil, "")
			if st != 200 {
				t.Fatalf("void = %d %s", st, body)
			}
			v := s.nextMessage(u, n+1)
			if !strings.HasPrefix(v.Text, "↩️") || !strings.Contains(v.Text, s.bundle.T(tt.lang, "receipt_returned", map[string]any{"Sum": locales.Money(31875)})) {
				t.Errorf("void receipt = %q", v.Text)
			}

			// Not me on the first receipt: the family is frozen at the till.
			token3, _ := s.showQR(u, tt.lang)
			n = len(u.Messages())
			u.PressButton(t, m, notMe.Text)
			s.tg.Sync(t)
			told := s.nextMessage(u, n) // the family is told, through the jobs
			if want := strings.TrimSpace(s.bundle.T(tt.lang, "notice_frozen", map[string]any{"Help": ""})); !strings.HasPrefix(told.Text, want) {
				t.Errorf("after Not me the chat got %q; want the frozen notice %q", told.Text, want)
			}
			st, body = s.post("/v1/redemptions", map[string]any{"token": token3, "receipt_no": "K2-000186", "lines": basket}, "e2e-3")
			if st != 403 || !strings.Contains(string(body), `"code":"family_frozen"`) {
				t.Errorf("purchase after Not me = %d %s; want 403 family_frozen", st, body)
			}
			fv, _ := s.store.FamilyView(s.ctx, mother.FamilyID)
			if !fv.Frozen() {
				t.Error("family not frozen after Not me")
			}
		})
	}
}

// TestReceiptSurvivesATelegramOutage: Telegram fails the receipt twice; the
// job retries and the recipient gets it once, late but whole.
func TestReceiptSurvivesATelegramOutage(t *testing.T) {
	s := newShop(t)
	u := s.tg.NewUser(800, "kk")
	s.linkAndActivate(u, s.people[0], "kk")
	token, _ := s.showQR(u, "kk")
	before := len(u.Messages())
	s.tg.ServerError("sendMessage", http.StatusBadGateway, 2)

	st, body := s.post("/v1/redemptions", map[string]any{"token": token, "receipt_no": "1", "lines": basket}, "outage")
	if st != 201 {
		t.Fatalf("purchase = %d %s", st, body)
	}
	var red redemption
	json.Unmarshal(body, &red)
	m := s.nextMessage(u, before)
	failed := 0
	for _, c := range s.tg.CallsTo("sendMessage") {
		if c.ChatID == u.ID() && c.Status == http.StatusBadGateway {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d receipt sends failed; want the 2 of the outage", failed)
	}
	if _, ok := m.ButtonWithData(fmt.Sprintf("notme:%d", red.ID)); !ok || !strings.Contains(m.Text, "Дәмді") {
		t.Errorf("receipt after the outage = %q %+v", m.Text, m.Buttons())
	}
	// The job is finished when its notification is marked sent; no attempt follows.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var sent bool
		s.store.Pool().QueryRow(s.ctx, `SELECT sent_at IS NOT NULL FROM notifications WHERE kind = 'receipt' AND ref_id = $1`, red.ID).Scan(&sent)
		if sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("receipt notification never marked sent")
		}
	}
	if n := len(u.Messages()); n != before+1 {
		t.Errorf("%d messages after the receipt; want exactly one receipt", n-before)
	}
}
