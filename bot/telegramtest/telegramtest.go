// Package telegramtest is an in-process fake of the Telegram Bot API over real
// HTTP, for tests and the sandbox. It serves /bot<token>/<method> for the
// methods the service uses (getMe, getUpdates, sendMessage, sendPhoto,
// editMessageText, editMessageCaption, editMessageReplyMarkup,
// answerCallbackQuery, deleteMessage,
// setMyCommands, setWebhook, deleteWebhook), records every call, lets a test
// act as users (text, contacts, locations, photos, stickers, button presses)
// and injects the faults Telegram produces (429 with retry_after, 403 "bot was
// blocked by the user", 5xx, slow answers).
//
// A conversation test reads like what a person does:
//
//	srv := telegramtest.New(t)
//	api, _ := bot.NewAPI(ctx, srv.Token(), srv.Endpoint(), nil)
//	... start the bot's intake on api ...
//	u := srv.NewUser(42, "kk")
//	u.Send("/start")
//	srv.Sync(t)                  // every update so far handled by the bot
//	m := u.Last()                // the bot's latest message to u
//	u.PressButton(t, m, "Русский")
//	srv.Sync(t)
//
// Sync relies on the bot confirming an update only after handling it: in
// polling mode by the offset of its next getUpdates, in webhook mode by a 2xx
// answer to the POST.
//
// Fidelity notes: chat ids are not checked (any chat may receive a message);
// editing a message to the same text and keyboard fails with "message is not
// modified" as Telegram does; a second getUpdates ends the first with 409; a
// set webhook makes getUpdates fail with 409; webhook deliveries go one at a
// time unless setWebhook asked for max_connections > 1.
package telegramtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// DefaultToken is the token a Server accepts unless WithToken says otherwise.
const DefaultToken = "123456789:TEST-fake-token"

// BotUser is who getMe says the bot is.
var BotUser = tgbotapi.User{ID: 123456789, IsBot: true, FirstName: "Social Wallet", UserName: "sw_test_bot"}

// Call is one request the bot made, as the fake saw it.
type Call struct {
	Method string
	Params map[string]string // form or multipart text fields (JSON bodies are flattened the same way)
	Files  map[string][]byte // multipart files by field name (sendPhoto: "photo")
	ChatID int64             // from chat_id; 0 when absent
	At     time.Time
	Status int // 200, or the error_code answered (429, 403, 5xx, 400…)
}

// Button is one inline keyboard button.
type Button struct {
	Text string
	Data string // callback_data
	URL  string
}

// Message is a message the bot sent, as it stands now (after edits).
type Message struct {
	ID             int
	ChatID         int64
	Text           string // text of sendMessage / editMessageText
	Caption        string // caption of sendPhoto
	Photo          []byte // the uploaded image (PNG for QR codes)
	ProtectContent bool
	ParseMode      string
	Inline         [][]Button                  // the inline keyboard, nil when none
	Keyboard       [][]tgbotapi.KeyboardButton // a reply keyboard this message set, nil when none
	RemoveKeyboard bool                        // the message removed the reply keyboard
	SentAt         time.Time
	Edits          int // how many times it was edited
	Deleted        bool
}

// Body is the text or, for a photo, the caption.
func (m Message) Body() string {
	if m.Text != "" {
		return m.Text
	}
	return m.Caption
}

// Buttons lists the inline buttons row by row.
func (m Message) Buttons() []Button {
	var out []Button
	for _, row := range m.Inline {
		out = append(out, row...)
	}
	return out
}

// Button finds an inline button by its exact text.
func (m Message) Button(text string) (Button, bool) {
	for _, b := range m.Buttons() {
		if b.Text == text {
			return b, true
		}
	}
	return Button{}, false
}

// ButtonWithData finds an inline button by its callback data.
func (m Message) ButtonWithData(data string) (Button, bool) {
	for _, b := range m.Buttons() {
		if b.Data == data {
			return b, true
		}
	}
	return Button{}, false
}

