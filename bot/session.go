package bot

import (
	"bytes"
	"context"
	"encoding/json"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// States of the conversation. A linked user is in stateMenu; the others are
// the steps of linking.
const (
	stateNew     = ""        // nothing asked yet
	stateLang    = "lang"    // the language picker was shown
	statePhone   = "phone"   // waiting for the contact button
	stateIIN     = "iin"     // waiting for the IIN; Phone holds the shared number
	stateConsent = "consent" // linked, waiting for Agree / Decline
	stateMenu    = "menu"    // linked: the main menu
)

// Session is a user's conversation state, kept in Redis with a time to live.
// It holds only what the current step needs and what saves a look-up; the
// link itself lives in PostgreSQL, so a lost session costs a step, no more.
type Session struct {
	State  string `json:"s,omitempty"`
	Lang   string `json:"l,omitempty"`
	Member int64  `json:"m,omitempty"`
	Family string `json:"f,omitempty"`
	City   string `json:"c,omitempty"`
	Phone  string `json:"p,omitempty"` // between the contact and the IIN only
	Step   int    `json:"k,omitempty"` // the message whose buttons the current step waits on
}

// Linked reports whether the session belongs to a linked member.
func (s *Session) Linked() bool { return s.Member != 0 }

func (s *Session) link(l wallet.TelegramLink) {
	s.Member, s.Family, s.City, s.Lang = l.MemberID, l.FamilyID, l.City, l.Lang
	s.Phone = ""
}

// req is one update being handled.
type req struct {
	ctx  context.Context
	upd  tgbotapi.Update
	msg  *tgbotapi.Message       // a message from the user
	cq   *tgbotapi.CallbackQuery // or a button press
	user *tgbotapi.User
	chat int64
	s    Session
	// fresh: no session was found (new user, expired, or Redis lost it).
	fresh    bool
	loaded   []byte
	answered bool   // the button press was answered
	outcome  string // for the log and metrics when not ok: refused, unavailable, send_failed
}

func (r *req) lang() string { return r.s.Lang }

// newReq picks who and where an update is from; nil for what the bot does not
// talk to (groups, channels, other bots, edits).
func (b *Bot) newReq(ctx context.Context, u tgbotapi.Update) *req {
	r := &req{ctx: ctx, upd: u}
	switch {
	case u.Message != nil:
		r.msg, r.user = u.Message, u.Message.From
		if u.Message.Chat == nil || u.Message.Chat.Type != "private" {
			return nil
		}
		r.chat = u.Message.Chat.ID
	case u.CallbackQuery != nil:
		r.cq, r.user = u.CallbackQuery, u.CallbackQuery.From
		if r.user == nil {
			return nil
		}
		r.chat = r.user.ID
		if m := u.CallbackQuery.Message; m != nil && m.Chat != nil {
			if m.Chat.Type != "" && m.Chat.Type != "private" {
				return nil
			}
			r.chat = m.Chat.ID
		}
	default:
		return nil
	}
	if r.user == nil || r.user.IsBot {
		return nil
	}
	return r
}

// chatOf is the key that keeps one chat's updates in order.
func chatOf(u tgbotapi.Update) int64 {
	switch {
	case u.Message != nil && u.Message.Chat != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil && u.CallbackQuery.Message.Chat != nil:
		return u.CallbackQuery.Message.Chat.ID
	case u.CallbackQuery != nil && u.CallbackQuery.From != nil:
		return u.CallbackQuery.From.ID
	}
	return 0
}

// loadSession decodes the user's session; without one it rebuilds what it
// can from the link in PostgreSQL (a linked user goes on at the menu).
func (b *Bot) loadSession(r *req, raw []byte) {
	if raw != nil && json.Unmarshal(raw, &r.s) == nil && wallet.ValidLang(r.s.Lang) {
		r.loaded = raw
		return
	}
	r.s = Session{Lang: locales.Lang(r.user.LanguageCode)}
	r.fresh = true
	l, err := b.w.TelegramLink(r.ctx, r.user.ID)
	switch {
	case err == nil:
		r.s.link(l)
		r.s.State = stateMenu
	case !wallet.IsCode(err, wallet.CodeNotFound):
		b.log.Warn("bot: look up link", "update", r.upd.UpdateID, "err", err)
	}
}

// saveSession writes the session back when it changed.
func (b *Bot) saveSession(r *req) {
	raw, err := json.Marshal(r.s)
	if err != nil || bytes.Equal(raw, r.loaded) {
		return
	}
	if err := b.sessions.Save(r.ctx, r.user.ID, raw); err != nil {
		b.log.Warn("bot: save session", "update", r.upd.UpdateID, "err", err)
	}
}
