package bot

// showMenu brings back the main menu keyboard (the "Back" button, /menu).
func (b *Bot) showMenu(r *req) {
	b.sayT(r, "menu_back", nil, b.mainMenu(r.lang()))
}

// onText is text that is neither a command nor a menu button: the IIN when
// it is awaited, otherwise a short hint for the step the user is on.
func (b *Bot) onText(r *req) {
	lang := r.lang()
	switch r.s.State {
	case stateIIN:
		b.onIIN(r)
	case statePhone:
		b.sayT(r, "use_contact_button", nil, b.contactKeyboard(lang))
	case stateLang:
		b.sayT(r, "use_lang_buttons", nil, nil)
	case stateConsent:
		b.sayT(r, "consent_use_buttons", nil, nil)
	case stateMenu:
		b.sayT(r, "use_menu", nil, b.mainMenu(lang))
	default:
		if r.fresh && looksLikeIIN(r.msg.Text) {
			// An IIN after the session was lost: the phone it goes with
			// is gone, so that step is asked again.
			b.deleteMessage(r, r.msg.MessageID)
			r.s.State = statePhone
			b.sayT(r, "session_lost", nil, b.contactKeyboard(lang))
			return
		}
		b.start(r)
	}
}

// notYet answers a menu command before linking is finished, and changes
// nothing: the user is reminded of the step they are on.
func (b *Bot) notYet(r *req) {
	lang := r.lang()
	switch r.s.State {
	case statePhone:
		b.sayT(r, "finish_linking_phone", nil, b.contactKeyboard(lang))
	case stateIIN:
		b.sayT(r, "finish_linking_iin", nil, nil)
	case stateLang:
		b.sayT(r, "use_lang_buttons", nil, nil)
	default:
		b.sayT(r, "finish_linking_start", nil, nil)
	}
}

// unknownCommand answers a command the bot does not have.
func (b *Bot) unknownCommand(r *req) {
	if r.s.Linked() {
		b.sayT(r, "unknown_command", nil, b.mainMenu(r.lang()))
		return
	}
	b.notYet(r)
}

// notUnderstood answers a photo, a sticker, a voice message and the like.
func (b *Bot) notUnderstood(r *req) {
	if r.s.Linked() {
		b.sayT(r, "not_understood", nil, nil)
		return
	}
	b.notYet(r)
}
