package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"socialwallet/internal/pgtest"
	"socialwallet/internal/qrtest"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/sandbox"
	"socialwallet/wallet"
)

// browser is headless Chromium on the sandbox, noting every console error,
// uncaught exception, browser log error and request that leaves the sandbox.
type browser struct {
	t        *testing.T
	base     string // http://127.0.0.1:PORT
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 860),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	b := &browser{t: t, base: strings.TrimSuffix(base, "/"), ctx: bctx}
	t.Cleanup(func() {
		time.Sleep(200 * time.Millisecond) // late events
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("Chromium: %s", p)
		}
	})
	return b
}

func (b *browser) note(format string, args ...any) {
	b.mu.Lock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
	b.mu.Unlock()
}

// tab is one page of the browser at a viewport size.
type tab struct {
	b    *browser
	ctx  context.Context
	name string
}

// open opens path in a new tab of width×height.
func (b *browser) open(name, path string, width, height int64) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	tb := &tab{b: b, ctx: ctx, name: name}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.note("%s: console.%s: %s", name, ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			b.note("%s: exception: %s %s", name, ev.ExceptionDetails.Text, ev.ExceptionDetails.Exception.Description)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				b.note("%s: browser log (%s): %s %s", name, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; !strings.HasPrefix(u, b.base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
				b.note("%s: request for %s: the pages must load nothing from elsewhere", name, u)
			}
		}
	})
	if err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	tb.do(chromedp.EmulateViewport(width, height), chromedp.Navigate(b.base+path))
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.b.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.fail("%v", err)
	}
}

// fail stops the test with a screenshot of the tab, for the person reading it.
func (tb *tab) fail(format string, args ...any) {
	tb.b.t.Helper()
	shot := ""
	sctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
		f := filepath.Join(os.TempDir(), fmt.Sprintf("sandbox-%s-failure.png", tb.name))
		if os.WriteFile(f, png, 0o644) == nil {
			shot = " (screenshot: " + f + ")"
		}
	}
	tb.b.t.Fatalf("%s: %s%s", tb.name, fmt.Sprintf(format, args...), shot)
}

// eval evaluates a JavaScript expression and returns its JSON value.
func (tb *tab) eval(expr string) string {
	tb.b.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[json.RawMessage](expr))
	if err != nil {
		tb.fail("evaluate %s: %v", expr, err)
	}
	return string(v)
}

// wait polls expr until it is truthy and returns it as a string (strings
// unquoted).
func (tb *tab) wait(what, expr string) string {
	tb.b.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Poll[json.RawMessage](expr,
		chromedp.WithPollingTimeout(25*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		tb.fail("waiting for %s: %v", what, err)
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

func (tb *tab) click(sel string) {
	tb.b.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(sel)))
}

func (tb *tab) screenshot() []byte {
	tb.b.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.fail("screenshot: %v", err)
	}
	return png
}

// js quotes a Go string for JavaScript.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// inChat evaluates expr on the chat page with msgs() listing the messages
// drawn and lastBot() the bot's latest.
func inChat(expr string) string {
	return `(() => {
const msgs = () => [...document.querySelectorAll('#wall .msg')].map(m => ({
  id: Number(m.dataset.id), from: m.classList.contains('user') ? 'user' : 'bot', kind: m.dataset.kind,
  text: m.querySelector('.bubble').innerText, buttons: [...m.querySelectorAll('.inline button')].map(b => b.dataset.data),
  edited: m.querySelector('.foot') ? m.querySelector('.foot').innerText : '' }));
const lastBot = () => msgs().filter(m => m.from === 'bot').pop() || {text: ''};
return (` + expr + `);
})()`
}

// upTo is the text of message id in lang up to its first template field.
func upTo(b *locales.Bundle, lang, id string) string {
	s := b.T(lang, id, map[string]any{"Total": "\x00", "Month": "\x00", "Lines": "\x00", "LastDay": "\x00", "Left": "\x00",
		"Next": "\x00", "Store": "\x00", "When": "\x00", "Date": "\x00", "Name": "\x00", "Amount": "\x00", "Code": "\x00",
		"Until": "\x00", "Minutes": "\x00", "Member": "\x00", "No": "\x00"})
	before, _, _ := strings.Cut(s, "\x00")
	return before
}

func decodeQRPNG(t *testing.T, b []byte) string {
	t.Helper()
	text, err := qrtest.Decode(b)
	if err != nil {
		t.Fatalf("the QR photo: %v", err)
	}
	return text
}

