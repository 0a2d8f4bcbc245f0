package bot

import (
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/wallet"
)

type menuItem struct{ label, command string }

// menuRows is the main menu's reply keyboard, two buttons a row so that the
// labels stay readable on a small screen.
var menuRows = [][]menuItem{
	{{"btn_balance", "balance"}, {"btn_activate", "activate"}},
	{{"btn_qr", "qr"}, {"btn_family", "family"}},
	{{"btn_history", "history"}, {"btn_stores", "stores"}},
	{{"btn_language", "language"}, {"btn_help", "help"}},
}

// commandList is the command menu (setMyCommands), in its order.
var commandList = []string{"balance", "activate", "qr", "family", "history", "stores", "consent", "language", "help", "start"}

func (b *Bot) mainMenu(lang string) tgbotapi.ReplyKeyboardMarkup { return b.menus[lang] }

func (b *Bot) buildMainMenu(lang string) tgbotapi.ReplyKeyboardMarkup {
	var rows [][]tgbotapi.KeyboardButton
	for _, row := range menuRows {
		var r []tgbotapi.KeyboardButton
		for _, item := range row {
			r = append(r, tgbotapi.NewKeyboardButton(b.t(lang, item.label, nil)))
		}
		rows = append(rows, r)
	}
	kb := tgbotapi.NewReplyKeyboard(rows...)
	kb.ResizeKeyboard = true
	return kb
}

func (b *Bot) contactKeyboard(lang string) tgbotapi.ReplyKeyboardMarkup {
	kb := tgbotapi.NewReplyKeyboard(tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact(b.t(lang, "btn_share_phone", nil))))
	kb.ResizeKeyboard = true
	kb.OneTimeKeyboard = true
	return kb
}

func (b *Bot) locationKeyboard(lang string) tgbotapi.ReplyKeyboardMarkup {
	kb := tgbotapi.NewReplyKeyboard(
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonLocation(b.t(lang, "btn_share_location", nil))),
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButton(b.t(lang, "btn_back", nil))),
	)
	kb.ResizeKeyboard = true
	return kb
}

// langPicker offers both languages, the preselected one marked.
func (b *Bot) langPicker(preselected string) tgbotapi.InlineKeyboardMarkup {
	label := func(lang, name string) string {
		if lang == preselected {
			return "✓ " + name
		}
		return name
	}
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(label("kk", "Қазақша"), "lang:kk"),
		tgbotapi.NewInlineKeyboardButtonData(label("ru", "Русский"), "lang:ru"),
	))
}

func (b *Bot) consentButtons(lang string) tgbotapi.InlineKeyboardMarkup {
	v := b.prog.ConsentVersion
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.t(lang, "btn_agree", nil), "consent:yes:"+v),
		tgbotapi.NewInlineKeyboardButtonData(b.t(lang, "btn_decline", nil), "consent:no:"+v),
	))
}

func (b *Bot) revokeButton(lang string) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.t(lang, "btn_revoke", nil), "consent:revoke")))
}

func (b *Bot) showConsentButton(lang string) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.t(lang, "btn_read_consent", nil), "consent:show")))
}

// ActivateData is the Activate button's callback data for period p,
// "act:YYYY-MM"; reminders sent by the jobs carry the same button.
func ActivateData(p wallet.Period) string { return "act:" + p.String() }

// NotMeData is the receipt's "Not me" button's callback data.
func NotMeData(redemptionID int64) string { return "notme:" + itoa(redemptionID) }

func (b *Bot) activateButton(lang string, p wallet.Period) tgbotapi.InlineKeyboardMarkup {
	return tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.t(lang, "btn_activate_now", nil), ActivateData(p))))
}