// KeyboardTexts lists the reply keyboard's button texts row by row.
func (m Message) KeyboardTexts() []string {
	var out []string
	for _, row := range m.Keyboard {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// CallbackAnswer is what the bot answered to a button press.
type CallbackAnswer struct {
	Text      string
	ShowAlert bool
	At        time.Time
}

// Webhook is the webhook the bot set.
type Webhook struct {
	URL            string
	SecretToken    string
	MaxConnections int
}

// Fault makes matching calls fail or answer slowly.
type Fault struct {
	// Method is the Bot API method to fail; empty matches every method that
	// sends or changes something (everything but getMe, getUpdates,
	// setWebhook, deleteWebhook and setMyCommands).
	Method string
	// Chat limits the fault to calls with this chat_id; 0 matches any chat.
	Chat int64
	// Code is the error_code to answer (429, 403, 500, 502…); 0 answers
	// normally (useful with Delay alone).
	Code        int
	Description string // default: Telegram's text for Code
	RetryAfter  int    // seconds, sent as parameters.retry_after (429)
	// HTML answers a 5xx with an HTML page instead of Telegram's JSON, as a
	// proxy in front of Telegram does.
	HTML bool
	// Delay holds the answer this long (a slow Telegram); the request's
	// context still ends it early.
	Delay time.Duration
	// Times is how many calls the fault hits; 0 means until removed.
	Times int
}

// FaultID identifies an injected fault for RemoveFault.
type FaultID int

type fault struct {
	Fault
	id   FaultID
	hits int
}

type callback struct {
	answered bool
	answer   CallbackAnswer
}

// Server is the fake Bot API.
type Server struct {
	srv   *httptest.Server
	token string
	now   func() time.Time

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change, for waiters
	calls     []Call
	nextID    int                    // next update_id
	queue     []tgbotapi.Update      // not yet confirmed, in order
	history   []tgbotapi.Update      // confirmed, for Redeliver
	encoded   map[int][]byte         // update id → its JSON, made when queued
	confirmed int                    // every update_id below this is handled
	redeliver []tgbotapi.Update      // sent again regardless of offset
	msgSeq    map[int64]int          // per chat message id counter
	messages  map[int64][]*Message   // bot messages per chat
	users     map[int64]*User        // by id
	userMsgs  map[int64]map[int]bool // messages users sent, per chat: true once deleted
	callbacks map[string]*callback   // by callback query id
	cbByUpd   map[int]string         // update id → callback query id
	commands  map[string][]tgbotapi.BotCommand
	webhook   *Webhook
	hookStop  context.CancelFunc
	inflight  map[int]bool // webhook deliveries in progress
	poll      context.CancelFunc
	awaitPoll bool // redelivered updates were handed out; the next poll confirms them
	pollGen   int
	faults    []*fault
	faultSeq  FaultID
	rate      int // sends per second before 429; 0: unlimited
	sendTimes []time.Time
	closed    bool
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server accept token instead of DefaultToken.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithClock sets where message dates come from (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New starts a server that is closed when tb's test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := Start(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a server; Close stops it.
func Start(opts ...Option) *Server {
	// Update ids start at random, as Telegram's do, so that servers of tests
	// running side by side never share ids (claims in a shared Redis would
	// collide).
	firstUpdate := 100_000 + int(randomUint()%900_000_000)
	s := &Server{
		token:     DefaultToken,
		now:       time.Now,
		changed:   make(chan struct{}),
		nextID:    firstUpdate,
		confirmed: firstUpdate,
		msgSeq:    map[int64]int{},
		messages:  map[int64][]*Message{},
		users:     map[int64]*User{},
		userMsgs:  map[int64]map[int]bool{},
		encoded:   map[int][]byte{},
		callbacks: map[string]*callback{},
		cbByUpd:   map[int]string{},
		commands:  map[string][]tgbotapi.BotCommand{},
		inflight:  map[int]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// Close stops the server and any webhook delivery.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	if s.hookStop != nil {
		s.hookStop()
	}
	if s.poll != nil {
		s.poll()
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// Endpoint is the API endpoint in the library's format: "<url>/bot%s/%s".
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Client is an HTTP client that reaches the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// notify wakes every waiter; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond (called with s.mu held) is true or ctx ends.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ---- acting as users ----

// User is a person talking to the bot in a private chat (chat id = user id).
type User struct {
	srv  *Server
	User tgbotapi.User
}

// NewUser registers a person with Telegram's language code lang ("kk", "ru",
// "en"…; empty for none). Calling it again for the same id returns the same user.
func (s *Server) NewUser(id int64, lang string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		return u
	}
	u := &User{srv: s, User: tgbotapi.User{ID: id, FirstName: fmt.Sprintf("User%d", id), LanguageCode: lang}}
	s.users[id] = u
	return u
}

// ID is the user's id, which is also the private chat's id.
func (u *User) ID() int64 { return u.User.ID }

func (u *User) chat() *tgbotapi.Chat {
	return &tgbotapi.Chat{ID: u.User.ID, Type: "private", FirstName: u.User.FirstName}
}

// message builds a message from the user with the next message id.
func (u *User) message(fill func(*tgbotapi.Message)) int {
	s := u.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgSeq[u.User.ID]++
	from := u.User
	m := &tgbotapi.Message{MessageID: s.msgSeq[u.User.ID], From: &from, Date: int(s.now().Unix()), Chat: u.chat()}
	fill(m)
	if s.userMsgs[u.User.ID] == nil {
		s.userMsgs[u.User.ID] = map[int]bool{}
	}
	s.userMsgs[u.User.ID][m.MessageID] = false
	return s.enqueueLocked(tgbotapi.Update{Message: m})
}

// Send sends text (a command like "/start" gets its bot_command entity).
// It returns the update id.
func (u *User) Send(text string) int {
	return u.message(func(m *tgbotapi.Message) {
		m.Text = text
		if strings.HasPrefix(text, "/") {
			n := strings.IndexAny(text, " @")
			if n < 0 {
				n = len(text)
			}
			m.Entities = []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: n}}
		}
	})
}

// ShareContact sends the user's own contact, as the contact button does.
func (u *User) ShareContact(phone string) int { return u.SendContact(phone, u.User.ID) }

// SendContact sends a contact card with the given user id (0: a contact that
// is not a Telegram user, as when forwarding someone's number).
func (u *User) SendContact(phone string, userID int64) int {
	return u.message(func(m *tgbotapi.Message) {
		m.Contact = &tgbotapi.Contact{PhoneNumber: phone, FirstName: u.User.FirstName, UserID: userID}
	})
}

// SendLocation shares a location.
func (u *User) SendLocation(lat, lon float64) int {
	return u.message(func(m *tgbotapi.Message) {
		m.Location = &tgbotapi.Location{Latitude: lat, Longitude: lon}
	})
}

// SendPhoto sends a photo (the bot sees only its file ids).
func (u *User) SendPhoto() int {
	return u.message(func(m *tgbotapi.Message) {
		m.Photo = []tgbotapi.PhotoSize{{FileID: "user-photo", FileUniqueID: "up", Width: 90, Height: 90}}
	})
}

// SendSticker sends a sticker.
func (u *User) SendSticker() int {
	return u.message(func(m *tgbotapi.Message) {
		m.Sticker = &tgbotapi.Sticker{FileID: "sticker", FileUniqueID: "st", Width: 512, Height: 512, Emoji: "👍"}
	})
}

// Press presses a button with data on message m (data need not be one of
// m's buttons, to act out old or forged presses). It returns the update id.
func (u *User) Press(m Message, data string) int {
	s := u.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomID()
	s.callbacks[id] = &callback{}
	from := u.User
	cq := &tgbotapi.CallbackQuery{
		ID:   id,
		From: &from,
		Message: &tgbotapi.Message{MessageID: m.ID, From: &BotUser, Date: int(m.SentAt.Unix()),
			Chat: &tgbotapi.Chat{ID: m.ChatID, Type: "private"}, Text: m.Text, Caption: m.Caption},
		ChatInstance: strconv.FormatInt(m.ChatID, 10),
		Data:         data,
	}
	upd := s.enqueueLocked(tgbotapi.Update{CallbackQuery: cq})
	s.cbByUpd[upd] = id
	return upd
}

// PressButton presses the inline button of m whose text is text; the test
// fails when m has no such button.
func (u *User) PressButton(tb testing.TB, m Message, text string) int {
	tb.Helper()
	b, ok := m.Button(text)
	if !ok {
		tb.Fatalf("telegramtest: message %d has no button %q; buttons %v", m.ID, text, m.Buttons())
	}
	return u.Press(m, b.Data)
}

// Messages lists the bot's messages to this user, oldest first.
func (u *User) Messages() []Message { return u.srv.Messages(u.User.ID) }

// Last is the bot's latest message to this user (zero Message when none).
func (u *User) Last() Message {
	ms := u.Messages()
	if len(ms) == 0 {
		return Message{}
	}
	return ms[len(ms)-1]
}

// Keyboard is the reply keyboard the user currently sees (nil when none).
func (u *User) Keyboard() [][]tgbotapi.KeyboardButton {
	ms := u.Messages()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].RemoveKeyboard {
			return nil
		}
		if ms[i].Keyboard != nil {
			return ms[i].Keyboard
		}
	}
	return nil
}

// enqueueLocked gives upd the next update id and queues it; s.mu held.
func (s *Server) enqueueLocked(upd tgbotapi.Update) int {
	upd.UpdateID = s.nextID
	s.nextID++
	s.queue = append(s.queue, upd)
	// Encoded now, not per poll: Telegram's work, not the bot's, should not
	// weigh on a benchmark of the bot.
	s.encoded[upd.UpdateID], _ = json.Marshal(upd)
	s.notify()
	return upd.UpdateID
}

// Enqueue queues a hand-made update (its UpdateID is assigned) and returns its id.
func (s *Server) Enqueue(upd tgbotapi.Update) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enqueueLocked(upd)
}

