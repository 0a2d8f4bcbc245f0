package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"socialwallet/wallet"
)

var _ wallet.BotStore = (*Store)(nil)

// ConsentState reads a member's latest consent and latest decline.
func (s *Store) ConsentState(ctx context.Context, memberID int64) (wallet.ConsentState, error) {
	var cs wallet.ConsentState
	const q = `SELECT c.version, c.given_at, c.revoked_at, d.version, d.declined_at
		FROM members m
		LEFT JOIN LATERAL (SELECT version, given_at, revoked_at FROM consents
			WHERE member_id = m.id ORDER BY given_at DESC, id DESC LIMIT 1) c ON true
		LEFT JOIN LATERAL (SELECT version, declined_at FROM consent_declines
			WHERE member_id = m.id ORDER BY declined_at DESC, id DESC LIMIT 1) d ON true
		WHERE m.id = $1`
	var cver, dver *string
	var given, revoked, declined *time.Time
	if err := s.pool.QueryRow(ctx, q, memberID).Scan(&cver, &given, &revoked, &dver, &declined); err != nil {
		return cs, notFound(err, "consent of member %d", memberID)
	}
	if cver != nil {
		cs.Consent = wallet.Consent{MemberID: memberID, Version: *cver, GivenAt: tv(given), RevokedAt: tv(revoked)}
	}
	if dver != nil {
		cs.Version, cs.DeclinedAt = *dver, tv(declined)
	}
	return cs, nil
}

// DeclineConsent records a decline of version; a standing consent ends with it.
func (s *Store) DeclineConsent(ctx context.Context, memberID int64, version string, now time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: decline consent of member %d: %w", memberID, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE consents SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL`, memberID, now); err != nil {
		return fmt.Errorf("postgres: decline consent of member %d: revoke: %w", memberID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO consent_declines (member_id, version, declined_at) VALUES ($1, $2, $3)`, memberID, version, now); err != nil {
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23503" {
			return wallet.Errorf(wallet.CodeNotFound, "member %d", memberID)
		}
		return fmt.Errorf("postgres: decline consent of member %d: %w", memberID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: decline consent of member %d: commit: %w", memberID, err)
	}
	return nil
}

// IssueQRToken records a new token for its member. The family row is share-
// locked (a concurrent freeze waits, and is seen by the next code) and the
// member row is locked, so two requests of one member replace in turn.
func (s *Store) IssueQRToken(ctx context.Context, spec wallet.QRSpec) error {
	memberID := spec.Token.MemberID
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: issue QR for member %d: %w", memberID, err)
	}
	defer tx.Rollback(ctx)
	var f wallet.Family
	var frozen *time.Time
	err = tx.QueryRow(ctx, `SELECT f.id, f.city, f.frozen_at FROM members m JOIN families f ON f.id = m.family_id
		WHERE m.id = $1 FOR NO KEY UPDATE OF m FOR SHARE OF f`, memberID).Scan(&f.ID, &f.City, &frozen)
	if err != nil {
		return notFound(err, "member %d", memberID)
	}
	f.FrozenAt = tv(frozen)
	c := wallet.Consent{MemberID: memberID}
	err = tx.QueryRow(ctx, `SELECT version, given_at FROM consents WHERE member_id = $1 AND revoked_at IS NULL`, memberID).Scan(&c.Version, &c.GivenAt)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: issue QR for member %d: consent: %w", memberID, err)
	}
	var spendable wallet.Tiyn
	err = tx.QueryRow(ctx, spendableSQL, f.ID, spec.Now).Scan(&spendable)
	if err != nil {
		return fmt.Errorf("postgres: issue QR for member %d: spendable: %w", memberID, err)
	}
	if err := spec.Allowed(f, c, spendable); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE qr_tokens SET replaced_at = $2 WHERE member_id = $1 AND replaced_at IS NULL AND used_at IS NULL`, memberID, spec.Now); err != nil {
		return fmt.Errorf("postgres: issue QR for member %d: replace: %w", memberID, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO qr_tokens (token_id, member_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)`,
		spec.Token.ID[:], memberID, spec.Now, spec.Token.ExpiresAt)
	if err != nil {
		return fmt.Errorf("postgres: issue QR for member %d: %w", memberID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: issue QR for member %d: commit: %w", memberID, err)
	}
	return nil
}

// RecentPurchases lists a family's latest purchases, newest first.
func (s *Store) RecentPurchases(ctx context.Context, familyID string, limit int) ([]wallet.Purchase, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.member_id, m.name, r.created_at, r.gross, r.discount, r.covered, r.to_pay,
		r.voided_at IS NOT NULL
		FROM redemptions r JOIN merchants m ON m.id = r.merchant_id
		WHERE r.family_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2`, familyID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: purchases of family %s: %w", familyID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Purchase, error) {
		var p wallet.Purchase
		err := r.Scan(&p.ID, &p.MemberID, &p.Store, &p.At, &p.Gross, &p.Discount, &p.Covered, &p.ToPay, &p.Voided)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: purchases of family %s: %w", familyID, err)
	}
	return out, nil
}

// ActiveMerchants lists merchants taking vouchers, of city or of all cities.
func (s *Store) ActiveMerchants(ctx context.Context, city string) ([]wallet.Merchant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+merchantColumns+` FROM merchants
		WHERE disabled_at IS NULL AND ($1 = '' OR city = $1) ORDER BY name, id`, city)
	if err != nil {
		return nil, fmt.Errorf("postgres: active merchants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Merchant, error) { return scanMerchant(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: active merchants: %w", err)
	}
	return out, nil
}