// The whole story in Chromium, as a person plays it on the sandbox: a
// recipient links (contact, IIN), consents, activates her own and her
// child's vouchers and gets a QR code in the web chat; the cashier page reads
// the code from the picture (the bundled decoder), then takes the typed code,
// rings up three СЗПТ lines and redeems them; the chat shows the receipt; the
// time controls bring the reminder and then the annulment of another
// family's unactivated vouchers. The page chrome switches to Kazakh and the
// chat works on a 390-pixel phone screen. UPDATE_SCREENSHOTS=1 writes the
// screenshots the README shows.
func TestSandboxStoryInTheBrowser(t *testing.T) {
	chromiumPath(t) // skip early without Chromium
	sb := startSandbox(t, map[string]string{"DATABASE_URL": pgtest.URL(t), "SW_FAKE_NOW": "2026-02-10T12:00:00+05:00"})
	loc := locales.MustLoad()
	T := func(lang, id string, data map[string]any) string { return loc.T(lang, id, data) }
	feb := wallet.Period{Year: 2026, Month: time.February}
	mrp := program.Default().MRP[2026]

	var people struct{ People []sandbox.Person }
	sb.getJSON("/sandbox/api/people", &people)
	var mother, other sandbox.Person
	for _, p := range people.People {
		if p.Applicant && p.Minors == 1 && !p.PreLinked && mother.TelegramID == 0 {
			mother = p
		}
		if p.PreLinked {
			other = p
		}
	}
	if mother.TelegramID == 0 || other.TelegramID == 0 || mother.FamilyID == other.FamilyID {
		t.Fatalf("demo people %+v: want an applicant with one child and a person of another family linked in advance", people.People)
	}
	var shops struct {
		Merchants []sandbox.Merchant
		Prices    map[string]int64
	}
	sb.getJSON("/sandbox/api/merchants", &shops)
	var shop sandbox.Merchant
	for _, m := range shops.Merchants {
		if m.City == mother.City && shop.ID == 0 {
			shop = m
		}
	}
	if shop.ID == 0 {
		t.Fatalf("no demo store in %s: %+v", mother.City, shops.Merchants)
	}

	b := newBrowser(t, sb.url)
	chat := b.open("chat", "/?lang=ru", 1280, 860)
	chat.wait("the people list", `document.querySelectorAll('.person').length >= 6`)

	// The recipient: /start, language, contact, IIN, consent.
	chat.click(fmt.Sprintf(`.person[data-id="%d"]`, mother.TelegramID))
	chat.wait("the START button of an empty chat", `document.querySelector('#start-btn') !== null`)
	chat.click("#start-btn")
	chat.wait("the language picker", `document.querySelector('button[data-data="lang:ru"]') !== null`)
	chat.click(`button[data-data="lang:ru"]`)
	chat.wait("the contact button", `(() => { const k = document.querySelector('#keyboard button.request'); return k && k.innerText === `+js(T("ru", "btn_share_phone", nil))+`; })()`)
	chat.click("#keyboard button.request")
	chat.wait("the IIN asked, after the contact bubble", inChat(`msgs().some(m => m.kind === 'contact' && m.text.includes(`+js(mother.Phone)+`)) && lastBot().text.startsWith(`+js(T("ru", "ask_iin", nil))+`)`))
	chat.do(chromedp.SendKeys(chromedp.CSS("#text"), mother.IIN), chromedp.Click(chromedp.CSS("#send-btn")))
	chat.wait("the consent", `document.querySelector('button[data-data^="consent:yes:"]') !== null`)
	// The bot deletes the message with the IIN; the chat shows it gone.
	chat.wait("the IIN message deleted", inChat(`!msgs().some(m => m.text.includes(`+js(mother.IIN)+`))`))
	chat.click(`button[data-data^="consent:yes:"]`)
	chat.wait("the consent recorded in place", inChat(`msgs().some(m => m.text.includes(`+js(T("ru", "consent_status_given", map[string]any{"Date": locales.Date("ru", time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))}))+`) && m.buttons.length === 0 && m.edited.includes(`+js(T("ru", "sb_edited", nil))+`))`))

	// Activation for herself and her child, from the main menu's reply keyboard.
	activate := T("ru", "btn_activate", nil)
	chat.wait("the main menu", `[...document.querySelectorAll('#keyboard button')].some(b => b.innerText === `+js(activate)+`)`)
	chat.do(chromedp.Click(chromedp.Search(`//div[@id="keyboard"]//button[text()=` + js(activate) + `]`)))
	chat.wait("the Activate offer", `document.querySelector('button[data-data="act:2026-02"]') !== null`)
	chat.click(`button[data-data="act:2026-02"]`)
	total := locales.Money(2 * mrp)
	chat.wait("the activation done, edited in place", inChat(`msgs().some(m => m.text.startsWith(`+js(T("ru", "act_done", map[string]any{"Month": locales.Month("ru", feb)}))+`) && m.text.includes(`+js(total)+`))`))

	// The QR code, as a picture.
	chat.do(chromedp.Click(chromedp.Search(`//div[@id="keyboard"]//button[text()=` + js(T("ru", "btn_qr", nil)) + `]`)))
	src := chat.wait("the QR photo", `(() => { const i = document.querySelector('.msg[data-kind="photo"] img'); return i && i.complete && i.naturalWidth > 100 ? i.getAttribute('src') : null; })()`)
	caption := chat.wait("the QR caption", `document.querySelector('.msg[data-kind="photo"] .caption').innerText`)
	code := regexp.MustCompile(`\b\d{4} \d{4}\b`).FindString(caption)
	if code == "" {
		t.Fatalf("no 8-digit code in the QR caption %q", caption)
	}
	res, err := http.Get(b.base + src)
	if err != nil {
		t.Fatal(err)
	}
	qrPNG, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if token := decodeQRPNG(t, qrPNG); !strings.HasPrefix(token, "SW") {
		t.Errorf("the QR photo holds %q; want a signed token", token)
	}
	qrFile := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(qrFile, qrPNG, 0o644); err != nil {
		t.Fatal(err)
	}

	// The cashier: the picture through the bundled decoder, then the typed code.
	till := b.open("cashier", "/cashier?lang=ru", 1280, 900)
	till.wait("the stores and the catalogue", `document.querySelectorAll('#store option').length > 0 && document.querySelectorAll('#product option').length > 20`)
	till.eval(fmt.Sprintf(`(() => { const s = document.querySelector('#store'); s.value = '%d'; s.dispatchEvent(new Event('change')); })()`, shop.ID))
	till.wait("the store chosen", `document.querySelector('#store-line').innerText.includes(`+js(shop.Address)+`)`)
	till.do(chromedp.SetUploadFiles(chromedp.CSS("#image"), []string{qrFile}))
	short := wallet.ShortName(mother.Name)
	checked := till.wait("the picture's code checked", `(() => { const s = document.querySelector('#check-status'); return s.classList.contains('ok') && s.innerText.includes(`+js(short)+`) ? s.innerText : null; })()`)
	if !strings.Contains(checked, total) {
		t.Errorf("the check says %q; want the family's %s", checked, total)
	}
	if d := till.wait("the decoder named", `document.querySelector('#decoder').innerText`); d != T("ru", "sb_decoder_jsqr", nil) && d != T("ru", "sb_decoder_native", nil) {
		t.Errorf("decoder line %q", d)
	}
	till.do(chromedp.SendKeys(chromedp.CSS("#code"), code))
	till.click("#check-btn")
	till.wait("the typed code checked", `(() => { const s = document.querySelector('#check-status'); return s.classList.contains('ok') && s.innerText.includes(`+js(short)+`); })()`)

	lines := []struct {
		product string
		qty     string
		milli   int64
	}{{"potato", "2", 2000}, {"milk", "1", 1000}, {"eggs", "10", 10000}}
	var gross, discount int64
	for i, l := range lines {
		till.eval(`(() => { const s = document.querySelector('#product'); s.value = ` + js(l.product) + `; s.dispatchEvent(new Event('change')); })()`)
		till.do(chromedp.SetValue(chromedp.CSS("#qty"), l.qty))
		till.click("#add-btn")
		till.wait(fmt.Sprintf("line %d", i+1), fmt.Sprintf(`document.querySelectorAll('#lines-body tr[data-product]').length === %d`, i+1))
		g := (l.milli*shops.Prices[l.product] + 500) / 1000
		gross += g
		discount += g * int64(shop.DiscountBP) / 10000
	}
	net := gross - discount
	till.click("#pay-btn")
	receipt := till.wait("the receipt", `(() => { const r = document.querySelector('#receipt'); return r.classList.contains('hidden') ? null : r.innerText; })()`)
	for _, want := range []string{locales.Money(wallet.Tiyn(gross)), locales.Money(wallet.Tiyn(discount)), locales.Money(wallet.Tiyn(net)),
		locales.Money(2*mrp - wallet.Tiyn(net)), short, T("ru", "sb_total_covered", nil)} {
		if !strings.Contains(receipt, want) {
			t.Errorf("the receipt on the cashier page does not show %q:\n%s", want, receipt)
		}
	}
	if rows := till.eval(`document.querySelectorAll('#receipt table tr').length`); rows != "3" {
		t.Errorf("the receipt has %s lines; want 3", rows)
	}
	cashierPNG := till.screenshot()

	// The chat shows the receipt the jobs sent through the fake Bot API.
	chat.wait("the receipt in the chat", inChat(`msgs().some(m => m.text.startsWith(`+js(upTo(loc, "ru", "receipt_title")+shop.Name)+`) && m.text.includes(`+js(locales.Money(wallet.Tiyn(net)))+`) && m.buttons.some(d => d.startsWith('notme:')))`))
	// For the README: the QR code and the receipt on one screen.
	chat.do(chromedp.EmulateViewport(1280, 1280))
	chat.eval(`(() => { const w = document.querySelector('#wall'); w.scrollTop = w.scrollHeight; })()`)
	chat.wait("the toasts gone", `!document.querySelector('#toast') || document.querySelector('#toast').classList.contains('hidden')`)
	chatPNG := chat.screenshot()
	chat.do(chromedp.EmulateViewport(1280, 860))

	// Month end: the other family, linked in advance and with nothing
	// activated, is reminded; the recipient, who activated all she may, is not.
	chat.click("#jump-month-end")
	chat.wait("the clock on the month's last day", `document.querySelector('#clock-now').innerText.startsWith('28 февраля')`)
	chat.click(fmt.Sprintf(`.person[data-id="%d"]`, other.TelegramID))
	reminder := upTo(loc, other.Lang, "notice_reminder")
	chat.wait("the reminder", inChat(`msgs().some(m => m.text.startsWith(`+js(reminder)+`) && m.buttons.includes('act:2026-02'))`))

	// The next month: their vouchers are annulled.
	chat.click("#jump-next-month")
	chat.wait("the clock in March", `document.querySelector('#clock-now').innerText.startsWith('1 марта')`)
	annulled := chat.wait("the annulment", inChat(`(msgs().find(m => m.text.startsWith(`+js(upTo(loc, other.Lang, "notice_annulled"))+`)) || {}).text`))
	if !strings.Contains(annulled, locales.Money(wallet.Tiyn(other.Minors+1)*mrp)) {
		t.Errorf("the annulment notice %q; want it to name %s", annulled, locales.Money(wallet.Tiyn(other.Minors+1)*mrp))
	}
	chat.click(fmt.Sprintf(`.person[data-id="%d"]`, mother.TelegramID))
	chat.wait("her chat again", inChat(`msgs().some(m => m.kind === 'photo')`))
	if got := chat.eval(inChat(`msgs().filter(m => m.text.startsWith(` + js(upTo(loc, "ru", "notice_reminder")) + `)).length`)); got != "0" {
		t.Errorf("%s reminders in the chat of the recipient who activated everything; want none", got)
	}

	// The page chrome in Kazakh.
	chat.click(`.langs button[data-lang="kk"]`)
	chat.wait("the Kazakh chrome", `document.querySelector('.people h2').innerText === `+js(T("kk", "sb_people_title", nil))+
		` && document.querySelector('.tabs a[href="/cashier"] .long').innerText === `+js(T("kk", "sb_nav_cashier", nil))+
		` && document.querySelector('#text').placeholder === `+js(T("kk", "sb_message", nil)))

	// A phone: 390 pixels wide, the chat alone, nothing wider than the screen.
	phone := b.open("phone", fmt.Sprintf("/?lang=kk#chat=%d", mother.TelegramID), 390, 844)
	phone.wait("the chat on a phone", inChat(`msgs().length > 10 && document.querySelector('#people').offsetParent === null`))
	const overflow = `(() => { const w = document.documentElement.clientWidth;
		const wide = [...document.querySelectorAll('body *')].filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > w + 1);
		return wide.map(e => e.tagName + '.' + e.className).slice(0, 5).join(', ') || 'none'; })()`
	if wide := phone.wait("the layout", overflow); wide != "none" {
		t.Errorf("on a 390 px screen these stick out: %s", wide)
	}
	phonePNG := phone.screenshot()
	phone.click("#back")
	phone.wait("the people list on a phone", `document.querySelector('#people').offsetParent !== null && document.querySelector('#chat').offsetParent === null`)
	phoneTill := b.open("phone-cashier", "/cashier?lang=kk", 390, 844)
	phoneTill.wait("the till on a phone", `document.querySelectorAll('#product option').length > 20`)
	if wide := phoneTill.wait("the till's layout", overflow); wide != "none" {
		t.Errorf("the cashier page on a 390 px screen: these stick out: %s", wide)
	}

	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		for name, png := range map[string][]byte{"sandbox-chat.png": chatPNG, "sandbox-cashier.png": cashierPNG, "sandbox-phone.png": phonePNG} {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote docs/%s (%d bytes)", name, len(png))
		}
	}
}
