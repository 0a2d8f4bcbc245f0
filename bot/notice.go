package bot

import (
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// RenderNotice renders a notice the service sends on its own initiative
// (issued, reminder, annulled, expired, frozen) in the recipient's language.
// A reminder carries the Activate button ("act:YYYY-MM"), which the bot's
// activate route handles by editing the reminder in place. Receipts and
// voids are rendered by RenderReceipt.
func RenderNotice(b *locales.Bundle, prog *wallet.Program, n wallet.Notice) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	lang := locales.Lang(n.Lang)
	lines, err := noticeLines(b, lang, n.Lines)
	if err != nil {
		return "", nil, err
	}
	data := map[string]any{"Lines": lines, "Total": locales.Money(n.Total())}
	var id string
	var kb *tgbotapi.InlineKeyboardMarkup
	switch n.Kind {
	case wallet.NoticeIssued:
		id = "notice_issued"
		data["Month"] = locales.Month(lang, n.Period)
		data["LastDay"] = locales.LastDay(lang, prog, n.Period)
	case wallet.NoticeReminder:
		id = "notice_reminder"
		data["LastDay"] = locales.LastDay(lang, prog, n.Period)
		left := prog.DaysLeft(n.Period, n.Now)
		days, err := b.Render(lang, "days", nil, left)
		if err != nil {
			return "", nil, err
		}
		data["Left"] = days
		label, err := b.Render(lang, "notice_activate_button", nil)
		if err != nil {
			return "", nil, err
		}
		m := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(label, ActivateData(n.Period))))
		kb = &m
	case wallet.NoticeAnnulled:
		id = "notice_annulled"
		data["Month"] = locales.Month(lang, n.Period)
		data["LastDay"] = locales.LastDay(lang, prog, n.Period)
		if n.NextIssue.IsZero() {
			id = "notice_annulled_last"
		} else {
			data["Next"] = locales.Date(lang, n.NextIssue.In(prog.Location))
		}
	case wallet.NoticeExpired:
		id = "notice_expired"
		data["Date"] = locales.Date(lang, n.ExpiredAt.In(prog.Location).Add(-time.Second))
	case wallet.NoticeFrozen:
		id = "notice_frozen"
		data["Help"], err = cityHelp(b, prog, lang, n.City)
		if err != nil {
			return "", nil, err
		}
	default:
		return "", nil, fmt.Errorf("bot: no notice text for %q", n.Kind)
	}
	text, err := b.Render(lang, id, data)
	if err != nil {
		return "", nil, err
	}
	return text, kb, nil
}

// noticeLines lists whose vouchers and how much, one per line, the
// recipient's own as "you".
func noticeLines(b *locales.Bundle, lang string, lines []wallet.NoticeLine) (string, error) {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		id := "notice_line"
		if l.Self {
			id = "notice_line_self"
		}
		s, err := b.Render(lang, id, map[string]any{"Name": l.Name, "Amount": locales.Money(l.Amount)})
		if err != nil {
			return "", err
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n"), nil
}

// cityHelp is where a member of the family's city turns: the programme's
// department for the city, or a general line.
func cityHelp(b *locales.Bundle, prog *wallet.Program, lang, city string) (string, error) {
	if c, ok := prog.City(city); ok {
		h := c.HelpRU
		if lang == "kk" {
			h = c.HelpKK
		}
		if h != "" {
			return h, nil
		}
	}
	return b.Render(lang, "notice_help_default", nil)
}
