package e2e

import (
	"strings"
	"testing"
	"time"

	"socialwallet/bot/telegramtest"
	"socialwallet/internal/qrtest"
	"socialwallet/locales"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

// decodeQR reads the text of a QR code PNG, as a till's scanner would.
func decodeQR(t testing.TB, b []byte) string {
	t.Helper()
	text, err := qrtest.Decode(b)
	if err != nil {
		t.Fatalf("the photo: %v", err)
	}
	return text
}

func contains(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q; want it to contain %q", what, got, w)
		}
	}
}

// TestWholeConversation takes the applicant mother of a family of four from
// /start to a purchase, in each language: language, contact, IIN, consent,
// activation of her own voucher and both minors', balance, family, QR code,
// a purchase at the till, history and stores.
func TestWholeConversation(t *testing.T) {
	tests := []struct {
		lang     string // Telegram's language code, and the language chosen
		person   int    // index in harness.people
		city     string
		lat, lon float64
	}{
		{"kk", 0, "Көкшетау", 53.2833, 69.3833},
		{"ru", 4, "Павлодар", 52.2873, 76.9674},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			h := newHarness(t)
			lang := tt.lang
			T := func(id string, data map[string]any, n ...int) string { return h.T(lang, id, data, n...) }
			mother := h.people[tt.person]
			me := h.member(mother.IIN)
			merchantID, _, err := h.svc.AddMerchant(h.ctx, wallet.Merchant{Name: "Береке", City: mother.City, Address: "Абай 1",
				Lat: tt.lat + 0.002, Lon: tt.lon, DiscountBP: 1500})
			if err != nil {
				t.Fatal(err)
			}
			u := h.tg.NewUser(100+int64(tt.person), lang)

			// /start: the language picker, preselected from Telegram's language code.
			m := h.send(u, "/start")
			contains(t, "language picker", m.Text, T("choose_language", nil))
			native := map[string]string{"kk": "Қазақша", "ru": "Русский"}[lang]
			if _, ok := m.Button("✓ " + native); !ok {
				t.Fatalf("picker buttons %v; want %q preselected", m.Buttons(), native)
			}
			picker := m
			pressID := h.press(u, m, "✓ "+native)
			if a, ok := h.tg.Answer(pressID); !ok || a.Text != T("lang_set", nil) {
				t.Errorf("language press answered %+v, %v", a, ok)
			}
			if p, _ := h.tg.Message(u.ID(), picker.ID); p.Text != T("lang_chosen", nil) || p.Inline != nil {
				t.Errorf("picker after the press = %q %v; want it edited in place, no buttons", p.Text, p.Inline)
			}
			m = u.Last()
			if m.Text != T("ask_phone", nil) || len(m.Keyboard) != 1 || !m.Keyboard[0][0].RequestContact {
				t.Fatalf("after the language: %q %+v; want the contact button", m.Text, m.Keyboard)
			}

			// The contact, then the IIN.
			u.ShareContact(strings.TrimPrefix(mother.Phone, "+")) // Telegram gives it without "+"
			h.sync()
			if m = u.Last(); m.Text != T("ask_iin", nil) || !m.RemoveKeyboard {
				t.Fatalf("after the contact: %q; want the IIN asked and the keyboard removed", m.Text)
			}
			iinMsg := u.Send(mother.IIN[:6] + " " + mother.IIN[6:])
			h.sync()
			m = u.Last()
			contains(t, "after the IIN", m.Text, T("linked", map[string]any{"Name": wallet.ShortName(mother.FullName)}),
				T("consent_text_2026_01", nil), "2026-01")
			if !h.tg.UserMessageDeleted(u.ID(), iinMessageID(h, u, iinMsg)) {
				t.Error("the message with the IIN was not deleted from the chat")
			}

			// Consent.
			consentMsg := m
			h.press(u, m, T("btn_agree", nil))
			if c, _ := h.tg.Message(u.ID(), consentMsg.ID); !strings.Contains(c.Text, T("consent_status_given", map[string]any{"Date": locales.Date(lang, h.clock.Now())})) || c.Inline != nil {
				t.Errorf("consent after Agree = %q; want the answer recorded, no buttons", c.Text)
			}
			cs, _ := h.svc.ConsentState(h.ctx, me.ID)
			if !cs.Consent.Active() || cs.Consent.Version != "2026-01" {
				t.Errorf("ConsentState = %+v; want consent to 2026-01", cs)
			}
			m = u.Last()
			if m.Text != T("menu_intro", nil) || len(m.KeyboardTexts()) != 8 || m.KeyboardTexts()[0] != T("btn_balance", nil) {
				t.Fatalf("menu = %q %v", m.Text, m.KeyboardTexts())
			}
			if cmds := h.tg.Commands(lang); len(cmds) != 10 || cmds[0].Command != "balance" || cmds[0].Description != T("cmd_balance", nil) {
				t.Errorf("commands in %s = %+v", lang, cmds)
			}

			// Activate: her own voucher and the two minors', one tap.
			m = h.send(u, T("btn_activate", nil))
			contains(t, "Activate screen", m.Text,
				T("act_offer", map[string]any{"Month": locales.Month(lang, wallet.Period{Year: 2026, Month: 1})}),
				T("act_total", map[string]any{"Amount": "12\u00a0975\u00a0₸"}),
				map[string]string{"kk": "31 қаңтар", "ru": "31 января"}[lang],
				T("days", nil, 22),
				T("act_confirm_line", nil))
			if b, ok := m.Button(T("btn_activate_now", nil)); !ok || b.Data != "act:2026-01" {
				t.Fatalf("Activate button = %+v, %v; want act:2026-01", b, ok)
			}
			mark := h.tg.Mark()
			h.press(u, m, T("btn_activate_now", nil))
			if calls := h.tg.CallsSince(mark); len(calls) != 2 || calls[0].Method != "answerCallbackQuery" || calls[1].Method != "editMessageText" {
				t.Errorf("calls after Activate = %v; want answerCallbackQuery and one edit", methods(calls))
			}
			if n := h.activations(me.FamilyID); n != 3 {
				t.Errorf("%d activations in the ledger; want 3 (mother and two minors)", n)
			}
			edited, _ := h.tg.Message(u.ID(), m.ID)
			contains(t, "Activate after the press", edited.Text, T("act_done", map[string]any{"Month": locales.Month(lang, wallet.Period{Year: 2026, Month: 1})}),
				"12\u00a0975\u00a0₸")

			// Balance and Family.
			m = h.send(u, T("btn_balance", nil))
			contains(t, "Balance", m.Text, T("balance_total", map[string]any{"Amount": "12\u00a0975\u00a0₸"}),
				T("v_activated", map[string]any{"Amount": "4\u00a0325\u00a0₸"}), T("v_waiting", map[string]any{"Amount": "4\u00a0325\u00a0₸"}),
				T("days", nil, 22))
			// Per person: she and the two children activated, the father
			// (an adult, who activates his own) still waiting.
			for i, state := range []string{"v_activated", "v_waiting", "v_activated", "v_activated"} {
				line := "• " + wallet.ShortName(h.people[tt.person+i].FullName) + " — " + T(state, map[string]any{"Amount": "4\u00a0325\u00a0₸"})
				if !strings.Contains(m.Text, line) {
					t.Errorf("Balance = %q; want the line %q", m.Text, line)
				}
			}
			m = h.send(u, T("btn_family", nil))
			contains(t, "Family", m.Text, T("family_title", map[string]any{"Count": 4}, 4), wallet.MaskIIN(mother.IIN[8:]),
				wallet.MaskIIN(h.people[tt.person+3].IIN[8:]), T("family_applicant", nil), T("family_linked", nil), T("family_not_linked", nil))
			if strings.Contains(m.Text, mother.IIN) {
				t.Error("Family shows an IIN in full")
			}

			// QR code: a protected photo whose code verifies, and a fallback code.
			m = h.send(u, T("btn_qr", nil))
			if m.Photo == nil || !m.ProtectContent {
				t.Fatalf("QR answer = %+v; want a photo with protect_content", m)
			}
			signed := decodeQR(t, m.Photo)
			tok, err := wallet.ParseQRToken(secret, signed, h.clock.Now())
			if err != nil || tok.MemberID != me.ID {
				t.Fatalf("the QR code holds %v, %v; want a token of member %d", tok, err, me.ID)
			}
			contains(t, "QR caption", m.Caption, tok.ExpiresAt.In(h.prog.Location).Format("15:04"))
			code := fallbackCode(t, m.Caption)
			if got, err := rstore.NewCodes(h.rc, h.prefix).Lookup(h.ctx, code); err != nil || got != signed {
				t.Errorf("Lookup(fallback code) = %q, %v; want the token in the QR code", got, err)
			}

			// At the till.
			ms, _ := h.store.ListMerchants(h.ctx)
			var shop wallet.Merchant
			for _, x := range ms {
				if x.ID == merchantID {
					shop = x
				}
			}
			red, _, err := h.svc.Redeem(h.ctx, wallet.RedeemRequest{Merchant: shop, Token: signed, IdempotencyKey: "k-1",
				RequestHash: []byte{1}, ReceiptNo: "R-1", Lines: []wallet.LineInput{{Product: "buckwheat", QtyMilli: 2000, UnitPrice: 60000}}})
			if err != nil {
				t.Fatalf("Redeem(the bot's token) = %v", err)
			}
			h.clock.Advance(time.Hour)
			m = h.send(u, T("btn_history", nil))
			contains(t, "History", m.Text, "Береке",
				T("history_line", map[string]any{"Date": locales.DateTime(lang, red.CreatedAt.In(h.prog.Location)), "Store": "Береке",
					"Paid": locales.Money(red.Covered), "Saved": locales.Money(red.Discount)}))

			// Stores, then the nearest with a location.
			m = h.send(u, T("btn_stores", nil))
			contains(t, "Stores", m.Text, T("stores_title", map[string]any{"City": tt.city}), "Береке, Абай 1", "15 %")
			if k := m.KeyboardTexts(); len(k) != 2 || !m.Keyboard[0][0].RequestLocation {
				t.Errorf("Stores keyboard = %v; want the location button and Back", k)
			}
			u.SendLocation(tt.lat, tt.lon)
			h.sync()
			m = u.Last()
			contains(t, "nearest stores", m.Text, T("stores_nearest", nil), "220 м — Береке")
			if len(m.KeyboardTexts()) != 8 {
				t.Errorf("after the location the keyboard is %v; want the main menu back", m.KeyboardTexts())
			}

			m = h.send(u, T("btn_help", nil))
			city, _ := h.prog.City(mother.City)
			helpLine := map[string]string{"kk": city.HelpKK, "ru": city.HelpRU}[lang]
			contains(t, "Help", m.Text, h.prog.Name, helpLine, "/consent")
		})
	}
}

func methods(cs []telegramtest.Call) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Method)
	}
	return out
}

// iinMessageID finds the message id of the user's update.
func iinMessageID(h *harness, u *telegramtest.User, updateID int) int {
	upd, ok := h.tg.Update(updateID)
	if !ok || upd.Message == nil {
		h.t.Fatalf("no update %d", updateID)
	}
	return upd.Message.MessageID
}

// fallbackCode finds "1234 5678" in a caption.
func fallbackCode(t testing.TB, caption string) string {
	t.Helper()
	for _, f := range strings.Split(caption, "\n") {
		words := strings.Fields(f)
		if n := len(words); n >= 2 {
			c := words[n-2] + words[n-1]
			if code, ok := wallet.ValidFallbackCode(c); ok {
				return code
			}
		}
	}
	t.Fatalf("no fallback code in %q", caption)
	return ""
}
