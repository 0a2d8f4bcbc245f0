package sandbox

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"socialwallet/bot/telegramtest"
	"socialwallet/locales"
	"socialwallet/wallet"
)

//go:embed assets
var assets embed.FS

// Clock is the service's clock as the time controls need it: the same
// *clock.Offset the bot, the cashier API and the jobs read.
type Clock interface {
	Now() time.Time
	Set(t time.Time)
}

// Config is what the sandbox's pages run on.
type Config struct {
	Telegram *telegramtest.Server
	Clock    Clock
	Program  *wallet.Program
	Demo     *Demo
	Locales  *locales.Bundle
	// Kick makes the jobs compare their schedule with the clock at once,
	// after a jump, instead of at their next periodic tick.
	Kick func(ctx context.Context) error
	Log  *slog.Logger
}

// Web serves the sandbox's pages and their API:
//
//	GET  /                       the web chat
//	GET  /cashier                the cashier page
//	GET  /assets/…               their scripts, styles and the QR decoder
//	GET  /sandbox/api/people     demo people, cities
//	POST /sandbox/api/people     open a chat by phone {"phone"}
//	GET  /sandbox/api/chats/{id} the chat as Telegram shows it (?since= long-polls)
//	POST /sandbox/api/chats/{id}/text|contact|location|press
//	GET  /sandbox/api/chats/{id}/photos/{msg}
//	GET  /sandbox/api/merchants  demo stores with their API keys, shelf prices
//	GET  /sandbox/api/clock      the service's clock and the jumps it allows
//	POST /sandbox/api/clock      {"to": "month-end" | "next-month"}
type Web struct {
	cfg   Config
	chats *Chats
	times *timeline
	log   *slog.Logger
	jump  sync.Mutex // one jump at a time
}

// New builds the pages on cfg.
func New(cfg Config) *Web {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	times := newTimeline(cfg.Clock.Now())
	return &Web{
		cfg:   cfg,
		chats: newChats(cfg.Telegram, cfg.Demo, cfg.Program, times, cfg.Clock.Now),
		times: times,
		log:   log,
	}
}

// Chats is the users the pages play.
func (w *Web) Chats() *Chats { return w.chats }

// Register mounts the pages and their API on mux.
func (w *Web) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "assets")
	page := func(name string) http.HandlerFunc {
		return func(rw http.ResponseWriter, r *http.Request) {
			b, err := fs.ReadFile(static, name)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusInternalServerError)
				return
			}
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			rw.Header().Set("Cache-Control", "no-cache")
			rw.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; script-src 'self'")
			rw.Write(b)
		}
	}
	mux.HandleFunc("GET /{$}", page("chat.html"))
	mux.HandleFunc("GET /cashier", page("cashier.html"))
	files := http.StripPrefix("/assets/", http.FileServerFS(static))
	mux.Handle("GET /assets/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(rw, r)
	}))

	mux.HandleFunc("GET /sandbox/api/texts", w.texts)
	mux.HandleFunc("GET /sandbox/api/people", w.people)
	mux.HandleFunc("POST /sandbox/api/people", w.openPhone)
	mux.HandleFunc("GET /sandbox/api/chats/{id}", w.chat)
	mux.HandleFunc("POST /sandbox/api/chats/{id}/{action}", w.act)
	mux.HandleFunc("GET /sandbox/api/chats/{id}/photos/{msg}", w.photo)
	mux.HandleFunc("GET /sandbox/api/merchants", w.merchants)
	mux.HandleFunc("GET /sandbox/api/clock", w.clock)
	mux.HandleFunc("POST /sandbox/api/clock", w.setClock)
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(v)
}

func (w *Web) fail(rw http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errNoUser), errors.Is(err, errNoMessage):
		status = http.StatusNotFound
	case errors.Is(err, errBadInput), errors.Is(err, errNoButton):
		status = http.StatusBadRequest
	default:
		w.log.Error("sandbox api", "err", err)
	}
	writeJSON(rw, status, map[string]string{"error": err.Error()})
}

// readJSON decodes a small JSON body into v.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errBadInput, err)
	}
	return nil
}

func lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); wallet.ValidLang(l) {
		return l
	}
	return "kk"
}

// textFields are the template fields of the pages' messages; the page's
// script fills in "{Field}".
var textFields = []string{"Address", "Amount", "City", "Date", "Detail", "Discount", "Error", "Member", "Minors",
	"Name", "Net", "No", "Percent", "Phone", "Size", "Until"}