// Update returns a queued or delivered update by id.
func (s *Server) Update(id int) (tgbotapi.Update, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateLocked(id)
}

func (s *Server) updateLocked(id int) (tgbotapi.Update, bool) {
	for _, u := range s.all() {
		if u.UpdateID == id {
			return u, true
		}
	}
	return tgbotapi.Update{}, false
}

// Redeliver sends the update with id again, as Telegram does after a bot lost
// its confirmed offset or a webhook answer: the bot receives it whatever
// offset it asks for.
func (s *Server) Redeliver(id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	upd, ok := s.updateLocked(id)
	if !ok {
		return fmt.Errorf("telegramtest: no update %d", id)
	}
	s.redeliver = append(s.redeliver, upd)
	s.notify()
	return nil
}

// all lists every update ever queued: confirmed ones, then pending ones.
func (s *Server) all() []tgbotapi.Update {
	return append(append([]tgbotapi.Update(nil), s.history...), s.queue...)
}

// ---- waiting ----

// WaitHandled waits until every update queued so far has been confirmed by the
// bot (polling: a later getUpdates offset; webhook: a 2xx answer).
func (s *Server) WaitHandled(ctx context.Context) error {
	s.mu.Lock()
	last := s.nextID - 1
	s.mu.Unlock()
	return s.waitFor(ctx, func() bool {
		return s.confirmed > last && len(s.redeliver) == 0 && len(s.inflight) == 0 && !s.awaitPoll
	})
}

