package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

var _ wallet.Links = (*Store)(nil)

// PhoneKnown reports whether a member of the registry has phone.
func (s *Store) PhoneKnown(ctx context.Context, phone string) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE phone = $1)`, phone).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: phone known: %w", err)
	}
	return ok, nil
}

// LinkMember links the Telegram user to the member with the phone and IIN
// hash. The member's row lock serialises two people linking the same member;
// a link of the member to another Telegram user is moved to this one, and a
// link of this user to another member is replaced.
func (s *Store) LinkMember(ctx context.Context, spec wallet.LinkSpec) (wallet.Linked, error) {
	var out wallet.Linked
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return out, fmt.Errorf("postgres: link telegram user: %w", err)
	}
	defer tx.Rollback(ctx)
	m := &out.Member
	err = tx.QueryRow(ctx, `SELECT `+memberColumns+` FROM members m WHERE m.phone = $1 AND m.iin_hmac = $2 FOR UPDATE`,
		spec.Phone, spec.IINHash).Scan(memberDest(m)...)
	if err != nil {
		return out, notFound(err, "member by phone and IIN")
	}
	err = tx.QueryRow(ctx, `DELETE FROM telegram_links WHERE member_id = $1 AND telegram_user_id <> $2 RETURNING telegram_user_id`,
		m.ID, spec.TelegramUserID).Scan(&out.Replaced)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("postgres: link member %d: move: %w", m.ID, err)
	}
	const upsert = `INSERT INTO telegram_links AS l (telegram_user_id, member_id, chat_id, lang, linked_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (telegram_user_id) DO UPDATE SET member_id = EXCLUDED.member_id, chat_id = EXCLUDED.chat_id,
			lang = EXCLUDED.lang, blocked_at = NULL,
			linked_at = CASE WHEN l.member_id = EXCLUDED.member_id THEN l.linked_at ELSE EXCLUDED.linked_at END
		RETURNING linked_at`
	out.Link = wallet.TelegramLink{TelegramUserID: spec.TelegramUserID, ChatID: spec.ChatID, MemberID: m.ID,
		FamilyID: m.FamilyID, Lang: spec.Lang}
	if err := tx.QueryRow(ctx, `SELECT city FROM families WHERE id = $1`, m.FamilyID).Scan(&out.Link.City); err != nil {
		return out, fmt.Errorf("postgres: link member %d: family: %w", m.ID, err)
	}
	if err := tx.QueryRow(ctx, upsert, spec.TelegramUserID, m.ID, spec.ChatID, spec.Lang, spec.Now).Scan(&out.Link.LinkedAt); err != nil {
		return out, fmt.Errorf("postgres: link member %d: %w", m.ID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return out, fmt.Errorf("postgres: link member %d: commit: %w", m.ID, err)
	}
	return out, nil
}

// TelegramLink finds the link of a Telegram user.
func (s *Store) TelegramLink(ctx context.Context, telegramUserID int64) (wallet.TelegramLink, error) {
	var l wallet.TelegramLink
	var blocked *time.Time
	err := s.pool.QueryRow(ctx, `SELECT l.telegram_user_id, l.chat_id, l.member_id, m.family_id, f.city, l.lang, l.linked_at, l.blocked_at
		FROM telegram_links l JOIN members m ON m.id = l.member_id JOIN families f ON f.id = m.family_id
		WHERE l.telegram_user_id = $1`, telegramUserID).
		Scan(&l.TelegramUserID, &l.ChatID, &l.MemberID, &l.FamilyID, &l.City, &l.Lang, &l.LinkedAt, &blocked)
	if err != nil {
		return l, notFound(err, "telegram link")
	}
	l.BlockedAt = tv(blocked)
	return l, nil
}

// SetLinkLanguage records a linked user's language.
func (s *Store) SetLinkLanguage(ctx context.Context, telegramUserID int64, lang string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE telegram_links SET lang = $2 WHERE telegram_user_id = $1`, telegramUserID, lang)
	if err != nil {
		return fmt.Errorf("postgres: set link language: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return wallet.Errorf(wallet.CodeNotFound, "no telegram link")
	}
	return nil
}

// ClearLinkBlocked forgets a block (set by the sender on a 403) when the user
// speaks to the bot again; a user without a link is no error.
func (s *Store) ClearLinkBlocked(ctx context.Context, telegramUserID, chatID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE telegram_links SET blocked_at = NULL, chat_id = $2
		WHERE telegram_user_id = $1 AND (blocked_at IS NOT NULL OR chat_id <> $2)`, telegramUserID, chatID)
	if err != nil {
		return fmt.Errorf("postgres: clear link block: %w", err)
	}
	return nil
}