// Texts are the pages' messages (locales/sandbox.*.toml) in lang, fields
// left as "{Field}".
func (w *Web) Texts(lang string) (map[string]string, error) {
	data := map[string]any{}
	for _, f := range textFields {
		data[f] = "{" + f + "}"
	}
	out := map[string]string{}
	for _, id := range w.cfg.Locales.IDs(lang) {
		if !strings.HasPrefix(id, "sb_") {
			continue
		}
		s, err := w.cfg.Locales.Render(lang, id, data)
		if err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, nil
}

func (w *Web) texts(rw http.ResponseWriter, r *http.Request) {
	t, err := w.Texts(lang(r))
	if err != nil {
		w.fail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, t)
}

type city struct {
	ID     string `json:"id"`
	NameKK string `json:"name_kk"`
	NameRU string `json:"name_ru"`
}

func (w *Web) cities() []city {
	var out []city
	for _, c := range w.cfg.Program.Cities {
		out = append(out, city{c.ID, c.NameKK, c.NameRU})
	}
	return out
}

func (w *Web) people(rw http.ResponseWriter, r *http.Request) {
	type person struct {
		Person
		Talked bool `json:"talked"`
	}
	talked := w.chats.Talked()
	var out []person
	for _, p := range w.cfg.Demo.People {
		out = append(out, person{p, talked[p.TelegramID]})
	}
	writeJSON(rw, http.StatusOK, map[string]any{"people": out, "cities": w.cities()})
}

func (w *Web) openPhone(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone string `json:"phone"`
	}
	if err := readJSON(r, &req); err != nil {
		w.fail(rw, err)
		return
	}
	id, err := w.chats.openPhone(req.Phone, lang(r))
	if err != nil {
		w.fail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, map[string]int64{"id": id})
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: chat id %q", errBadInput, r.PathValue("id"))
	}
	return id, nil
}

// chat answers the chat's view; with ?since=VERSION it waits (up to 25 s)
// until the view differs from that version.
func (w *Web) chat(rw http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		w.fail(rw, err)
		return
	}
	var v View
	if since := r.URL.Query().Get("since"); since != "" {
		v, err = w.chats.Wait(r.Context(), id, lang(r), since, 25*time.Second)
	} else {
		v, err = w.chats.View(id, lang(r))
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, v)
}

func (w *Web) act(rw http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		w.fail(rw, err)
		return
	}
	l := lang(r)
	switch r.PathValue("action") {
	case "text":
		var req struct {
			Text string `json:"text"`
		}
		if err = readJSON(r, &req); err == nil {
			err = w.chats.SendText(id, l, req.Text)
		}
	case "contact":
		err = w.chats.ShareContact(id, l)
	case "location":
		var req struct {
			City string `json:"city"`
		}
		if err = readJSON(r, &req); err == nil {
			err = w.chats.ShareLocation(id, l, req.City)
		}
	case "press":
		var req struct {
			Message int    `json:"message"`
			Data    string `json:"data"`
		}
		if err = readJSON(r, &req); err == nil {
			err = w.chats.Press(id, l, req.Message, req.Data)
		}
	default:
		http.NotFound(rw, r)
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Web) photo(rw http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		w.fail(rw, err)
		return
	}
	msg, _ := strconv.Atoi(r.PathValue("msg"))
	b, ok := w.chats.Photo(id, msg)
	if !ok {
		http.NotFound(rw, r)
		return
	}
	rw.Header().Set("Content-Type", http.DetectContentType(b))
	rw.Header().Set("Cache-Control", "no-store")
	rw.Write(b)
}

func (w *Web) merchants(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, map[string]any{
		"merchants": w.cfg.Demo.Merchants, "prices": w.cfg.Demo.Prices, "cities": w.cities(),
		"max_discount_bp": w.cfg.Program.MaxDiscountBP, "mode": w.cfg.Program.Mode,
	})
}

// ClockState is the service's clock and the jumps it allows now.
type ClockState struct {
	Now       time.Time `json:"now"`
	Zone      string    `json:"zone"`
	OffsetMin int       `json:"offset_min"` // the zone's offset from UTC now, in minutes
	Period    string    `json:"period"`
	Program   struct {
		Name  string `json:"name"`
		Start string `json:"start"`
		End   string `json:"end"` // exclusive
	} `json:"program"`
	MonthEnd  Jump   `json:"month_end"`
	NextMonth Jump   `json:"next_month"`
	NowText   string `json:"now_text"` // in the language asked for: "10 ақпан, 12:00"
}

// Jump is one time control: where it moves the clock and whether it may.
type Jump struct {
	To      time.Time `json:"to"`
	Text    string    `json:"text"`
	Allowed bool      `json:"allowed"`
}

