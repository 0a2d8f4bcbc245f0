package bot

import (
	"strconv"

	"socialwallet/wallet"
)

// onNotMe is the receipt's "Not me" button, notme:<redemption id>: the
// family's wallet is frozen (no codes, no purchases) until the social
// protection department lifts it. The receipt is edited in place to say so
// and whom to call.
func (b *Bot) onNotMe(r *req, arg string) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return
	}
	lang := r.lang()
	if !r.s.Linked() {
		b.answer(r, b.t(lang, "not_linked_short", nil))
		return
	}
	if b.notMe == nil {
		b.answer(r, b.t(lang, "unavailable", nil))
		return
	}
	err = b.notMe.ReportNotMe(r.ctx, r.s.Member, id)
	switch {
	case wallet.IsCode(err, wallet.CodeNotFound), wallet.IsCode(err, wallet.CodeForbidden):
		b.answer(r, b.t(lang, "notme_not_yours", nil))
		return
	case err != nil:
		b.fail(r, "not me", err)
		return
	}
	b.answer(r, b.t(lang, "notme_done_short", nil))
	text := b.t(lang, "notme_done", b.helpData(r))
	if r.cq.Message != nil {
		body := r.cq.Message.Text
		if body == "" {
			body = r.cq.Message.Caption
		}
		if body != "" {
			text = body + "\n\n" + text
		}
	}
	b.edit(r, text, nil)
}
