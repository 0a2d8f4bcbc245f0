package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"socialwallet/bot/telegramtest"
	"socialwallet/locales"
	"socialwallet/wallet"
)

// Chats plays Telegram users on the fake Bot API and remembers what each of
// them sent (the fake keeps the bot's messages; a user's own messages exist
// there only as updates), so that the web chat can show both sides. Bot and
// user messages share one id sequence per chat, as in Telegram, which gives
// the order.
type Chats struct {
	tg    *telegramtest.Server
	demo  *Demo
	prog  *wallet.Program
	times *timeline
	now   func() time.Time // the service's clock

	mu    sync.Mutex
	users map[int64]*chatUser
}

type chatUser struct {
	u       *telegramtest.User
	name    string
	phone   string // E.164
	city    string
	sent    []sent
	presses []int // update ids of button presses, for their answers
}

type sent struct {
	update int
	id     int // message id in the chat
	kind   string
	text   string
	at     time.Time // on the service's clock
}

// customBase numbers users opened by typing a phone that is not a demo
// person's: base + a number derived from the phone.
const customBase = 800_000_000

func newChats(tg *telegramtest.Server, demo *Demo, prog *wallet.Program, times *timeline, now func() time.Time) *Chats {
	return &Chats{tg: tg, demo: demo, prog: prog, times: times, now: now, users: map[int64]*chatUser{}}
}

var (
	errNoUser    = errors.New("no such person in the sandbox")
	errBadInput  = errors.New("bad input")
	errNoButton  = errors.New("that message has no such button (any more)")
	errNoMessage = errors.New("no such message in the chat")
)

// open returns the chat user id plays, creating the Telegram user on first
// use with lang as their app's language. id is a demo person or a user opened
// by phone.
func (c *Chats) open(id int64, lang string) (*chatUser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cu, ok := c.users[id]; ok {
		return cu, nil
	}
	p, ok := c.demo.Person(id)
	if !ok {
		return nil, errNoUser
	}
	return c.addLocked(id, p.Name, p.Phone, p.City, lang), nil
}

func (c *Chats) addLocked(id int64, name, phone, city, lang string) *chatUser {
	if !wallet.ValidLang(lang) {
		lang = "kk"
	}
	u := c.tg.NewUser(id, lang)
	// A Telegram account's first name, as the bot's getUpdates shows it. Set
	// before the user's first message, so the fake never reads it concurrently.
	if f := strings.Fields(name); len(f) > 1 {
		u.User.FirstName, u.User.LastName = f[1], f[0]
	} else if name != "" {
		u.User.FirstName = name
	}
	cu := &chatUser{u: u, name: name, phone: phone, city: city}
	c.users[id] = cu
	return cu
}

// openPhone returns the user who has phone: the demo person with it, or a
// Telegram user of its own (who the registry will not know unless the phone
// is in it).
func (c *Chats) openPhone(raw, lang string) (int64, error) {
	phone, err := wallet.NormalizePhone(raw)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errBadInput, err)
	}
	if p, ok := c.demo.PersonByPhone(phone); ok {
		_, err := c.open(p.TelegramID, lang)
		return p.TelegramID, err
	}
	h := fnv.New32a()
	h.Write([]byte(phone))
	id := customBase + int64(h.Sum32()%100_000_000)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cu, ok := c.users[id]; ok && cu.phone != phone {
		return 0, fmt.Errorf("%w: this phone collides with another one opened earlier; try another", errBadInput)
	}
	if _, ok := c.users[id]; !ok {
		city := ""
		if len(c.prog.Cities) > 0 {
			city = c.prog.Cities[0].ID
		}
		c.addLocked(id, "", phone, city, lang)
	}
	return id, nil
}

// record keeps what the user sent under the message id Telegram gave it.
func (c *Chats) record(cu *chatUser, update int, kind, text string) {
	s := sent{update: update, kind: kind, text: text, at: c.now()}
	if upd, ok := c.tg.Update(update); ok && upd.Message != nil {
		s.id = upd.Message.MessageID
	}
	c.mu.Lock()
	cu.sent = append(cu.sent, s)
	c.mu.Unlock()
}

// SendText sends text as the user (a command when it starts with "/").
func (c *Chats) SendText(id int64, lang, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || len([]rune(text)) > 4096 {
		return fmt.Errorf("%w: a message has 1–4096 characters", errBadInput)
	}
	cu, err := c.open(id, lang)
	if err != nil {
		return err
	}
	c.record(cu, cu.u.Send(text), "text", text)
	return nil
}

