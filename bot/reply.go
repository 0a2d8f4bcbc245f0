package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/wallet"
)

// say sends text to the user's chat with an optional keyboard (inline or
// reply) and returns the message's id. Temporary failures are retried; a
// failure in the end is logged. The request is built here and only the id is
// read back: the library's full Message decoding is the costliest part of a
// reply.
func (b *Bot) say(r *req, text string, markup any) (int, error) {
	params := tgbotapi.Params{"chat_id": strconv.FormatInt(r.chat, 10), "text": text}
	if markup != nil {
		mk, err := json.Marshal(markup)
		if err != nil {
			return 0, err
		}
		params["reply_markup"] = string(mk)
	}
	var id int
	err := b.do(r.ctx, "sendMessage", func(ctx context.Context) error {
		resp, err := b.api.Raw(ctx, "sendMessage", params)
		if err != nil {
			return err
		}
		var m struct {
			MessageID int `json:"message_id"`
		}
		if err := json.Unmarshal(resp.Result, &m); err != nil {
			return fmt.Errorf("telegram sendMessage: result: %w", err)
		}
		id = m.MessageID
		return nil
	})
	if err != nil {
		b.log.Warn("bot: send", "update", r.upd.UpdateID, "code", Code(err), "err", err)
		r.setOutcome(outcomeSendFailed)
	}
	return id, err
}

// sayT is say with a message ID in the user's language.
func (b *Bot) sayT(r *req, id string, data map[string]any, markup any) (int, error) {
	return b.say(r, b.t(r.lang(), id, data), markup)
}

// answer answers the button press (once); text may be empty.
func (b *Bot) answer(r *req, text string) {
	if r.cq == nil || r.answered {
		return
	}
	r.answered = true
	cfg := tgbotapi.NewCallback(r.cq.ID, text)
	err := b.do(r.ctx, "answerCallbackQuery", func(ctx context.Context) error {
		_, err := b.api.Request(ctx, cfg)
		return err
	})
	if err != nil {
		b.log.Warn("bot: answer button", "update", r.upd.UpdateID, "code", Code(err), "err", err)
	}
}

// edit changes the message whose button was pressed, in place. It makes no
// call when the message would not change (a second tap), and takes
// Telegram's "message is not modified" as done.
func (b *Bot) edit(r *req, text string, kb *tgbotapi.InlineKeyboardMarkup) {
	if r.cq == nil || r.cq.Message == nil {
		return
	}
	old := r.cq.Message
	if old.Text == text && sameKeyboard(old.ReplyMarkup, kb) {
		return
	}
	var cfg tgbotapi.Chattable
	if old.Text == "" && len(old.Photo) > 0 {
		c := tgbotapi.NewEditMessageCaption(r.chat, old.MessageID, text)
		c.ReplyMarkup = kb
		cfg = c
	} else {
		c := tgbotapi.NewEditMessageText(r.chat, old.MessageID, text)
		c.ReplyMarkup = kb
		cfg = c
	}
	err := b.do(r.ctx, "editMessageText", func(ctx context.Context) error {
		_, err := b.api.Send(ctx, cfg)
		return err
	})
	if err != nil && !notModified(err) {
		b.log.Warn("bot: edit", "update", r.upd.UpdateID, "code", Code(err), "err", err)
	}
}

func notModified(err error) bool {
	return Code(err) == 400 && strings.Contains(err.Error(), "message is not modified")
}

func sameKeyboard(a, b *tgbotapi.InlineKeyboardMarkup) bool {
	empty := func(k *tgbotapi.InlineKeyboardMarkup) bool { return k == nil || len(k.InlineKeyboard) == 0 }
	if empty(a) || empty(b) {
		return empty(a) && empty(b)
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// deleteMessage removes a message of the user's chat (their IIN, once read).
func (b *Bot) deleteMessage(r *req, id int) {
	err := b.do(r.ctx, "deleteMessage", func(ctx context.Context) error {
		_, err := b.api.Request(ctx, tgbotapi.NewDeleteMessage(r.chat, id))
		return err
	})
	if err != nil {
		b.log.Info("bot: delete message", "update", r.upd.UpdateID, "code", Code(err))
	}
}

// fail tells the user a step went wrong: a coded wallet error in their
// words, anything else as "temporarily unavailable" (and logged once).
func (b *Bot) fail(r *req, flow string, err error) {
	id := b.errorText(err)
	if id == "unavailable" {
		b.log.Error("bot: "+flow, "update", r.upd.UpdateID, "err", err)
		r.setOutcome(outcomeUnavailable)
	} else {
		r.setOutcome(outcomeRefused)
	}
	text := b.t(r.lang(), id, b.helpData(r))
	if r.cq != nil {
		b.answer(r, short(text))
		return
	}
	b.say(r, text, nil)
}

// setOutcome records how the update went; the first failure stands.
func (r *req) setOutcome(o string) {
	if r.outcome == "" || r.outcome == outcomeRefused {
		r.outcome = o
	}
}

// errorText translates a wallet error code to a message ID.
func (b *Bot) errorText(err error) string {
	switch wallet.ErrorCode(err) {
	case wallet.CodeConsentRequired:
		return "consent_required"
	case wallet.CodeFrozen:
		return "frozen"
	case wallet.CodeInsufficientFunds:
		return "qr_no_value"
	case wallet.CodeDeadlinePassed:
		return "deadline_passed"
	case wallet.CodeForbidden, wallet.CodeNotFound:
		return "act_nothing_short"
	case wallet.CodeConflict:
		return "act_already"
	case wallet.CodeOutsideProgram:
		return "not_running"
	}
	return "unavailable"
}

// short keeps an answerCallbackQuery text within Telegram's 200 characters.
func short(s string) string {
	r := []rune(s)
	if len(r) <= 200 {
		return s
	}
	return string(r[:199]) + "…"
}
