package e2e

import (
	"context"
	"testing"
	"time"

	"socialwallet/bot/telegramtest"
)

// An update is confirmed (by the next getUpdates offset) only once it has
// been handled: while its reply hangs, Telegram still holds it.
func TestOffsetConfirmedOnlyAfterHandling(t *testing.T) {
	h := newHarness(t)
	u := h.tg.NewUser(70, "ru")
	slow := h.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Delay: 500 * time.Millisecond, Times: 1})
	u.Send("/start")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for h.tg.FaultHits(slow) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the reply never started")
		}
		time.Sleep(time.Millisecond)
	}
	if n := h.tg.Pending(); n != 1 {
		t.Errorf("while the update is being handled %d updates are pending; want 1 (not confirmed)", n)
	}
	h.sync()
	if n := h.tg.Pending(); n != 0 {
		t.Errorf("after handling %d updates pending; want 0", n)
	}
}

// Each chat's updates are handled in order even when sent all at once (the
// IIN only makes sense after the contact), and chats go side by side.
func TestPerChatOrderManyChats(t *testing.T) {
	h := newHarness(t)
	type person struct {
		u     *telegramtest.User
		phone string
		iin   string
	}
	var ps []person
	for i, idx := range []int{0, 1, 4, 5} {
		p := h.people[idx]
		u := h.tg.NewUser(int64(80+i), "ru")
		m := h.send(u, "/start")
		u.Press(m, "lang:ru")
		ps = append(ps, person{u, p.Phone, p.IIN})
	}
	h.sync()
	for _, p := range ps { // no waiting between the steps
		p.u.ShareContact(p.phone)
		p.u.Send(p.iin)
		p.u.Send("/help")
	}
	h.sync()
	for _, p := range ps {
		if !h.linked(p.u.ID()) {
			t.Errorf("user %d not linked: steps of one chat out of order? last: %q", p.u.ID(), p.u.Last().Text)
		}
		ms := p.u.Messages()
		if got := ms[len(ms)-1].Text; got[:len("ℹ️")] != "ℹ️" {
			t.Errorf("user %d: the last answer is %q; want Help, answered last", p.u.ID(), got)
		}
	}
}

// A chat whose replies hang does not hold up another chat.
func TestSlowChatDoesNotBlockOthers(t *testing.T) {
	h := newHarness(t)
	a, b := h.tg.NewUser(90, "ru"), h.tg.NewUser(91, "kk")
	h.tg.InjectFault(telegramtest.Fault{Chat: a.ID(), Delay: 3 * time.Second})
	a.Send("/start")
	b.Send("/start")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := h.tg.WaitMessages(ctx, b.ID(), 1); err != nil {
		t.Errorf("chat b got no answer while chat a hung: %v", err)
	}
	if n := len(a.Messages()); n != 0 {
		t.Errorf("chat a has %d messages while its sends hang", n)
	}
	h.tg.ClearFaults()
	h.sync()
	if len(a.Messages()) != 1 {
		t.Errorf("chat a: %d messages after the delay; want 1", len(a.Messages()))
	}
}