// ShareContact sends the user's own contact, as Telegram's contact button
// does: the number without "+", the user's own id.
func (c *Chats) ShareContact(id int64, lang string) error {
	cu, err := c.open(id, lang)
	if err != nil {
		return err
	}
	c.record(cu, cu.u.ShareContact(strings.TrimPrefix(cu.phone, "+")), "contact", cu.phone)
	return nil
}

// ShareLocation sends a location near the centre of city (the user's own
// city when empty).
func (c *Chats) ShareLocation(id int64, lang, city string) error {
	cu, err := c.open(id, lang)
	if err != nil {
		return err
	}
	if city == "" {
		city = cu.city
	}
	centre, ok := CityCentres[city]
	if !ok {
		return fmt.Errorf("%w: no location for city %q", errBadInput, city)
	}
	// A few hundred metres from the centre, as a phone would report.
	lat := centre[0] + (rand.Float64()-0.5)*0.006
	lon := centre[1] + (rand.Float64()-0.5)*0.006
	upd := cu.u.SendLocation(lat, lon)
	c.record(cu, upd, "location", strconv.FormatFloat(lat, 'f', 5, 64)+", "+strconv.FormatFloat(lon, 'f', 5, 64))
	return nil
}

// Press presses the inline button with data on the bot's message msg: only
// a button the message shows now, as in Telegram.
func (c *Chats) Press(id int64, lang string, msg int, data string) error {
	cu, err := c.open(id, lang)
	if err != nil {
		return err
	}
	m, ok := c.tg.Message(id, msg)
	if !ok || m.Deleted {
		return errNoMessage
	}
	if _, ok := m.ButtonWithData(data); !ok || data == "" {
		return errNoButton
	}
	upd := cu.u.Press(m, data)
	c.mu.Lock()
	cu.presses = append(cu.presses, upd)
	if len(cu.presses) > 50 {
		cu.presses = cu.presses[len(cu.presses)-50:]
	}
	c.mu.Unlock()
	return nil
}

// Talked lists the users who have a conversation.
func (c *Chats) Talked() map[int64]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int64]bool{}
	for id, cu := range c.users {
		if len(cu.sent) > 0 || len(c.tg.Messages(id)) > 0 {
			out[id] = true
		}
	}
	return out
}

// ---- what the page shows ----

// View is one chat as the page draws it.
type View struct {
	Version  string        `json:"version"`
	User     ViewUser      `json:"user"`
	Messages []ViewMessage `json:"messages"`
	Keyboard [][]ViewKey   `json:"keyboard"` // the reply keyboard shown, null when none
	Answers  []ViewAnswer  `json:"answers"`  // answers to button presses (toasts)
	Commands []ViewCommand `json:"commands"` // the bot's command menu in the user's language
}

// ViewUser is who the page plays.
type ViewUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	City  string `json:"city"`
	Lang  string `json:"lang"`
}

// ViewMessage is one message, from the bot or from the user.
type ViewMessage struct {
	ID        int            `json:"id"`
	From      string         `json:"from"` // bot | user
	Kind      string         `json:"kind"` // text | photo | contact | location
	Text      string         `json:"text"`
	Photo     string         `json:"photo,omitempty"` // URL of the image
	Protected bool           `json:"protected,omitempty"`
	Inline    [][]ViewButton `json:"inline,omitempty"`
	Edited    bool           `json:"edited,omitempty"`
	Day       string         `json:"day"`  // "10 ақпан": the day in the programme's zone, on the service's clock
	Time      string         `json:"time"` // HH:MM
}

// ViewButton is an inline button.
type ViewButton struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// ViewKey is a reply keyboard button.
type ViewKey struct {
	Text     string `json:"text"`
	Contact  bool   `json:"contact,omitempty"`
	Location bool   `json:"location,omitempty"`
}

// ViewAnswer is the bot's answer to a button press.
type ViewAnswer struct {
	ID    int    `json:"id"`
	Text  string `json:"text"`
	Alert bool   `json:"alert,omitempty"`
}

