package bot

import (
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// consentTextID is the message ID of the consent text of a version: a new
// version of the text is a new message, so an answer always refers to the
// words that were shown.
func consentTextID(version string) string {
	return "consent_text_" + strings.NewReplacer("-", "_", ".", "_").Replace(version)
}

func (b *Bot) consentText(lang string) string {
	return b.t(lang, consentTextID(b.prog.ConsentVersion), nil) + "\n\n" +
		b.t(lang, "consent_version", map[string]any{"Version": b.prog.ConsentVersion})
}

// consentStatus is the line under the text saying where the member stands.
func (b *Bot) consentStatus(lang string, cs wallet.ConsentState) string {
	switch {
	case cs.Consent.Active():
		return b.t(lang, "consent_status_given", map[string]any{"Date": locales.Date(lang, cs.Consent.GivenAt.In(b.prog.Location))})
	case cs.Declined():
		return b.t(lang, "consent_status_declined", map[string]any{"Date": locales.Date(lang, cs.DeclinedAt.In(b.prog.Location))})
	case !cs.Consent.RevokedAt.IsZero():
		return b.t(lang, "consent_status_revoked", map[string]any{"Date": locales.Date(lang, cs.Consent.RevokedAt.In(b.prog.Location))})
	}
	return b.t(lang, "consent_status_none", nil)
}

func (b *Bot) consentView(lang string, cs wallet.ConsentState) (string, tgbotapi.InlineKeyboardMarkup) {
	text := b.consentText(lang) + "\n\n" + b.consentStatus(lang, cs)
	if cs.Consent.Active() {
		return text, b.revokeButton(lang)
	}
	return text, b.consentButtons(lang)
}

// consentScreen is /consent: the text, where the member stands, and the
// buttons to agree, decline or revoke.
func (b *Bot) consentScreen(r *req) {
	cs, err := b.w.ConsentState(r.ctx, r.s.Member)
	if err != nil {
		b.fail(r, "consent state", err)
		return
	}
	text, kb := b.consentView(r.lang(), cs)
	b.say(r, text, kb)
}

// onConsent handles Agree, Decline, Revoke and "read the consent". An answer
// is recorded with the version it was given to; a button of an older text
// shows the current one instead.
func (b *Bot) onConsent(r *req, arg string) {
	if !r.s.Linked() {
		return
	}
	lang := r.lang()
	action, version, _ := strings.Cut(arg, ":")
	switch action {
	case "show":
		b.answer(r, "")
		b.consentScreen(r)
		return
	case "yes", "no":
		if version != b.prog.ConsentVersion {
			cs, err := b.w.ConsentState(r.ctx, r.s.Member)
			if err != nil {
				b.fail(r, "consent state", err)
				return
			}
			b.answer(r, b.t(lang, "consent_outdated", nil))
			text, kb := b.consentView(lang, cs)
			b.edit(r, text, &kb)
			return
		}
		var err error
		if action == "yes" {
			err = b.w.GiveConsent(r.ctx, r.s.Member)
		} else {
			err = b.w.DeclineConsent(r.ctx, r.s.Member)
		}
		if err != nil {
			b.fail(r, "consent answer", err)
			return
		}
		cs, err := b.w.ConsentState(r.ctx, r.s.Member)
		if err != nil {
			b.fail(r, "consent state", err)
			return
		}
		onboarding := r.s.State == stateConsent
		r.s.State, r.s.Step = stateMenu, 0
		if action == "yes" {
			b.answer(r, b.t(lang, "consent_thanks", nil))
			b.edit(r, b.consentText(lang)+"\n\n"+b.consentStatus(lang, cs), nil)
			if onboarding {
				b.sayT(r, "menu_intro", nil, b.mainMenu(lang))
			}
			return
		}
		b.answer(r, b.t(lang, "consent_declined_short", nil))
		b.edit(r, b.consentText(lang)+"\n\n"+b.consentStatus(lang, cs), nil)
		b.sayT(r, "consent_declined", nil, b.mainMenu(lang))
	case "revoke":
		cs, err := b.w.ConsentState(r.ctx, r.s.Member)
		if err != nil {
			b.fail(r, "consent state", err)
			return
		}
		if cs.Consent.Active() {
			if err := b.w.RevokeConsent(r.ctx, r.s.Member); err != nil {
				b.fail(r, "revoke consent", err)
				return
			}
			if cs, err = b.w.ConsentState(r.ctx, r.s.Member); err != nil {
				b.fail(r, "consent state", err)
				return
			}
		}
		b.answer(r, b.t(lang, "consent_revoked_short", nil))
		text, kb := b.consentView(lang, cs)
		b.edit(r, text, &kb)
	}
}

// needConsent tells a member without consent that the screen needs it.
func (b *Bot) needConsent(r *req, o wallet.Overview) bool {
	if o.Member.Consent.Active() {
		return false
	}
	kb := b.showConsentButton(r.lang())
	b.sayT(r, "consent_required", nil, kb)
	return true
}