// Sync is WaitHandled for tests: it fails tb after 10 seconds.
func (s *Server) Sync(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitHandled(ctx); err != nil {
		s.mu.Lock()
		pending := len(s.queue)
		conf := s.confirmed
		s.mu.Unlock()
		tb.Fatalf("telegramtest: updates not handled in 10s (%d pending, confirmed below %d): %v", pending, conf, err)
	}
}

// WaitMessages waits until chat has at least n bot messages and returns them.
func (s *Server) WaitMessages(ctx context.Context, chat int64, n int) ([]Message, error) {
	err := s.waitFor(ctx, func() bool { return len(s.messages[chat]) >= n })
	ms := s.Messages(chat)
	if err != nil {
		return ms, fmt.Errorf("telegramtest: chat %d has %d messages, want %d: %w", chat, len(ms), n, err)
	}
	return ms, nil
}

// WaitCalls waits until at least n successful calls of method were made.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	err := s.waitFor(ctx, func() bool { return s.countLocked(method, 200) >= n })
	cs := s.CallsTo(method)
	if err != nil {
		return cs, fmt.Errorf("telegramtest: %d successful %s calls, want %d: %w", s.Count(method), method, n, err)
	}
	return cs, nil
}

// ---- inspecting ----

// Messages lists the bot's messages to chat, oldest first (copies).
func (s *Server) Messages(chat int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages[chat]))
	for _, m := range s.messages[chat] {
		out = append(out, m.clone())
	}
	return out
}

// Message returns the bot's message id in chat.
func (s *Server) Message(chat int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(chat, id)
	if m == nil {
		return Message{}, false
	}
	return m.clone(), true
}

func (m *Message) clone() Message {
	c := *m
	c.Inline = nil
	for _, row := range m.Inline {
		c.Inline = append(c.Inline, append([]Button(nil), row...))
	}
	return c
}

// Calls lists every call made, in order (copies).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Mark is a position in the call record, for CallsSince.
func (s *Server) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// CallsSince lists the calls made after mark, leaving out getUpdates and getMe
// (the intake's own traffic).
func (s *Server) CallsSince(mark int) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls[min(mark, len(s.calls)):] {
		if c.Method != "getUpdates" && c.Method != "getMe" {
			out = append(out, c)
		}
	}
	return out
}

// CallsTo lists the calls of method, in order.
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Count counts successful calls of method ("" counts every successful call
// that sends or changes something).
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countLocked(method, 200)
}

func (s *Server) countLocked(method string, status int) int {
	n := 0
	for _, c := range s.calls {
		if (c.Method == method || (method == "" && sends(c.Method))) && c.Status == status {
			n++
		}
	}
	return n
}

// PeakRate is the largest number of successful calls of method ("" for every
// sending method) that fell within any window of length w: with w = 1s, the
// highest messages-per-second the bot reached.
func (s *Server) PeakRate(method string, w time.Duration) int {
	s.mu.Lock()
	var ts []time.Time
	for _, c := range s.calls {
		if (c.Method == method || (method == "" && sends(c.Method))) && c.Status == 200 {
			ts = append(ts, c.At)
		}
	}
	s.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// Answer is the bot's answer to the button press of update id.
func (s *Server) Answer(updateID int) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[s.cbByUpd[updateID]]
	if cb == nil || !cb.answered {
		return CallbackAnswer{}, false
	}
	return cb.answer, true
}

// Commands are the bot's commands for a language code ("" for the default).
func (s *Server) Commands(lang string) []tgbotapi.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tgbotapi.BotCommand(nil), s.commands[lang]...)
}

// Webhook is the webhook set, if any.
func (s *Server) Webhook() (Webhook, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook == nil {
		return Webhook{}, false
	}
	return *s.webhook, true
}

// Polling reports whether a getUpdates request is being held open.
func (s *Server) Polling() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.poll != nil
}

// UserMessageDeleted reports whether the bot deleted message id the user sent in chat.
func (s *Server) UserMessageDeleted(chat int64, id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userMsgs[chat][id]
}

// Pending counts updates queued but not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) + len(s.redeliver)
}

// ---- faults ----

// InjectFault adds a fault; faults are checked in the order added.
func (s *Server) InjectFault(f Fault) FaultID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	s.faults = append(s.faults, &fault{Fault: f, id: s.faultSeq})
	return s.faultSeq
}

// RemoveFault removes one fault.
func (s *Server) RemoveFault(id FaultID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.id == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return
		}
	}
}

// ClearFaults removes every fault and the rate limit.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.rate = 0
}

// FaultHits says how many calls a fault has hit.
func (s *Server) FaultHits(id FaultID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.id == id {
			return f.hits
		}
	}
	return -1
}

