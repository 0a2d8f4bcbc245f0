package postgres

import (
	"context"
	"fmt"
	"time"
)

// GiveConsent records agreement to version; a standing consent to an older
// version is closed first, so the partial unique index keeps one standing row.
func (s *Store) GiveConsent(ctx context.Context, memberID int64, version string, now time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: consent of member %d: %w", memberID, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE consents SET revoked_at = $3 WHERE member_id = $1 AND revoked_at IS NULL AND version <> $2`, memberID, version, now); err != nil {
		return fmt.Errorf("postgres: consent of member %d: supersede: %w", memberID, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO consents (member_id, version, given_at) VALUES ($1, $2, $3)
		ON CONFLICT (member_id) WHERE revoked_at IS NULL DO NOTHING`, memberID, version, now)
	if err != nil {
		return notFound(err, "consent of member %d", memberID)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: consent of member %d: commit: %w", memberID, err)
	}
	return nil
}

// RevokeConsent closes the standing consent, if any.
func (s *Store) RevokeConsent(ctx context.Context, memberID int64, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE consents SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL`, memberID, now); err != nil {
		return fmt.Errorf("postgres: revoke consent of member %d: %w", memberID, err)
	}
	return nil
}
