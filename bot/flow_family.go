package bot

import (
	"strings"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// family is the Family screen: each member with their masked IIN, whether
// they use the bot, and where their voucher of the month stands.
func (b *Bot) family(r *req) {
	o, ok := b.overview(r)
	if !ok || b.needConsent(r, o) {
		return
	}
	lang := r.lang()
	var sb strings.Builder
	sb.WriteString(b.t(lang, "family_title", map[string]any{"Count": len(o.Family.Members)}, len(o.Family.Members)))
	for _, m := range o.Family.Members {
		sb.WriteString("\n\n• " + wallet.ShortName(m.FullName) + " · " + wallet.MaskIIN(m.IINLast4))
		var notes []string
		if m.Role == wallet.RoleApplicant {
			notes = append(notes, b.t(lang, "family_applicant", nil))
		}
		if m.ID == o.Member.ID {
			notes = append(notes, b.t(lang, "family_you", nil))
		}
		if m.Linked {
			notes = append(notes, b.t(lang, "family_linked", nil))
		} else {
			notes = append(notes, b.t(lang, "family_not_linked", nil))
		}
		sb.WriteString("\n  " + strings.Join(notes, " · "))
		if v, ok := o.VoucherOf(m.ID); ok && o.Running {
			sb.WriteString("\n  " + locales.Month(lang, o.Period) + ": " + b.voucherState(lang, v))
		}
	}
	b.say(r, sb.String(), nil)
}
