package e2e

import (
	"testing"
	"unicode/utf8"
)

// FuzzButtonData presses buttons with any callback data (up to Telegram's 64
// bytes) on a linked user's Activate screen, through the whole service. Each
// press is answered exactly once and costs at most three Bot API calls; only
// this month's Activate button activates anything.
func FuzzButtonData(f *testing.F) {
	for _, s := range []string{"act:2026-01", "act:2026-02", "act:2025-12", "act:", "act:2026-1", "consent:yes:2026-01",
		"consent:no:2025-01", "consent:revoke", "consent:show", "consent", "notme:1", "notme:-1", "notme:99999999999999999999",
		"lang:kk", "lang:en", "lang", "", ":", "zzz:1", "act:2026-01:extra"} {
		f.Add(s)
	}
	h := newHarness(f)
	u := h.tg.NewUser(99, "ru")
	h.link(u, h.people[0], "ru")
	screen := h.send(u, h.T("ru", "btn_activate", nil))
	count := func(t *testing.T) int {
		var n int
		if err := h.store.Pool().QueryRow(h.ctx, `SELECT count(*) FROM ledger WHERE kind = 'activation'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.Fuzz(func(t *testing.T, data string) {
		if len(data) > 64 || !utf8.ValidString(data) {
			return // Telegram refuses such buttons
		}
		before := count(t)
		mark := h.tg.Mark()
		id := u.Press(screen, data)
		h.tg.Sync(t)
		calls := h.tg.CallsSince(mark)
		answers := 0
		for _, c := range calls {
			if c.Method == "answerCallbackQuery" {
				answers++
			}
		}
		if _, ok := h.tg.Answer(id); !ok || answers != 1 || len(calls) > 3 {
			t.Fatalf("press %q: answered %d times, calls %v; want one answer, at most 3 calls", data, answers, methods(calls))
		}
		if after := count(t); after != before && data != "act:2026-01" {
			t.Fatalf("press %q changed the ledger (%d → %d activations)", data, before, after)
		}
	})
}