// Block answers every sending call to chat with 403 "Forbidden: bot was
// blocked by the user" until Unblock.
func (s *Server) Block(chat int64) FaultID {
	return s.InjectFault(Fault{Chat: chat, Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"})
}

// Unblock removes every fault aimed at chat.
func (s *Server) Unblock(chat int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.faults[:0]
	for _, f := range s.faults {
		if f.Chat != chat {
			kept = append(kept, f)
		}
	}
	s.faults = kept
}

// TooManyRequests answers the next times sending calls (any chat) with 429
// and retry_after seconds.
func (s *Server) TooManyRequests(retryAfter, times int) FaultID {
	return s.InjectFault(Fault{Code: http.StatusTooManyRequests, RetryAfter: retryAfter, Times: times})
}

// ServerError answers the next times calls of method ("" for any sending
// method) with code (500, 502…).
func (s *Server) ServerError(method string, code, times int) FaultID {
	return s.InjectFault(Fault{Method: method, Code: code, Times: times})
}

// Slow delays the answers to method ("" for any sending method) by d until removed.
func (s *Server) Slow(method string, d time.Duration) FaultID {
	return s.InjectFault(Fault{Method: method, Delay: d})
}

// LimitRate answers sending calls beyond perSecond within any second with 429
// retry_after 1, as Telegram does past its cap; 0 lifts the limit.
func (s *Server) LimitRate(perSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = perSecond
	s.sendTimes = nil
}

// sends reports whether method sends or changes something (what faults and
// rate limits apply to by default).
func sends(method string) bool {
	switch method {
	case "getMe", "getUpdates", "setWebhook", "deleteWebhook", "setMyCommands", "getWebhookInfo":
		return false
	}
	return true
}

var describe = map[int]string{
	400: "Bad Request",
	401: "Unauthorized",
	403: "Forbidden: bot was blocked by the user",
	404: "Not Found",
	409: "Conflict",
	429: "Too Many Requests",
	500: "Internal Server Error",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
}

// pickFault finds the first fault for the call and counts the hit; s.mu held.
func (s *Server) pickFault(method string, chat int64) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		if f.Method == "" && !sends(method) {
			continue
		}
		if f.Chat != 0 && f.Chat != chat {
			continue
		}
		f.hits++
		out := f.Fault
		if f.Times > 0 && f.hits >= f.Times {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return &out
	}
	return nil
}

// ---- HTTP ----

type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.code, e.desc) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: 400, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	if token != s.token {
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	params, files, err := readParams(r)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	chat, _ := strconv.ParseInt(params["chat_id"], 10, 64)
	call := Call{Method: method, Params: params, Files: files, ChatID: chat, At: time.Now()}

	s.mu.Lock()
	f := s.pickFault(method, chat)
	if f == nil && s.rate > 0 && sends(method) {
		cut := call.At.Add(-time.Second)
		kept := s.sendTimes[:0]
		for _, t := range s.sendTimes {
			if t.After(cut) {
				kept = append(kept, t)
			}
		}
		s.sendTimes = kept
		if len(kept) >= s.rate {
			f = &Fault{Code: 429, RetryAfter: 1}
		} else {
			s.sendTimes = append(s.sendTimes, call.At)
		}
	}
	s.mu.Unlock()

	if f != nil && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			s.record(call, 0)
			return
		}
	}
	if f != nil && f.Code != 0 {
		e := &apiError{code: f.Code, desc: f.Description, retryAfter: f.RetryAfter}
		if e.desc == "" {
			e.desc = describe[f.Code]
			if f.Code == 429 {
				e.desc = fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
			}
		}
		s.record(call, f.Code)
		if f.HTML && f.Code >= 500 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Code)
			fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", f.Code, describe[f.Code])
			return
		}
		writeError(w, e)
		return
	}

	var result any
	switch method {
	case "getUpdates":
		result, err = s.getUpdates(r.Context(), params)
		if err != nil && r.Context().Err() != nil {
			s.record(call, 0)
			return
		}
	default:
		s.mu.Lock()
		result, err = s.apply(method, params, files, call.At)
		s.mu.Unlock()
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{code: 500, desc: err.Error()}
		}
		s.record(call, ae.code)
		writeError(w, ae)
		return
	}
	s.record(call, 200)
	w.Header().Set("Content-Type", "application/json")
	if ups, ok := result.([]tgbotapi.Update); ok {
		w.Write(s.encodeUpdates(ups))
		return
	}
	json.NewEncoder(w).Encode(okResult{OK: true, Result: result})
}

type okResult struct {
	OK     bool `json:"ok"`
	Result any  `json:"result"`
}

// encodeUpdates writes a getUpdates answer from the JSON made at enqueue.
func (s *Server) encodeUpdates(ups []tgbotapi.Update) []byte {
	buf := bytes.NewBufferString(`{"ok":true,"result":[`)
	s.mu.Lock()
	for i, u := range ups {
		if i > 0 {
			buf.WriteByte(',')
		}
		raw, ok := s.encoded[u.UpdateID]
		if !ok {
			raw, _ = json.Marshal(u)
		}
		buf.Write(raw)
	}
	s.mu.Unlock()
	buf.WriteString("]}")
	return buf.Bytes()
}

func (s *Server) record(c Call, status int) {
	c.Status = status
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.notify()
	s.mu.Unlock()
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	json.NewEncoder(w).Encode(body)
}

