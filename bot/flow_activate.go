package bot

import (
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// activateScreen is the Activate screen: what this person may activate now
// (their own voucher, and the minors' when they are the applicant), the
// amount, the deadline and one button.
func (b *Bot) activateScreen(r *req) {
	o, ok := b.overview(r)
	if !ok {
		return
	}
	text, kb := b.activateView(r.lang(), o)
	if kb != nil {
		b.say(r, text, *kb)
		return
	}
	b.say(r, text, nil)
}

func (b *Bot) activateView(lang string, o wallet.Overview) (string, *tgbotapi.InlineKeyboardMarkup) {
	month := locales.Month(lang, o.Period)
	switch {
	case !o.Running:
		return b.notRunning(lang, o), nil
	case !o.Member.Consent.Active():
		kb := b.showConsentButton(lang)
		var waits wallet.Tiyn
		for _, v := range b.prog.MayActivateWithConsent(o) {
			waits += v.Amount
		}
		if waits == 0 {
			return b.t(lang, "consent_required", nil), &kb
		}
		return b.t(lang, "act_need_consent", map[string]any{"Amount": locales.Money(waits), "Month": month}), &kb
	case len(o.Activatable) == 0:
		return b.nothingToActivate(lang, o), nil
	}
	var sb strings.Builder
	sb.WriteString(b.t(lang, "act_offer", map[string]any{"Month": month}))
	for _, v := range o.Activatable {
		m, _ := o.MemberByID(v.MemberID)
		sb.WriteString("\n• " + wallet.ShortName(m.FullName) + " — " + locales.Money(v.Amount))
	}
	sb.WriteString("\n" + b.t(lang, "act_total", map[string]any{"Amount": locales.Money(o.ActivatableAmount())}))
	sb.WriteString("\n" + b.deadline(lang, o))
	sb.WriteString("\n\n" + b.t(lang, "act_confirm_line", nil))
	kb := b.activateButton(lang, o.Period)
	return sb.String(), &kb
}

// nothingToActivate explains an empty Activate screen.
func (b *Bot) nothingToActivate(lang string, o wallet.Overview) string {
	month := locales.Month(lang, o.Period)
	if len(o.Vouchers) == 0 {
		return b.t(lang, "no_vouchers_yet", map[string]any{"Month": month})
	}
	if v, ok := o.VoucherOf(o.Member.ID); ok && v.State != wallet.StateIssued {
		return b.t(lang, "act_all_done", map[string]any{"Month": month, "Amount": locales.Money(o.Remaining)})
	}
	return b.t(lang, "act_nothing", map[string]any{"Month": month})
}

// onActivate is the Activate button, act:<YYYY-MM>, pressed on our screen or
// on a reminder: it activates everything this person may for that month, then
// answers the press and edits that message in place — two calls at most,
// since every message counts against Telegram's cap.
func (b *Bot) onActivate(r *req, arg string) {
	p, err := wallet.ParsePeriod(arg)
	if err != nil {
		return // not our button
	}
	lang := r.lang()
	if !r.s.Linked() {
		b.answer(r, b.t(lang, "not_linked_short", nil))
		return
	}
	done, err := b.w.Activate(r.ctx, r.s.Member, p)
	o, oerr := b.w.Overview(r.ctx, r.s.Family, r.s.Member)
	if oerr != nil {
		b.fail(r, "overview", oerr)
		return
	}
	switch {
	case err == nil:
		var total wallet.Tiyn
		for _, v := range done {
			total += v.Amount
		}
		b.answer(r, b.t(lang, "act_done_short", map[string]any{"Amount": locales.Money(total)}))
		b.edit(r, b.activatedText(lang, o, p), nil)
	case wallet.IsCode(err, wallet.CodeConflict):
		// A second tap, or someone else was first: say how things stand.
		b.answer(r, b.t(lang, "act_already", nil))
		b.edit(r, b.activatedText(lang, o, p), nil)
	case wallet.IsCode(err, wallet.CodeDeadlinePassed), wallet.IsCode(err, wallet.CodeOutsideProgram):
		text, kb := b.closedText(lang, o, p)
		b.answer(r, b.t(lang, "act_closed_short", map[string]any{"Month": locales.Month(lang, p)}))
		b.edit(r, text, kb)
	case wallet.IsCode(err, wallet.CodeConsentRequired):
		kb := b.showConsentButton(lang)
		b.answer(r, b.t(lang, "consent_required_short", nil))
		b.edit(r, b.t(lang, "consent_required", nil), &kb)
	case wallet.IsCode(err, wallet.CodeForbidden), wallet.IsCode(err, wallet.CodeNotFound):
		b.answer(r, b.t(lang, "act_nothing_short", nil))
		b.edit(r, b.t(lang, "act_nothing", map[string]any{"Month": locales.Month(lang, p)}), nil)
	default:
		b.fail(r, "activate", err)
	}
}

// activatedText lists what this person activated for p and what the family
// may spend now.
func (b *Bot) activatedText(lang string, o wallet.Overview, p wallet.Period) string {
	var sb strings.Builder
	sb.WriteString(b.t(lang, "act_done", map[string]any{"Month": locales.Month(lang, p)}))
	for _, v := range o.Family.Vouchers {
		if v.Period != p || v.ActivatedBy != o.Member.ID || v.ActivatedAt.IsZero() {
			continue
		}
		m, _ := o.MemberByID(v.MemberID)
		sb.WriteString("\n• " + wallet.ShortName(m.FullName) + " — " + locales.Money(v.Amount))
	}
	sb.WriteString("\n\n" + b.t(lang, "balance_total", map[string]any{"Amount": locales.Money(o.Remaining)}))
	sb.WriteString("\n" + b.t(lang, "qr_hint", nil))
	return sb.String()
}

// closedText says that p can no longer be activated and when the next
// vouchers come; if this month's may be activated now, it offers them.
func (b *Bot) closedText(lang string, o wallet.Overview, p wallet.Period) (string, *tgbotapi.InlineKeyboardMarkup) {
	text := b.t(lang, "act_closed", map[string]any{"Month": locales.Month(lang, p), "Date": locales.LastDay(lang, b.prog, p)})
	next := p.Next()
	switch {
	case o.Running && o.Period != p && len(o.Activatable) > 0 && o.Member.Consent.Active():
		kb := b.activateButton(lang, o.Period)
		return text + "\n\n" + b.t(lang, "act_next_now", map[string]any{
			"Month": locales.Month(lang, o.Period), "Amount": locales.Money(o.ActivatableAmount())}), &kb
	case b.prog.CheckPeriod(next) == nil:
		return text + "\n" + b.t(lang, "act_next_on", map[string]any{
			"Month": locales.Month(lang, next), "Date": locales.Date(lang, b.prog.PeriodStart(next).In(b.prog.Location))}), nil
	}
	return text + "\n" + b.t(lang, "program_ended", map[string]any{"Date": locales.Date(lang, b.prog.End.Add(-1).In(b.prog.Location))}), nil
}