// ViewCommand is an entry of the bot's command menu.
type ViewCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// View builds the chat of user id as Telegram would show it now: the bot's
// messages as they stand after edits, without deleted ones (the bot's and
// the user's), in order.
func (c *Chats) View(id int64, lang string) (View, error) {
	cu, err := c.open(id, lang)
	if err != nil {
		return View{}, err
	}
	c.mu.Lock()
	mine := append([]sent(nil), cu.sent...)
	presses := append([]int(nil), cu.presses...)
	c.mu.Unlock()

	v := View{User: ViewUser{ID: id, Name: cu.name, Phone: cu.phone, City: cu.city, Lang: cu.u.User.LanguageCode},
		Messages: []ViewMessage{}, Answers: []ViewAnswer{}, Commands: []ViewCommand{}}
	for _, s := range mine {
		if s.id == 0 || c.tg.UserMessageDeleted(id, s.id) {
			continue
		}
		day, hm := c.local(lang, s.at)
		v.Messages = append(v.Messages, ViewMessage{ID: s.id, From: "user", Kind: s.kind, Text: s.text, Day: day, Time: hm})
	}
	for _, m := range c.tg.Messages(id) {
		if m.Deleted {
			continue
		}
		day, hm := c.local(lang, c.times.fake(m.SentAt))
		vm := ViewMessage{ID: m.ID, From: "bot", Kind: "text", Text: m.Body(), Protected: m.ProtectContent,
			Edited: m.Edits > 0, Day: day, Time: hm}
		if m.Photo != nil {
			vm.Kind = "photo"
			vm.Photo = fmt.Sprintf("/sandbox/api/chats/%d/photos/%d", id, m.ID)
		}
		for _, row := range m.Inline {
			var r []ViewButton
			for _, b := range row {
				r = append(r, ViewButton{Text: b.Text, Data: b.Data, URL: b.URL})
			}
			vm.Inline = append(vm.Inline, r)
		}
		v.Messages = append(v.Messages, vm)
	}
	sort.SliceStable(v.Messages, func(i, j int) bool { return v.Messages[i].ID < v.Messages[j].ID })
	for _, row := range cu.u.Keyboard() {
		var r []ViewKey
		for _, k := range row {
			r = append(r, ViewKey{Text: k.Text, Contact: k.RequestContact, Location: k.RequestLocation})
		}
		v.Keyboard = append(v.Keyboard, r)
	}
	for _, upd := range presses {
		if a, ok := c.tg.Answer(upd); ok && a.Text != "" {
			v.Answers = append(v.Answers, ViewAnswer{ID: upd, Text: a.Text, Alert: a.ShowAlert})
		}
	}
	cmds := c.tg.Commands(v.User.Lang)
	if len(cmds) == 0 {
		cmds = c.tg.Commands("")
	}
	for _, cmd := range cmds {
		v.Commands = append(v.Commands, ViewCommand{Command: cmd.Command, Description: cmd.Description})
	}
	b, err := json.Marshal(v)
	if err != nil {
		return View{}, err
	}
	h := fnv.New64a()
	h.Write(b)
	v.Version = strconv.FormatUint(h.Sum64(), 36)
	return v, nil
}

// Wait returns the chat's view once it differs from version, or as it is
// when ctx ends or max passes (a long poll).
func (c *Chats) Wait(ctx context.Context, id int64, lang, version string, max time.Duration) (View, error) {
	deadline := time.Now().Add(max)
	for {
		v, err := c.View(id, lang)
		if err != nil || v.Version != version || time.Now().After(deadline) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, nil
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// Photo is the image the bot sent as message msg.
func (c *Chats) Photo(id int64, msg int) ([]byte, bool) {
	m, ok := c.tg.Message(id, msg)
	if !ok || m.Deleted || m.Photo == nil {
		return nil, false
	}
	return m.Photo, true
}

func (c *Chats) local(lang string, t time.Time) (day, hm string) {
	l := t.In(c.prog.Location)
	day = locales.Date(lang, l)
	if y := c.now().In(c.prog.Location).Year(); l.Year() != y {
		day += " " + l.Format("2006")
	}
	return day, l.Format("15:04")
}

// timeline maps real instants (when the fake Bot API received a message) to
// the service's clock, which the time controls make jump.
type timeline struct {
	mu   sync.Mutex
	segs []segment // in order of from
}

type segment struct {
	from   time.Time
	offset time.Duration
}

func newTimeline(now time.Time) *timeline {
	return &timeline{segs: []segment{{offset: now.Sub(time.Now())}}}
}

// jumped records that from the real instant at on, the clock reads to at it.
func (t *timeline) jumped(at, to time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.segs = append(t.segs, segment{from: at, offset: to.Sub(at)})
}

func (t *timeline) fake(at time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	off := t.segs[0].offset
	for _, s := range t.segs[1:] {
		if at.Before(s.from) {
			break
		}
		off = s.offset
	}
	return at.Add(off)
}
