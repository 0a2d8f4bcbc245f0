package postgres_test

import (
	"testing"
	"time"

	"socialwallet/wallet"
)

func TestLinkTelegram(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 2, 3)
	mother := people[0]

	if ok, err := e.svc.PhoneKnown(e.ctx, "7"+mother.Phone[2:]); err != nil || !ok {
		t.Errorf("PhoneKnown(registry phone without +) = %v, %v; want true", ok, err)
	}
	if ok, err := e.svc.PhoneKnown(e.ctx, "+77779999999"); err != nil || ok {
		t.Errorf("PhoneKnown(unknown) = %v, %v; want false", ok, err)
	}
	if _, err := e.svc.PhoneKnown(e.ctx, "+1 555 0100"); !wallet.IsCode(err, wallet.CodeInvalid) {
		t.Errorf("PhoneKnown(foreign) = %v; want invalid", err)
	}

	tests := []struct {
		name  string
		req   wallet.LinkRequest
		code  wallet.Code
		links int64 // member linked when no code
	}{
		{"bad IIN checksum", wallet.LinkRequest{TelegramUserID: 1, ChatID: 1, Lang: "kk", Phone: mother.Phone, IIN: mother.IIN[:11] + string('0'+(mother.IIN[11]-'0'+1)%10)}, wallet.CodeInvalid, 0},
		{"IIN of another person", wallet.LinkRequest{TelegramUserID: 1, ChatID: 1, Lang: "kk", Phone: mother.Phone, IIN: people[1].IIN}, wallet.CodeNotFound, 0},
		{"phone of another person", wallet.LinkRequest{TelegramUserID: 1, ChatID: 1, Lang: "kk", Phone: people[1].Phone, IIN: mother.IIN}, wallet.CodeNotFound, 0},
		{"bad language", wallet.LinkRequest{TelegramUserID: 1, ChatID: 1, Lang: "en", Phone: mother.Phone, IIN: mother.IIN}, wallet.CodeInvalid, 0},
		{"match with spaces in the IIN", wallet.LinkRequest{TelegramUserID: 1, ChatID: 1, Lang: "kk", Phone: mother.Phone, IIN: mother.IIN[:6] + " " + mother.IIN[6:]}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.svc.LinkTelegram(e.ctx, tt.req)
			if tt.code != "" {
				if !wallet.IsCode(err, tt.code) {
					t.Errorf("LinkTelegram(%s) = %v; want %s", tt.name, err, tt.code)
				}
				return
			}
			if err != nil || got.Member.IINLast4 != mother.IIN[8:] || got.Link.FamilyID != mother.FamilyID || got.Replaced != 0 {
				t.Errorf("LinkTelegram(%s) = %+v, %v; want the mother linked", tt.name, got, err)
			}
		})
	}

	l, err := e.svc.TelegramLink(e.ctx, 1)
	if err != nil || l.Lang != "kk" || l.ChatID != 1 || l.City != mother.City {
		t.Fatalf("TelegramLink(1) = %+v, %v", l, err)
	}
	if _, err := e.svc.TelegramLink(e.ctx, 999); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("TelegramLink(unlinked) = %v; want not_found", err)
	}
	if err := e.svc.SetLanguage(e.ctx, 1, "ru"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetLanguage(e.ctx, 999, "ru"); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("SetLanguage(unlinked) = %v; want not_found", err)
	}

	// The sender marks a block; the user's /start clears it.
	if _, err := e.store.Pool().Exec(e.ctx, `UPDATE telegram_links SET blocked_at = now() WHERE telegram_user_id = 1`); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.svc.TelegramLink(e.ctx, 1); l.BlockedAt.IsZero() {
		t.Fatal("block not recorded")
	}
	if err := e.svc.Returned(e.ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.svc.TelegramLink(e.ctx, 1); !l.BlockedAt.IsZero() || l.Lang != "ru" {
		t.Errorf("after Returned: %+v; want no block, language kept", l)
	}

	// The same person on a new Telegram account moves the link.
	moved, err := e.svc.LinkTelegram(e.ctx, wallet.LinkRequest{TelegramUserID: 2, ChatID: 2, Lang: "ru", Phone: mother.Phone, IIN: mother.IIN})
	if err != nil || moved.Replaced != 1 {
		t.Errorf("LinkTelegram(new account) = %+v, %v; want the old account 1 replaced", moved, err)
	}
	if _, err := e.svc.TelegramLink(e.ctx, 1); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("old account still linked: %v", err)
	}
	// Linking again from the same account replaces nobody and keeps the date.
	again, err := e.svc.LinkTelegram(e.ctx, wallet.LinkRequest{TelegramUserID: 2, ChatID: 2, Lang: "kk", Phone: mother.Phone, IIN: mother.IIN})
	if err != nil || again.Replaced != 0 || !again.Link.LinkedAt.Equal(moved.Link.LinkedAt) {
		t.Errorf("relink = %+v, %v; want nothing replaced, linked_at kept", again, err)
	}
	// One account, one member: linking the father from account 2 replaces the mother's link.
	father := people[1]
	if _, err := e.svc.LinkTelegram(e.ctx, wallet.LinkRequest{TelegramUserID: 2, ChatID: 2, Lang: "kk", Phone: father.Phone, IIN: father.IIN}); err != nil {
		t.Fatal(err)
	}
	var n int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM telegram_links`).Scan(&n)
	if n != 1 {
		t.Errorf("%d links; want 1", n)
	}
}

func TestConsentAnswers(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 1, 2)
	m := e.member(t, people[0].IIN)

	cs, err := e.svc.ConsentState(e.ctx, m.ID)
	if err != nil || cs.Consent.Active() || cs.Declined() {
		t.Fatalf("ConsentState(new) = %+v, %v; want nothing", cs, err)
	}
	if err := e.svc.DeclineConsent(e.ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	cs, _ = e.svc.ConsentState(e.ctx, m.ID)
	if !cs.Declined() || cs.Version != e.prog.ConsentVersion {
		t.Errorf("after decline: %+v; want declined with version %s", cs, e.prog.ConsentVersion)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.GiveConsent(e.ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	cs, _ = e.svc.ConsentState(e.ctx, m.ID)
	if !cs.Consent.Active() || cs.Declined() {
		t.Errorf("after agreeing: %+v; want active, not declined", cs)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.DeclineConsent(e.ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	cs, _ = e.svc.ConsentState(e.ctx, m.ID)
	if cs.Consent.Active() || !cs.Declined() {
		t.Errorf("decline after agreeing: %+v; want the consent revoked", cs)
	}
	if err := e.svc.DeclineConsent(e.ctx, 999999); !wallet.IsCode(err, wallet.CodeNotFound) {
		t.Errorf("DeclineConsent(no member) = %v; want not_found", err)
	}
}