// readParams reads a form, multipart or JSON body into flat string fields.
func readParams(r *http.Request) (map[string]string, map[string][]byte, error) {
	params := map[string]string{}
	files := map[string][]byte{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return nil, nil, err
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v[0]
		}
		for k, fhs := range r.MultipartForm.File {
			b, err := readPart(fhs[0])
			if err != nil {
				return nil, nil, err
			}
			files[k] = b
		}
	case "application/json":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, nil, err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				params[k] = v
			default:
				b, _ := json.Marshal(v)
				params[k] = string(b)
			}
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	}
	return params, files, nil
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// getUpdates answers a long poll: at once when updates wait, else when one
// arrives or timeout seconds pass. A newer poll ends this one with 409.
func (s *Server) getUpdates(ctx context.Context, p map[string]string) ([]tgbotapi.Update, error) {
	offset, _ := strconv.Atoi(p["offset"])
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p["timeout"])

	s.mu.Lock()
	if s.webhook != nil {
		s.mu.Unlock()
		return nil, &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	if s.poll != nil {
		s.poll() // the older poll ends with 409
	}
	pctx, cancel := context.WithCancel(ctx)
	s.pollGen++
	gen := s.pollGen
	s.poll = cancel
	if offset > s.confirmed {
		s.confirmLocked(offset)
	}
	if s.awaitPoll {
		s.awaitPoll = false
		s.notify()
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.pollGen == gen {
			s.poll = nil
		}
		s.mu.Unlock()
		cancel()
	}()

	var out []tgbotapi.Update
	// ready runs under s.mu: redelivered updates leave their list as they are
	// handed out, and are handled once the bot polls again.
	ready := func() bool {
		out = out[:0]
		if len(s.redeliver) > 0 {
			n := min(len(s.redeliver), limit)
			out = append(out, s.redeliver[:n]...)
			s.redeliver = s.redeliver[n:]
			s.awaitPoll = true
			return true
		}
		for _, u := range s.queue {
			if len(out) == limit {
				break
			}
			if u.UpdateID >= offset {
				out = append(out, u)
			}
		}
		return len(out) > 0
	}
	wctx := pctx
	if timeout > 0 {
		var c context.CancelFunc
		wctx, c = context.WithTimeout(pctx, time.Duration(timeout)*time.Second)
		defer c()
	}
	err := s.waitFor(wctx, func() bool { return ready() || timeout <= 0 })
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if pctx.Err() != nil { // ended by a newer poll, not by its own timeout
			return nil, &apiError{code: 409, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		return []tgbotapi.Update{}, nil
	}
	return append([]tgbotapi.Update{}, out...), nil
}

// confirmLocked drops every queued update below offset.
func (s *Server) confirmLocked(offset int) {
	kept := s.queue[:0]
	for _, u := range s.queue {
		if u.UpdateID >= offset {
			kept = append(kept, u)
		} else {
			s.history = append(s.history, u)
		}
	}
	s.queue = kept
	s.confirmed = max(s.confirmed, offset)
	s.notify()
}

// apply performs a method that is not getUpdates; s.mu held.
func (s *Server) apply(method string, p map[string]string, files map[string][]byte, at time.Time) (any, error) {
	switch method {
	case "getMe":
		return BotUser, nil
	case "sendMessage":
		if strings.TrimSpace(p["text"]) == "" {
			return nil, badRequest("message text is empty")
		}
		if n := len([]rune(p["text"])); n > 4096 {
			return nil, badRequest("message is too long")
		}
		m, err := s.newMessage(p, at)
		if err != nil {
			return nil, err
		}
		m.Text = p["text"]
		return s.storeLocked(m), nil
	case "sendPhoto":
		m, err := s.newMessage(p, at)
		if err != nil {
			return nil, err
		}
		if b, ok := files["photo"]; ok {
			m.Photo = b
		} else if p["photo"] == "" {
			return nil, badRequest("there is no photo in the request")
		}
		if n := len([]rune(p["caption"])); n > 1024 {
			return nil, badRequest("message caption is too long")
		}
		m.Caption = p["caption"]
		return s.storeLocked(m), nil
	case "editMessageText", "editMessageReplyMarkup", "editMessageCaption":
		return s.edit(method, p)
	case "answerCallbackQuery":
		cb := s.callbacks[p["callback_query_id"]]
		if cb == nil || cb.answered {
			return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
		}
		cb.answered = true
		cb.answer = CallbackAnswer{Text: p["text"], ShowAlert: p["show_alert"] == "true", At: at}
		return true, nil
	case "deleteMessage":
		chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
		id, _ := strconv.Atoi(p["message_id"])
		if deleted, ok := s.userMsgs[chat][id]; ok && !deleted {
			s.userMsgs[chat][id] = true
			s.notify()
			return true, nil
		}
		m := s.findLocked(chat, id)
		if m == nil || m.Deleted {
			return nil, badRequest("message to delete not found")
		}
		m.Deleted = true
		s.notify()
		return true, nil
	case "setMyCommands":
		var cmds []tgbotapi.BotCommand
		if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
			return nil, badRequest("can't parse commands JSON object")
		}
		for _, c := range cmds {
			if c.Command == "" || c.Command != strings.ToLower(c.Command) || len(c.Command) > 32 || c.Description == "" {
				return nil, badRequest("BOT_COMMAND_INVALID")
			}
		}
		s.commands[p["language_code"]] = cmds
		return true, nil
	case "setWebhook":
		u, err := url.Parse(p["url"])
		if p["url"] == "" {
			s.stopWebhookLocked()
			return true, nil
		}
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, badRequest("bad webhook: invalid URL")
		}
		if sec := p["secret_token"]; len(sec) > 256 || strings.Trim(sec, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			return nil, badRequest("bad webhook: secret token contains unallowed characters")
		}
		maxc, _ := strconv.Atoi(p["max_connections"])
		if maxc <= 0 {
			maxc = 1
		}
		if p["drop_pending_updates"] == "true" {
			s.dropPendingLocked()
		}
		s.stopWebhookLocked()
		s.webhook = &Webhook{URL: p["url"], SecretToken: p["secret_token"], MaxConnections: maxc}
		ctx, cancel := context.WithCancel(context.Background())
		s.hookStop = cancel
		for i := 0; i < maxc; i++ {
			go s.deliver(ctx, *s.webhook)
		}
		if s.poll != nil {
			s.poll()
		}
		return true, nil
	case "deleteWebhook":
		if p["drop_pending_updates"] == "true" {
			s.dropPendingLocked()
		}
		s.stopWebhookLocked()
		return true, nil
	case "getWebhookInfo":
		info := map[string]any{"url": "", "pending_update_count": len(s.queue)}
		if s.webhook != nil {
			info["url"] = s.webhook.URL
			info["max_connections"] = s.webhook.MaxConnections
		}
		return info, nil
	}
	return nil, &apiError{code: 404, desc: "Not Found: method not found"}
}

