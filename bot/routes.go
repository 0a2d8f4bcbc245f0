package bot

import (
	"strings"
)

// The whole conversation, one file per flow:
//
//	/start ─► language ─► phone (contact button) ─► IIN ─► consent ─► main menu   flow_start.go, flow_consent.go
//
//	main menu (reply keyboard; the same as commands):
//	  Balance   /balance    the family's remaining value, this month's vouchers  flow_balance.go
//	  Activate  /activate   what this person may activate, one button           flow_activate.go
//	  QR code   /qr         a one-time code to show at the till                 flow_qr.go
//	  Family    /family     members, linked or not, who has activated           flow_family.go
//	  History   /history    the last purchases                                  flow_history.go
//	  Stores    /stores     merchants of the city; a location gives the nearest flow_stores.go
//	  Language  /language   Қазақша / Русский                                   flow_start.go
//	  Help      /help       the programme, where to turn, privacy               flow_help.go
//	            /consent    the consent text; agree, decline or revoke          flow_consent.go
//
//	buttons (callback data):
//	  lang:<kk|ru>               the language picker
//	  consent:yes|no:<version>   Agree / Decline
//	  consent:revoke, consent:show
//	  act:<YYYY-MM>              Activate, on our screen or on a reminder from the jobs
//	  notme:<redemption id>      "Not me" on a receipt                              flow_notme.go
//
// Anything else — a photo, a sticker, a command out of turn, an old or
// foreign button — gets a short answer and changes nothing (flow_other.go).

// flow handles one update.
type flow func(b *Bot, r *req)

// commands are the slash commands and, through menu texts, the menu buttons.
var commands = map[string]flow{
	"start":    (*Bot).start,
	"menu":     linked((*Bot).showMenu),
	"balance":  linked((*Bot).balance),
	"activate": linked((*Bot).activateScreen),
	"qr":       linked((*Bot).qr),
	"family":   linked((*Bot).family),
	"history":  linked((*Bot).history),
	"stores":   linked((*Bot).stores),
	"consent":  linked((*Bot).consentScreen),
	"language": (*Bot).languagePicker,
	"help":     (*Bot).help,
}

// buttons are the inline buttons by the prefix of their data.
var buttons = map[string]func(b *Bot, r *req, arg string){
	"lang":    (*Bot).onLanguage,
	"consent": (*Bot).onConsent,
	"act":     (*Bot).onActivate,
	"notme":   (*Bot).onNotMe,
}

// route sends an update to its flow.
func (b *Bot) route(r *req) {
	if r.cq != nil {
		prefix, arg, _ := strings.Cut(r.cq.Data, ":")
		if f, ok := buttons[prefix]; ok {
			f(b, r, arg)
		}
		b.answer(r, b.t(r.lang(), "old_button", nil)) // unless the flow answered
		return
	}
	m := r.msg
	switch {
	case m.Contact != nil:
		b.onContact(r)
	case m.Location != nil:
		linked((*Bot).onLocation)(b, r)
	case m.IsCommand():
		if f, ok := commands[strings.ToLower(m.Command())]; ok {
			f(b, r)
			return
		}
		b.unknownCommand(r)
	case m.Text != "":
		if cmd, ok := b.menu[strings.TrimSpace(m.Text)]; ok {
			commands[cmd](b, r)
			return
		}
		b.onText(r)
	default:
		b.notUnderstood(r)
	}
}

// linked lets f run only for a linked user; others are told to finish
// linking first, and nothing changes.
func linked(f flow) flow {
	return func(b *Bot, r *req) {
		if !r.s.Linked() {
			b.notYet(r)
			return
		}
		f(b, r)
	}
}
