package bot

import (
	"context"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/skip2/go-qrcode"

	"socialwallet/wallet"
)

// qrSize is the PNG's side in pixels: sharp on a cheap phone's screen held
// up to a scanner, small to send.
const qrSize = 384

// QRPNG renders a signed token as a PNG QR code with medium error correction.
func QRPNG(signed string) ([]byte, error) {
	return qrcode.Encode(signed, qrcode.Medium, qrSize)
}

// qr hands out a one-time code: a QR photo (protected from forwarding and
// saving) whose caption gives its expiry and an 8-digit code the cashier can
// type. Asking again replaces the earlier code. If the photo cannot be sent,
// the code still goes out as text. No value, no consent or a frozen family:
// no code, and the reason.
func (b *Bot) qr(r *req) {
	lang := r.lang()
	tok, signed, err := b.w.IssueQR(r.ctx, r.s.Member)
	switch {
	case wallet.IsCode(err, wallet.CodeConsentRequired):
		b.sayT(r, "consent_required", nil, b.showConsentButton(lang))
		return
	case wallet.IsCode(err, wallet.CodeFrozen):
		b.sayT(r, "frozen", b.helpData(r), nil)
		return
	case wallet.IsCode(err, wallet.CodeInsufficientFunds):
		b.sayT(r, "qr_no_value", nil, nil)
		return
	case err != nil:
		b.fail(r, "issue QR", err)
		return
	}
	ttl := tok.ExpiresAt.Sub(b.now())
	code := ""
	for range 5 { // a code already in use is drawn again
		c := wallet.NewFallbackCode()
		err := b.codes.Replace(r.ctx, r.s.Member, c, signed, ttl)
		if err == nil {
			code = c
			break
		}
		if !wallet.IsCode(err, wallet.CodeConflict) {
			b.log.Warn("bot: keep fallback code", "update", r.upd.UpdateID, "err", err)
			break
		}
	}
	data := map[string]any{
		"Until":   tok.ExpiresAt.In(b.prog.Location).Format("15:04"),
		"Minutes": int(b.prog.QRLifetime.Minutes()),
		"Code":    spaced(code),
	}
	var caption string
	if code != "" {
		caption = b.t(lang, "qr_caption", data)
	} else {
		caption = b.t(lang, "qr_caption_nocode", data)
	}
	png, err := QRPNG(signed)
	if err == nil {
		err = b.sendPhoto(r, png, caption)
		if err == nil {
			return
		}
		if Blocked(err) {
			return
		}
	}
	b.log.Warn("bot: QR photo not sent; sending the code as text", "update", r.upd.UpdateID, "code", Code(err), "err", err)
	if code == "" {
		b.sayT(r, "unavailable", nil, nil)
		return
	}
	b.sayT(r, "qr_text", data, nil)
}

func (b *Bot) sendPhoto(r *req, png []byte, caption string) error {
	params := tgbotapi.Params{
		"chat_id":         fmt.Sprint(r.chat),
		"caption":         caption,
		"protect_content": "true",
	}
	files := []tgbotapi.RequestFile{{Name: "photo", Data: tgbotapi.FileBytes{Name: "qr.png", Bytes: png}}}
	return b.do(r.ctx, "sendPhoto", func(ctx context.Context) error {
		_, err := b.api.Upload(ctx, "sendPhoto", params, files)
		return err
	})
}

// spaced shows "12345678" as "1234 5678", easier to read out at the till.
func spaced(code string) string {
	if len(code) != 8 {
		return code
	}
	return code[:4] + " " + code[4:]
}
