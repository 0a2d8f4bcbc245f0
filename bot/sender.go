package bot

import (
	"context"
	"errors"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// Receipts gives the recipient's view of a purchase; wallet.Service
// implements it.
type Receipts interface {
	Receipt(ctx context.Context, redemptionID int64) (wallet.Receipt, error)
}

// ReceiptRenderer renders a receipt (or its void) in a language: RenderReceipt.
type ReceiptRenderer func(b *locales.Bundle, lang string, r wallet.Receipt) (string, tgbotapi.InlineKeyboardMarkup)

// Sender delivers the notifications the jobs send (jobs.Sender): it renders a
// notice in the member's language, sends it with one sendMessage, and turns
// Telegram's answer into a *wallet.DeliveryError the jobs act on. Pacing is
// the jobs' limiter's business, not the sender's.
type Sender struct {
	api     *API
	bundle  *locales.Bundle
	prog    *wallet.Program
	receipt Receipts
	render  ReceiptRenderer
}

// NewSender builds a sender. receipts and render deliver purchase receipts
// and voids; without them those notices fail as rejected.
func NewSender(api *API, b *locales.Bundle, prog *wallet.Program, receipts Receipts, render ReceiptRenderer) *Sender {
	return &Sender{api: api, bundle: b, prog: prog, receipt: receipts, render: render}
}

// Send renders and delivers n to its chat.
func (s *Sender) Send(ctx context.Context, n wallet.Notice) error {
	text, kb, err := s.text(ctx, n)
	if err != nil {
		var de *wallet.DeliveryError
		if errors.As(err, &de) {
			return err
		}
		return &wallet.DeliveryError{Failure: wallet.DeliveryRejected, Err: err}
	}
	msg := tgbotapi.NewMessage(n.ChatID, text)
	if kb != nil {
		msg.ReplyMarkup = *kb
	}
	if _, err := s.api.Send(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

func (s *Sender) text(ctx context.Context, n wallet.Notice) (string, *tgbotapi.InlineKeyboardMarkup, error) {
	if n.Kind != wallet.NoticeReceipt && n.Kind != wallet.NoticeVoid {
		return RenderNotice(s.bundle, s.prog, n)
	}
	if s.receipt == nil || s.render == nil {
		return "", nil, fmt.Errorf("bot: no receipt renderer wired for %s %d", n.Kind, n.RefID)
	}
	r, err := s.receipt.Receipt(ctx, n.RefID)
	if err != nil {
		if wallet.ErrorCode(err) != "" {
			return "", nil, err // not found and the like: retrying cannot help
		}
		return "", nil, &wallet.DeliveryError{Failure: wallet.DeliveryTemporary, Err: err}
	}
	text, kb := s.render(s.bundle, locales.Lang(n.Lang), r)
	if len(kb.InlineKeyboard) == 0 {
		return text, nil, nil
	}
	return text, &kb, nil
}

// classify reads Telegram's answer: 403 blocked, 429 throttled, 5xx and
// transport failures temporary, anything else (400: a bad request) rejected.
func classify(err error) error {
	switch {
	case Blocked(err):
		return &wallet.DeliveryError{Failure: wallet.DeliveryBlocked, Err: err}
	}
	if d, ok := RetryAfter(err); ok {
		return &wallet.DeliveryError{Failure: wallet.DeliveryThrottled, RetryAfter: d, Err: err}
	}
	if Temporary(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &wallet.DeliveryError{Failure: wallet.DeliveryTemporary, Err: err}
	}
	return &wallet.DeliveryError{Failure: wallet.DeliveryRejected, Err: err}
}
