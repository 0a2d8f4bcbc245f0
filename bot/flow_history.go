package bot

import (
	"strings"

	"socialwallet/locales"
)

// historyLimit is how many purchases the History screen lists.
const historyLimit = 10

// history is the History screen: the family's last purchases, with the store,
// the date, what the vouchers paid and what the discount saved.
func (b *Bot) history(r *req) {
	lang := r.lang()
	cs, err := b.w.ConsentState(r.ctx, r.s.Member)
	if err != nil {
		b.fail(r, "consent state", err)
		return
	}
	if !cs.Consent.Active() {
		b.sayT(r, "consent_required", nil, b.showConsentButton(lang))
		return
	}
	ps, err := b.w.History(r.ctx, r.s.Family, historyLimit)
	if err != nil {
		b.fail(r, "history", err)
		return
	}
	if len(ps) == 0 {
		b.sayT(r, "history_empty", nil, nil)
		return
	}
	var sb strings.Builder
	sb.WriteString(b.t(lang, "history_title", nil))
	for _, p := range ps {
		data := map[string]any{
			"Date":  locales.DateTime(lang, p.At),
			"Store": p.Store,
			"Paid":  locales.Money(p.Covered),
			"Saved": locales.Money(p.Discount),
		}
		sb.WriteString("\n\n" + b.t(lang, "history_line", data))
		if p.ToPay > 0 {
			sb.WriteString("\n" + b.t(lang, "history_topay", map[string]any{"Amount": locales.Money(p.ToPay)}))
		}
		if p.Voided {
			sb.WriteString("\n" + b.t(lang, "history_voided", nil))
		}
	}
	b.say(r, sb.String(), nil)
}
