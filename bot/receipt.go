package bot

import (
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// RenderReceipt is the message the recipient who showed the code gets after
// a purchase, in lang: the store, the lines at the store's price, what the
// vouchers paid and the discount saved, what was paid otherwise, and what the
// family has left; after a void, what came back. Plain text (no parse mode),
// with the "Not me" button (notme:<redemption id>).
func RenderReceipt(b *locales.Bundle, lang string, r wallet.Receipt) (text string, markup tgbotapi.InlineKeyboardMarkup) {
	lang = locales.Lang(lang)
	sum := func(id string, t wallet.Tiyn) string { return b.T(lang, id, map[string]any{"Sum": locales.Money(t)}) }
	var out []string
	if r.Voided {
		out = append(out, b.T(lang, "receipt_void_title", map[string]any{"Store": r.Store, "When": locales.DateTime(lang, r.At)}))
	} else {
		out = append(out, b.T(lang, "receipt_title", map[string]any{"Store": r.Store, "When": locales.DateTime(lang, r.At)}))
	}
	out = append(out, "")
	for _, l := range r.Lines {
		out = append(out, b.T(lang, "receipt_line", map[string]any{
			"Name": l.Product.Name(lang),
			"Qty":  quantity(l.QtyMilli) + "\u00a0" + b.T(lang, "unit_"+string(l.Product.Unit), nil),
			"Sum":  locales.Money(l.Net),
		}))
	}
	out = append(out, "", sum("receipt_gross", r.Gross))
	if r.Mode == wallet.ModeDiscount {
		out = append(out, sum("receipt_discount_voucher", r.Discount), sum("receipt_paid_self", r.ToPay))
	} else {
		if r.Discount > 0 {
			out = append(out, sum("receipt_saved", r.Discount))
		}
		out = append(out, sum("receipt_paid_voucher", r.PaidByVoucher))
		if r.ToPay > 0 {
			out = append(out, sum("receipt_to_pay", r.ToPay))
		}
	}
	if r.Voided {
		out = append(out, "", sum("receipt_returned", r.Returned))
		if lapsed := r.PaidByVoucher - r.Returned; lapsed > 0 {
			out = append(out, sum("receipt_lapsed", lapsed))
		}
	}
	out = append(out, sum("receipt_remaining", r.FamilyRemaining), "", b.T(lang, "receipt_notme_hint", nil))
	markup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.T(lang, "btn_notme", nil), NotMeData(r.RedemptionID))))
	return strings.Join(out, "\n"), markup
}

// quantity shows thousandths of a unit as people write them: 1500 → "1,5",
// 10000 → "10", 250 → "0,25".
func quantity(milli int64) string {
	s := strconv.FormatInt(milli/1000, 10)
	if frac := milli % 1000; frac != 0 {
		f := strconv.FormatInt(1000+frac, 10)[1:]
		s += "," + strings.TrimRight(f, "0")
	}
	return s
}