// OverviewFamily reads what a member's screens show of their family — its
// members, whether they use the bot, their standing consents, and the
// family's vouchers; not the ledger, the family's city or freeze, nor
// members' IIN hashes, phones and eligibility — in one round trip: two
// statements sent as one batch. It is the bot's most frequent read; the two statements may see
// moments apart, which a screen can bear (each sum comes from one of them).
func (s *Store) OverviewFamily(ctx context.Context, familyID string) (wallet.FamilyView, error) {
	var fv wallet.FamilyView
	b := &pgx.Batch{}
	b.Queue(overviewMembers, familyID)
	b.Queue(`SELECT `+familyVoucherColumns+` FROM `+familyVouchers+` WHERE fm.family_id = $1 ORDER BY v.period, v.member_id`, familyID)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return fv, fmt.Errorf("postgres: overview of family %s: members: %w", familyID, err)
	}
	fv.ID = familyID
	fv.Members, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.MemberView, error) {
		return scanOverviewMember(r, familyID)
	})
	if err != nil {
		return fv, fmt.Errorf("postgres: overview of family %s: members: %w", familyID, err)
	}
	if len(fv.Members) == 0 {
		return fv, wallet.Errorf(wallet.CodeNotFound, "family %s", familyID)
	}
	vrows, err := br.Query()
	if err != nil {
		return fv, fmt.Errorf("postgres: overview of family %s: vouchers: %w", familyID, err)
	}
	fv.Vouchers, err = pgx.CollectRows(vrows, func(r pgx.CollectableRow) (wallet.Voucher, error) {
		var v wallet.Voucher
		err := scanVoucher(r, &v)
		return v, err
	})
	if err != nil {
		return fv, fmt.Errorf("postgres: overview of family %s: vouchers: %w", familyID, err)
	}
	return fv, nil
}

// overviewMembers lists a family's members in the family's order (the
// applicant first, then by age) with whether they use the bot and the date
// of their standing consent (at most one, by the unique index
// consents_active). Sub-selects, not joins: PostgreSQL runs this a third
// cheaper, and it is the bot's most frequent statement.
const overviewMembers = `SELECT m.id, m.iin_last4, m.birth_date, m.full_name, m.role,
	EXISTS (SELECT 1 FROM telegram_links l WHERE l.member_id = m.id),
	(SELECT c.given_at FROM consents c WHERE c.member_id = m.id AND c.revoked_at IS NULL)
	FROM members m WHERE m.family_id = $1 ORDER BY m.role = 'member', m.birth_date, m.id`

func scanOverviewMember(r pgx.CollectableRow, familyID string) (wallet.MemberView, error) {
	mv := wallet.MemberView{Member: wallet.Member{FamilyID: familyID}}
	var given *time.Time
	if err := r.Scan(&mv.ID, &mv.IINLast4, &mv.BirthDate, &mv.FullName, &mv.Role, &mv.Linked, &given); err != nil {
		return mv, err
	}
	if given != nil {
		mv.Consent = wallet.Consent{MemberID: mv.ID, GivenAt: *given}
	}
	return mv, nil
}
