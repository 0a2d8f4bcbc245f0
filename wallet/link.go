package wallet

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TelegramLink ties a Telegram user to the registry member they proved to be
// (their own phone number from Telegram plus their IIN).
type TelegramLink struct {
	TelegramUserID int64
	ChatID         int64
	MemberID       int64
	FamilyID       string
	City           string // the family's city
	Lang           string // "kk" or "ru"
	LinkedAt       time.Time
	BlockedAt      time.Time // the user blocked the bot; cleared by their next /start
}

// LinkRequest is what a person gives to be linked.
type LinkRequest struct {
	TelegramUserID int64
	ChatID         int64
	Lang           string
	Phone          string // as Telegram gives it; normalised here
	IIN            string // twelve digits; never stored or logged
}

// LinkSpec asks the store to link a user to the member with this phone and
// IIN hash, in one transaction.
type LinkSpec struct {
	TelegramUserID int64
	ChatID         int64
	Lang           string
	Phone          string // E.164
	IINHash        []byte
	Now            time.Time
}

// Linked is the result of a link: the link, the member, and the Telegram user
// the member was linked to before (0 when none or the same), whose session
// the edge must forget.
type Linked struct {
	Link     TelegramLink
	Member   Member
	Replaced int64
}

// Links stores Telegram links.
type Links interface {
	// PhoneKnown reports whether any member of the registry has phone.
	PhoneKnown(ctx context.Context, phone string) (bool, error)
	// LinkMember links the member matching phone and IIN hash (not_found
	// when none does); a member already linked to another Telegram user is
	// moved to this one.
	LinkMember(ctx context.Context, spec LinkSpec) (Linked, error)
	// TelegramLink finds the link of a Telegram user (not_found when none).
	TelegramLink(ctx context.Context, telegramUserID int64) (TelegramLink, error)
	SetLinkLanguage(ctx context.Context, telegramUserID int64, lang string) error
	// ClearLinkBlocked forgets that the user blocked the bot and records the
	// chat they came back in.
	ClearLinkBlocked(ctx context.Context, telegramUserID, chatID int64) error
}

// ValidLang reports whether lang is a language of the service.
func ValidLang(lang string) bool { return lang == "kk" || lang == "ru" }

// CheckPhone normalises a phone number as Telegram shares it ("77011234567",
// "+7 701 …").
func CheckPhone(raw string) (string, error) { return NormalizePhone(raw) }

// CheckIIN reads an IIN as a person types it: spaces and dashes between
// digit groups are allowed.
func CheckIIN(raw string) (IIN, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	return ParseIIN(s)
}

// PhoneKnown reports whether a phone number (as Telegram shares it) belongs
// to someone in the registry.
func (s *Service) PhoneKnown(ctx context.Context, raw string) (bool, error) {
	phone, err := CheckPhone(raw)
	if err != nil {
		return false, err
	}
	st, err := s.links()
	if err != nil {
		return false, err
	}
	return st.PhoneKnown(ctx, phone)
}

// LinkTelegram links a Telegram user to the registry member with this phone
// and IIN. A bad phone or IIN is invalid; no such member is not_found.
func (s *Service) LinkTelegram(ctx context.Context, req LinkRequest) (Linked, error) {
	if !ValidLang(req.Lang) {
		return Linked{}, Errorf(CodeInvalid, "language %q", req.Lang)
	}
	phone, err := CheckPhone(req.Phone)
	if err != nil {
		return Linked{}, err
	}
	iin, err := CheckIIN(req.IIN)
	if err != nil {
		return Linked{}, err
	}
	st, err := s.links()
	if err != nil {
		return Linked{}, err
	}
	return st.LinkMember(ctx, LinkSpec{
		TelegramUserID: req.TelegramUserID,
		ChatID:         req.ChatID,
		Lang:           req.Lang,
		Phone:          phone,
		IINHash:        iin.Hash(s.Secret),
		Now:            s.Clock.Now(),
	})
}

// TelegramLink finds who a Telegram user is; not_found when not linked.
func (s *Service) TelegramLink(ctx context.Context, telegramUserID int64) (TelegramLink, error) {
	st, err := s.links()
	if err != nil {
		return TelegramLink{}, err
	}
	return st.TelegramLink(ctx, telegramUserID)
}

// SetLanguage records the language a linked user chose.
func (s *Service) SetLanguage(ctx context.Context, telegramUserID int64, lang string) error {
	if !ValidLang(lang) {
		return Errorf(CodeInvalid, "language %q", lang)
	}
	st, err := s.links()
	if err != nil {
		return err
	}
	return st.SetLinkLanguage(ctx, telegramUserID, lang)
}

// Returned records that a user who may have blocked the bot spoke to it again
// (their /start): messages may go to them again.
func (s *Service) Returned(ctx context.Context, telegramUserID, chatID int64) error {
	st, err := s.links()
	if err != nil {
		return err
	}
	return st.ClearLinkBlocked(ctx, telegramUserID, chatID)
}

func (s *Service) links() (Links, error) {
	l, ok := s.Store.(Links)
	if !ok {
		return nil, fmt.Errorf("wallet: store %T does not keep Telegram links", s.Store)
	}
	return l, nil
}
