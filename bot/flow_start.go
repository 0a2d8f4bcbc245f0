package bot

import (
	"strings"
	"time"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// start is /start. A linked user is welcomed back to the menu, and their
// earlier block of the bot (recorded by the sender on a 403) is forgotten.
// Anyone else begins linking: the language first.
func (b *Bot) start(r *req) {
	l, err := b.w.TelegramLink(r.ctx, r.user.ID)
	switch {
	case err == nil:
		r.s = Session{State: stateMenu}
		r.s.link(l)
		if err := b.w.Returned(r.ctx, r.user.ID, r.chat); err != nil {
			b.log.Warn("bot: clear block", "update", r.upd.UpdateID, "err", err)
		}
		b.sayT(r, "welcome_back", nil, b.mainMenu(r.lang()))
		return
	case !wallet.IsCode(err, wallet.CodeNotFound):
		b.fail(r, "start", err)
		return
	}
	lang := r.s.Lang
	if r.fresh {
		lang = locales.Lang(r.user.LanguageCode)
	}
	r.s = Session{State: stateLang, Lang: lang}
	b.pickLanguage(r, "choose_language")
}

// languagePicker is the Language menu item (and /language). During linking
// a new language starts the contact step again.
func (b *Bot) languagePicker(r *req) {
	b.pickLanguage(r, "choose_language_again")
}

func (b *Bot) pickLanguage(r *req, id string) {
	if m, err := b.sayT(r, id, nil, b.langPicker(r.lang())); err == nil {
		r.s.Step = m
	}
}

// onLanguage is a press of Қазақша / Русский. Only the latest picker counts
// (or any, when the session was lost); an older one is an old button.
func (b *Bot) onLanguage(r *req, lang string) {
	if !wallet.ValidLang(lang) || r.cq.Message == nil || (!r.fresh && r.cq.Message.MessageID != r.s.Step) {
		return
	}
	if r.s.Linked() {
		if err := b.w.SetLanguage(r.ctx, r.user.ID, lang); err != nil {
			b.fail(r, "set language", err)
			return
		}
	}
	r.s.Lang, r.s.Step = lang, 0
	b.answer(r, b.t(lang, "lang_set", nil))
	b.edit(r, b.t(lang, "lang_chosen", nil), nil)
	if r.s.Linked() {
		b.sayT(r, "lang_changed", nil, b.mainMenu(lang))
		return
	}
	r.s.State = statePhone
	b.sayT(r, "ask_phone", nil, b.contactKeyboard(lang))
}

// onContact is the shared contact: only the user's own number is accepted,
// and only a number the registry knows moves on to the IIN.
func (b *Bot) onContact(r *req) {
	if r.s.Linked() {
		b.sayT(r, "already_linked", nil, b.mainMenu(r.lang()))
		return
	}
	c := r.msg.Contact
	if c.UserID != r.user.ID {
		r.s.State = statePhone
		b.sayT(r, "contact_not_own", nil, b.contactKeyboard(r.lang()))
		return
	}
	if b.linkLocked(r) {
		return
	}
	phone, err := wallet.CheckPhone(c.PhoneNumber)
	if err != nil {
		b.sayT(r, "phone_not_kz", b.helpData(r), b.contactKeyboard(r.lang()))
		return
	}
	known, err := b.w.PhoneKnown(r.ctx, phone)
	if err != nil {
		b.fail(r, "phone known", err)
		return
	}
	if !known {
		r.s.State = statePhone
		b.linkFailed(r, "phone_unknown")
		return
	}
	r.s.State, r.s.Phone, r.s.Step = stateIIN, phone, 0
	b.sayT(r, "ask_iin", nil, tgbotapi.NewRemoveKeyboard(true))
}

// onIIN is the IIN typed after the phone. A wrong checksum is answered at
// once; a valid IIN that does not match counts as a failed attempt.
func (b *Bot) onIIN(r *req) {
	text := r.msg.Text
	// The IIN is personal: once read it leaves the chat.
	defer b.deleteMessage(r, r.msg.MessageID)
	if b.linkLocked(r) {
		return
	}
	if _, err := wallet.CheckIIN(text); err != nil {
		b.sayT(r, "iin_invalid", nil, nil)
		return
	}
	res, err := b.w.LinkTelegram(r.ctx, wallet.LinkRequest{
		TelegramUserID: r.user.ID, ChatID: r.chat, Lang: r.lang(), Phone: r.s.Phone, IIN: text,
	})
	switch {
	case wallet.IsCode(err, wallet.CodeNotFound):
		b.linkFailed(r, "iin_no_match")
		return
	case err != nil:
		b.fail(r, "link", err)
		return
	}
	if err := b.attempts.Reset(r.ctx, r.user.ID); err != nil {
		b.log.Warn("bot: reset link attempts", "update", r.upd.UpdateID, "err", err)
	}
	if res.Replaced != 0 && res.Replaced != r.user.ID {
		// The member moved to this account: the old one must not act for them.
		if err := b.sessions.Delete(r.ctx, res.Replaced); err != nil {
			b.log.Warn("bot: forget replaced session", "update", r.upd.UpdateID, "err", err)
		}
	}
	r.s = Session{State: stateConsent}
	r.s.link(res.Link)
	name := wallet.ShortName(res.Member.FullName)
	cs, err := b.w.ConsentState(r.ctx, res.Member.ID)
	if err == nil && cs.Consent.Active() && cs.Consent.Version == b.prog.ConsentVersion {
		r.s.State = stateMenu
		b.sayT(r, "linked_again", map[string]any{"Name": name}, b.mainMenu(r.lang()))
		return
	}
	text = b.t(r.lang(), "linked", map[string]any{"Name": name}) + "\n\n" + b.consentText(r.lang())
	if m, err := b.say(r, text, b.consentButtons(r.lang())); err == nil {
		r.s.Step = m
	}
}

// linkLocked tells a user locked out of linking until when, and reports it.
func (b *Bot) linkLocked(r *req) bool {
	until, locked, err := b.attempts.Locked(r.ctx, r.user.ID, b.now())
	if err != nil {
		b.log.Warn("bot: link lock", "update", r.upd.UpdateID, "err", err)
		return false
	}
	if locked {
		b.sayT(r, "link_locked", b.untilData(r, until), nil)
	}
	return locked
}

// linkFailed counts a failed match and says so, with where to turn.
func (b *Bot) linkFailed(r *req, id string) {
	left, until, err := b.attempts.Fail(r.ctx, r.user.ID, b.now())
	if err != nil {
		b.log.Warn("bot: count link failure", "update", r.upd.UpdateID, "err", err)
	}
	data := b.helpData(r)
	if !until.IsZero() {
		r.s.State, r.s.Phone = statePhone, ""
		for k, v := range b.untilData(r, until) {
			data[k] = v
		}
		b.sayT(r, id+"_locked", data, b.contactKeyboard(r.lang()))
		return
	}
	data["Left"] = left
	var kb any
	if r.s.State == statePhone {
		kb = b.contactKeyboard(r.lang())
	}
	b.sayT(r, id, data, kb)
}

func (b *Bot) untilData(r *req, until time.Time) map[string]any {
	t := until.In(b.prog.Location)
	return map[string]any{"Until": t.Format("15:04"), "UntilDate": locales.Date(r.lang(), t)}
}

// looksLikeIIN reports whether a text is mostly digits, as an IIN typed
// after the session was lost would be.
func looksLikeIIN(s string) bool {
	n := 0
	for _, c := range s {
		if unicode.IsDigit(c) {
			n++
		}
	}
	return n >= 10 && n*2 > len([]rune(strings.TrimSpace(s)))
}
