package bot

import (
	"strings"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// overview loads what the member sees of their family now.
func (b *Bot) overview(r *req) (wallet.Overview, bool) {
	o, err := b.w.Overview(r.ctx, r.s.Family, r.s.Member)
	if err != nil {
		b.fail(r, "overview", err)
		return o, false
	}
	return o, true
}

// balance is the Balance screen: what the family may spend, this month's
// voucher of each member, and the deadline with the days left.
func (b *Bot) balance(r *req) {
	o, ok := b.overview(r)
	if !ok || b.needConsent(r, o) {
		return
	}
	lang := r.lang()
	var sb strings.Builder
	sb.WriteString(b.t(lang, "balance_total", map[string]any{"Amount": locales.Money(o.Remaining)}))
	switch {
	case !o.Running:
		sb.WriteString("\n\n" + b.notRunning(lang, o))
	case len(o.Vouchers) == 0:
		sb.WriteString("\n\n" + b.t(lang, "no_vouchers_yet", map[string]any{"Month": locales.Month(lang, o.Period)}))
	default:
		sb.WriteString("\n\n" + b.t(lang, "balance_month", map[string]any{"Month": locales.Month(lang, o.Period)}))
		waiting := false
		for _, v := range o.Vouchers {
			m, _ := o.MemberByID(v.MemberID)
			sb.WriteString("\n• " + wallet.ShortName(m.FullName) + " — " + b.voucherState(lang, v))
			waiting = waiting || v.State == wallet.StateIssued
		}
		if waiting {
			sb.WriteString("\n\n" + b.deadline(lang, o))
		}
	}
	var kb any
	if len(o.Activatable) > 0 {
		kb = b.activateButton(lang, o.Period)
	}
	b.say(r, sb.String(), kb)
}

// voucherState says where a voucher stands, in a few words.
func (b *Bot) voucherState(lang string, v wallet.Voucher) string {
	switch v.State {
	case wallet.StateActivated:
		return b.t(lang, "v_activated", map[string]any{"Amount": locales.Money(v.Balance)})
	case wallet.StateIssued:
		return b.t(lang, "v_waiting", map[string]any{"Amount": locales.Money(v.Amount)})
	case wallet.StateSpent:
		return b.t(lang, "v_spent", nil)
	case wallet.StateAnnulled:
		return b.t(lang, "v_annulled", nil)
	case wallet.StateExpired:
		return b.t(lang, "v_expired", nil)
	}
	return string(v.State)
}

// deadline is "until 31 January, 5 days left".
func (b *Bot) deadline(lang string, o wallet.Overview) string {
	return b.t(lang, "deadline", map[string]any{
		"Date": locales.LastDay(lang, b.prog, o.Period),
		"Left": b.t(lang, "days", nil, o.DaysLeft),
	})
}

// notRunning explains a month outside the programme: before it starts, or
// after it ended.
func (b *Bot) notRunning(lang string, o wallet.Overview) string {
	if !o.Next.IsZero() {
		return b.t(lang, "program_starts", map[string]any{"Date": locales.Date(lang, o.Next.In(b.prog.Location))})
	}
	return b.t(lang, "program_ended", map[string]any{"Date": locales.Date(lang, b.prog.End.Add(-1).In(b.prog.Location))})
}