func (s *Server) dropPendingLocked() {
	s.history = append(s.history, s.queue...)
	if len(s.queue) > 0 {
		s.confirmed = s.queue[len(s.queue)-1].UpdateID + 1
	}
	s.queue = nil
	s.redeliver = nil
	s.notify()
}

func (s *Server) stopWebhookLocked() {
	if s.hookStop != nil {
		s.hookStop()
		s.hookStop = nil
	}
	s.webhook = nil
	s.notify()
}

// newMessage builds a bot message from the common send parameters.
func (s *Server) newMessage(p map[string]string, at time.Time) (*Message, error) {
	chat, err := strconv.ParseInt(p["chat_id"], 10, 64)
	if err != nil || chat == 0 {
		return nil, badRequest("chat not found")
	}
	m := &Message{ChatID: chat, SentAt: at, ProtectContent: p["protect_content"] == "true", ParseMode: p["parse_mode"]}
	if err := m.setMarkup(p["reply_markup"], true); err != nil {
		return nil, err
	}
	return m, nil
}

type markup struct {
	InlineKeyboard [][]struct {
		Text         string  `json:"text"`
		CallbackData *string `json:"callback_data"`
		URL          *string `json:"url"`
	} `json:"inline_keyboard"`
	Keyboard       [][]tgbotapi.KeyboardButton `json:"keyboard"`
	RemoveKeyboard bool                        `json:"remove_keyboard"`
}

// setMarkup reads reply_markup; a message may carry a reply keyboard only
// when it is sent, not edited.
func (m *Message) setMarkup(raw string, sending bool) error {
	m.Inline = nil
	if raw == "" || raw == "null" {
		return nil
	}
	var mk markup
	if err := json.Unmarshal([]byte(raw), &mk); err != nil {
		return badRequest("can't parse reply keyboard markup JSON object")
	}
	for _, row := range mk.InlineKeyboard {
		var out []Button
		for _, b := range row {
			btn := Button{Text: b.Text}
			if b.CallbackData != nil {
				btn.Data = *b.CallbackData
				if len(btn.Data) > 64 || len(btn.Data) == 0 {
					return badRequest("BUTTON_DATA_INVALID")
				}
			}
			if b.URL != nil {
				btn.URL = *b.URL
			}
			out = append(out, btn)
		}
		m.Inline = append(m.Inline, out)
	}
	if !sending && (mk.Keyboard != nil || mk.RemoveKeyboard) {
		return badRequest("inline keyboard expected")
	}
	m.Keyboard = mk.Keyboard
	m.RemoveKeyboard = mk.RemoveKeyboard
	return nil
}

// storeLocked gives m the chat's next message id and keeps it.
func (s *Server) storeLocked(m *Message) wireMessage {
	s.msgSeq[m.ChatID]++
	m.ID = s.msgSeq[m.ChatID]
	s.messages[m.ChatID] = append(s.messages[m.ChatID], m)
	s.notify()
	return m.wire()
}

// wireMessage is a message as the Bot API returns it, with the fields the
// fake fills (encoding the library's whole Message type is slow).
type wireMessage struct {
	MessageID   int                            `json:"message_id"`
	From        *tgbotapi.User                 `json:"from"`
	Date        int                            `json:"date"`
	Chat        wireChat                       `json:"chat"`
	Text        string                         `json:"text,omitempty"`
	Caption     string                         `json:"caption,omitempty"`
	Photo       []tgbotapi.PhotoSize           `json:"photo,omitempty"`
	ReplyMarkup *tgbotapi.InlineKeyboardMarkup `json:"reply_markup,omitempty"`
}