// State reads the clock; texts are in lang.
func (w *Web) State(lang string) ClockState {
	prog := w.cfg.Program
	now := w.cfg.Clock.Now().In(prog.Location)
	var s ClockState
	s.Now = now
	s.Zone = prog.Location.String()
	_, off := now.Zone()
	s.OffsetMin = off / 60
	s.Period = prog.PeriodAt(now).String()
	s.Program.Name = prog.Name
	s.Program.Start = prog.Start.Format("2006-01-02")
	s.Program.End = prog.End.Format("2006-01-02")
	end, next := JumpTargets(prog, now)
	// Forward only, and only while now is in one of the programme's months:
	// its last month's annulment is the last thing to see.
	running := prog.CheckPeriod(prog.PeriodAt(now)) == nil
	s.MonthEnd = Jump{To: end, Text: locales.DateTime(lang, end), Allowed: running && now.Before(end)}
	s.NextMonth = Jump{To: next, Text: locales.DateTime(lang, next), Allowed: running && now.Before(next)}
	s.NowText = locales.DateTime(lang, now)
	return s
}

func (w *Web) clock(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, w.State(lang(r)))
}

// ErrJumpRefused: the clock only moves forward, within the programme.
var ErrJumpRefused = errors.New("jump refused")

// JumpTo moves the service's clock to "month-end" or "next-month" and
// kicks the jobs.
func (w *Web) JumpTo(ctx context.Context, to, lang string) (ClockState, error) {
	w.jump.Lock()
	defer w.jump.Unlock()
	s := w.State(lang)
	var j Jump
	switch to {
	case "month-end":
		j = s.MonthEnd
	case "next-month":
		j = s.NextMonth
	default:
		return s, fmt.Errorf("%w: jump to %q: want month-end or next-month", errBadInput, to)
	}
	if !j.Allowed {
		return s, fmt.Errorf("%w: the clock cannot jump to %s from %s", ErrJumpRefused, j.To.Format(time.RFC3339), s.Now.Format(time.RFC3339))
	}
	at := time.Now()
	w.cfg.Clock.Set(j.To)
	w.times.jumped(at, j.To)
	w.log.Info("sandbox clock jumped", "to", j.To.Format(time.RFC3339))
	if w.cfg.Kick != nil {
		if err := w.cfg.Kick(ctx); err != nil {
			// The periodic tick will still see the jump, later.
			w.log.Warn("sandbox: kick the jobs after a jump", "err", err)
		}
	}
	return w.State(lang), nil
}

func (w *Web) setClock(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		To string `json:"to"`
	}
	if err := readJSON(r, &req); err != nil {
		w.fail(rw, err)
		return
	}
	s, err := w.JumpTo(r.Context(), req.To, lang(r))
	if errors.Is(err, ErrJumpRefused) {
		writeJSON(rw, http.StatusConflict, map[string]any{"error": err.Error(), "clock": s})
		return
	}
	if err != nil {
		w.fail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, s)
}

// PreLink plays, through the real bot, the conversations of the people who
// talked to it before the page opened: /start, language, contact, IIN,
// consent. It returns when the bot has answered the last step.
func (w *Web) PreLink(ctx context.Context) error {
	for _, p := range w.cfg.Demo.People {
		if !p.PreLinked {
			continue
		}
		if err := w.preLink(ctx, p); err != nil {
			return fmt.Errorf("sandbox: link %s in advance: %w", p.FamilyID, err)
		}
	}
	return nil
}

func (w *Web) preLink(ctx context.Context, p Person) error {
	c, tg := w.chats, w.cfg.Telegram
	step := func(do func() error) error {
		if err := do(); err != nil {
			return err
		}
		return tg.WaitHandled(ctx)
	}
	press := func(prefix string) error {
		ms := tg.Messages(p.TelegramID)
		for i := len(ms) - 1; i >= 0; i-- {
			for _, b := range ms[i].Buttons() {
				if strings.HasPrefix(b.Data, prefix) {
					return c.Press(p.TelegramID, p.Lang, ms[i].ID, b.Data)
				}
			}
		}
		return fmt.Errorf("the bot showed no button %q", prefix)
	}
	for _, s := range []func() error{
		func() error { return c.SendText(p.TelegramID, p.Lang, "/start") },
		func() error { return press("lang:" + p.Lang) },
		func() error { return c.ShareContact(p.TelegramID, p.Lang) },
		func() error { return c.SendText(p.TelegramID, p.Lang, p.IIN) },
		func() error { return press("consent:yes") },
	} {
		if err := step(s); err != nil {
			return err
		}
	}
	return nil
}