type wireChat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// wire is the message as the Bot API returns it.
func (m *Message) wire() wireMessage {
	out := wireMessage{MessageID: m.ID, From: &BotUser, Date: int(m.SentAt.Unix()),
		Chat: wireChat{ID: m.ChatID, Type: "private"}, Text: m.Text, Caption: m.Caption}
	if m.Photo != nil {
		out.Photo = []tgbotapi.PhotoSize{{FileID: fmt.Sprintf("photo-%d-%d", m.ChatID, m.ID), FileUniqueID: "p", Width: 256, Height: 256, FileSize: len(m.Photo)}}
	}
	if m.Inline != nil {
		mk := &tgbotapi.InlineKeyboardMarkup{}
		for _, row := range m.Inline {
			var r []tgbotapi.InlineKeyboardButton
			for _, b := range row {
				btn := tgbotapi.InlineKeyboardButton{Text: b.Text}
				if b.Data != "" {
					d := b.Data
					btn.CallbackData = &d
				}
				if b.URL != "" {
					u := b.URL
					btn.URL = &u
				}
				r = append(r, btn)
			}
			mk.InlineKeyboard = append(mk.InlineKeyboard, r)
		}
		out.ReplyMarkup = mk
	}
	return out
}

func (s *Server) findLocked(chat int64, id int) *Message {
	for _, m := range s.messages[chat] {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// edit changes a message in place; an edit that changes nothing is refused as
// Telegram refuses it.
func (s *Server) edit(method string, p map[string]string) (any, error) {
	if p["inline_message_id"] != "" {
		return nil, badRequest("inline messages are not supported by the fake")
	}
	chat, _ := strconv.ParseInt(p["chat_id"], 10, 64)
	id, _ := strconv.Atoi(p["message_id"])
	m := s.findLocked(chat, id)
	if m == nil || m.Deleted {
		return nil, badRequest("message to edit not found")
	}
	before := fmt.Sprint(m.Text, m.Caption, m.Inline)
	next := *m
	if err := next.setMarkup(p["reply_markup"], false); err != nil {
		return nil, err
	}
	if method == "editMessageText" {
		if m.Text == "" && m.Photo != nil {
			return nil, badRequest("there is no text in the message to edit")
		}
		if strings.TrimSpace(p["text"]) == "" {
			return nil, badRequest("message text is empty")
		}
		next.Text = p["text"]
		next.ParseMode = p["parse_mode"]
	}
	if method == "editMessageCaption" {
		if m.Photo == nil {
			return nil, badRequest("there is no caption in the message to edit")
		}
		next.Caption = p["caption"]
	}
	if fmt.Sprint(next.Text, next.Caption, next.Inline) == before {
		return nil, badRequest("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
	}
	next.Keyboard, next.RemoveKeyboard = m.Keyboard, m.RemoveKeyboard
	next.Edits++
	*m = next
	s.notify()
	return m.wire(), nil
}

// ---- webhook delivery ----

// deliver POSTs queued updates to the webhook in order until ctx ends. A
// failed delivery (non-2xx, network error) is retried after a short pause.
func (s *Server) deliver(ctx context.Context, hook Webhook) {
	client := &http.Client{Timeout: 30 * time.Second}
	for {
		var upd tgbotapi.Update
		var redelivered bool
		err := s.waitFor(ctx, func() bool {
			if len(s.redeliver) > 0 {
				upd, redelivered = s.redeliver[0], true
				s.redeliver = s.redeliver[1:]
				s.inflight[-upd.UpdateID] = true
				return true
			}
			for _, u := range s.queue {
				if !s.inflight[u.UpdateID] {
					upd, redelivered = u, false
					s.inflight[u.UpdateID] = true
					return true
				}
			}
			return false
		})
		if err != nil {
			return
		}
		key := upd.UpdateID
		if redelivered {
			key = -key
		}
		status, err := PostUpdate(ctx, client, hook.URL, hook.SecretToken, upd)
		s.mu.Lock()
		delete(s.inflight, key)
		if err == nil && status/100 == 2 {
			if !redelivered {
				s.confirmOneLocked(upd.UpdateID)
			}
		} else if redelivered {
			s.redeliver = append([]tgbotapi.Update{upd}, s.redeliver...)
		}
		s.notify()
		s.mu.Unlock()
		if err != nil || status/100 != 2 {
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return
			}
		}
	}
}

// confirmOneLocked removes one delivered update and moves confirmed past
// every update no longer queued.
func (s *Server) confirmOneLocked(id int) {
	for i, u := range s.queue {
		if u.UpdateID == id {
			s.history = append(s.history, u)
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			break
		}
	}
	if len(s.queue) == 0 {
		s.confirmed = s.nextID
	} else {
		s.confirmed = s.queue[0].UpdateID
	}
}

// PostUpdate POSTs one update to a webhook URL as Telegram does, with the
// secret header when secret is not empty, and returns the HTTP status.
func PostUpdate(ctx context.Context, client *http.Client, url, secret string, upd tgbotapi.Update) (int, error) {
	body, err := json.Marshal(upd)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func randomUint() uint64 {
	b := make([]byte, 8)
	rand.Read(b)
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
