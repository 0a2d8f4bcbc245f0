package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

// ImportRegistry writes validated registry rows in one transaction: COPY into a
// staging table, refuse families whose members already belong to another family,
// then upsert families and members set-based. Re-importing the same rows changes
// nothing. With dryRun the transaction is rolled back.
func (s *Store) ImportRegistry(ctx context.Context, rows []wallet.RegistryRow, dryRun bool) (wallet.ImportResult, error) {
	var res wallet.ImportResult
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("postgres: import registry: %w", err)
	}
	defer tx.Rollback(ctx)

	const stage = `CREATE TEMP TABLE registry_in (
		line int NOT NULL, family_id text NOT NULL, city text NOT NULL, iin_hmac bytea NOT NULL,
		iin_last4 text NOT NULL, birth_date date NOT NULL, female boolean NOT NULL, full_name text NOT NULL,
		phone text, role text NOT NULL, eligible_from date NOT NULL, eligible_until date
	) ON COMMIT DROP`
	if _, err := tx.Exec(ctx, stage); err != nil {
		return res, fmt.Errorf("postgres: import registry: stage: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"registry_in"},
		[]string{"line", "family_id", "city", "iin_hmac", "iin_last4", "birth_date", "female", "full_name", "phone", "role", "eligible_from", "eligible_until"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{r.Line, r.FamilyID, r.City, r.IINHash, r.IINLast4, r.BirthDate, r.Female, r.FullName,
				nullString(r.Phone), string(r.Role), r.EligibleFrom, nullTime(r.EligibleUntil)}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("postgres: import registry: copy: %w", err)
	}

	// A person belongs to one family: an IIN already recorded elsewhere refuses
	// the whole incoming family, which then stays as it was.
	const conflicts = `SELECT r.line, r.family_id, m.family_id FROM registry_in r
		JOIN members m ON m.iin_hmac = r.iin_hmac WHERE m.family_id <> r.family_id`
	crow, err := tx.Query(ctx, conflicts)
	if err != nil {
		return res, fmt.Errorf("postgres: import registry: conflicts: %w", err)
	}
	badFam := map[string]int{}
	for crow.Next() {
		var line int
		var fam, other string
		if err := crow.Scan(&line, &fam, &other); err != nil {
			return res, fmt.Errorf("postgres: import registry: conflicts: %w", err)
		}
		res.Rejected = append(res.Rejected, wallet.RowError{Line: line, Field: "iin", Reason: "this IIN already belongs to family " + other})
		if first, ok := badFam[fam]; !ok || line < first {
			badFam[fam] = line
		}
	}
	if err := crow.Err(); err != nil {
		return res, fmt.Errorf("postgres: import registry: conflicts: %w", err)
	}
	if len(badFam) > 0 {
		reported := map[int]bool{}
		for _, e := range res.Rejected {
			reported[e.Line] = true
		}
		for _, r := range rows {
			if first, bad := badFam[r.FamilyID]; bad && !reported[r.Line] {
				res.Rejected = append(res.Rejected, wallet.RowError{Line: r.Line, Field: "family_id",
					Reason: fmt.Sprintf("family %s is not imported: line %d is rejected", r.FamilyID, first)})
			}
		}
		sort.Slice(res.Rejected, func(i, j int) bool { return res.Rejected[i].Line < res.Rejected[j].Line })
		fams := make([]string, 0, len(badFam))
		for f := range badFam {
			fams = append(fams, f)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM registry_in WHERE family_id = ANY($1)`, fams); err != nil {
			return res, fmt.Errorf("postgres: import registry: drop refused: %w", err)
		}
	}

	const families = `INSERT INTO families (id, city) SELECT DISTINCT family_id, city FROM registry_in
		ON CONFLICT (id) DO UPDATE SET city = EXCLUDED.city, updated_at = now()
		WHERE families.city IS DISTINCT FROM EXCLUDED.city`
	if _, err := tx.Exec(ctx, families); err != nil {
		return res, fmt.Errorf("postgres: import registry: families: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT family_id) FROM registry_in`).Scan(&res.Families); err != nil {
		return res, fmt.Errorf("postgres: import registry: count: %w", err)
	}
	// A new applicant replaces the old one, who stays a member.
	const demote = `UPDATE members m SET role = 'member', updated_at = now()
		FROM registry_in r WHERE r.role = 'applicant' AND m.family_id = r.family_id
		AND m.role = 'applicant' AND m.iin_hmac <> r.iin_hmac`
	if _, err := tx.Exec(ctx, demote); err != nil {
		return res, fmt.Errorf("postgres: import registry: applicants: %w", err)
	}
	const upsert = `INSERT INTO members AS m (family_id, iin_hmac, iin_last4, birth_date, female, full_name, phone, role, eligible_from, eligible_until)
		SELECT family_id, iin_hmac, iin_last4, birth_date, female, full_name, phone, role, eligible_from, eligible_until
		FROM registry_in ORDER BY role = 'member' -- members first would collide with the applicant index on promotion
		ON CONFLICT (iin_hmac) DO UPDATE SET full_name = EXCLUDED.full_name, phone = EXCLUDED.phone,
			role = EXCLUDED.role, eligible_from = EXCLUDED.eligible_from, eligible_until = EXCLUDED.eligible_until,
			updated_at = now()
		WHERE (m.full_name, m.phone, m.role, m.eligible_from, m.eligible_until)
			IS DISTINCT FROM (EXCLUDED.full_name, EXCLUDED.phone, EXCLUDED.role, EXCLUDED.eligible_from, EXCLUDED.eligible_until)
		RETURNING (xmax = 0)`
	ur, err := tx.Query(ctx, upsert)
	if err != nil {
		return res, fmt.Errorf("postgres: import registry: members: %w", err)
	}
	written := 0
	for ur.Next() {
		var inserted bool
		if err := ur.Scan(&inserted); err != nil {
			return res, fmt.Errorf("postgres: import registry: members: %w", err)
		}
		written++
		if inserted {
			res.Inserted++
		} else {
			res.Updated++
		}
	}
	if err := ur.Err(); err != nil {
		return res, fmt.Errorf("postgres: import registry: members: %w", err)
	}
	var staged int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM registry_in`).Scan(&staged); err != nil {
		return res, fmt.Errorf("postgres: import registry: count: %w", err)
	}
	res.Unchanged = staged - written
	if dryRun {
		return res, nil // deferred rollback
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("postgres: import registry: commit: %w", err)
	}
	if written > 0 {
		// After a bulk import autovacuum may not have come yet. Until it
		// does, the next month's issuance, reading the whole registry, would
		// be the one to write every page's hint bits; and the bot's and the
		// till's plans want the new statistics.
		if _, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) members, families`); err != nil {
			return res, fmt.Errorf("postgres: import registry: vacuum: %w", err)
		}
	}
	return res, nil
}

// FamilyView loads what a family holds: members with link and consent, every
// voucher and every ledger row.
func (s *Store) FamilyView(ctx context.Context, familyID string) (wallet.FamilyView, error) {
	var fv wallet.FamilyView
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return fv, fmt.Errorf("postgres: family %s: %w", familyID, err)
	}
	defer tx.Rollback(ctx)
	var frozen *time.Time
	err = tx.QueryRow(ctx, `SELECT id, city, frozen_at FROM families WHERE id = $1`, familyID).Scan(&fv.ID, &fv.City, &frozen)
	if err != nil {
		return fv, notFound(err, "family %s", familyID)
	}
	fv.FrozenAt = tv(frozen)
	const members = `SELECT m.id, m.family_id, m.iin_hmac, m.iin_last4, m.birth_date, m.female, m.full_name,
		coalesce(m.phone, ''), m.role, m.eligible_from, m.eligible_until,
		l.member_id IS NOT NULL, l.blocked_at IS NOT NULL, c.version, c.given_at, c.revoked_at
		FROM members m
		LEFT JOIN telegram_links l ON l.member_id = m.id
		LEFT JOIN LATERAL (SELECT version, given_at, revoked_at FROM consents
			WHERE member_id = m.id ORDER BY given_at DESC, id DESC LIMIT 1) c ON true
		WHERE m.family_id = $1 ORDER BY m.role = 'member', m.birth_date, m.id`
	rows, err := tx.Query(ctx, members, familyID)
	if err != nil {
		return fv, fmt.Errorf("postgres: family %s: members: %w", familyID, err)
	}
	for rows.Next() {
		var mv wallet.MemberView
		var until, given, revoked *time.Time
		var version *string
		if err := rows.Scan(&mv.ID, &mv.FamilyID, &mv.IINHash, &mv.IINLast4, &mv.BirthDate, &mv.Female, &mv.FullName,
			&mv.Phone, &mv.Role, &mv.EligibleFrom, &until, &mv.Linked, &mv.Blocked, &version, &given, &revoked); err != nil {
			return fv, fmt.Errorf("postgres: family %s: members: %w", familyID, err)
		}
		mv.EligibleUntil = tv(until)
		if version != nil {
			mv.Consent = wallet.Consent{MemberID: mv.ID, Version: *version, GivenAt: tv(given), RevokedAt: tv(revoked)}
		}
		fv.Members = append(fv.Members, mv)
	}
	if err := rows.Err(); err != nil {
		return fv, fmt.Errorf("postgres: family %s: members: %w", familyID, err)
	}
	if fv.Vouchers, err = queryVouchers(ctx, tx, `WHERE fm.family_id = $1 ORDER BY v.period, v.member_id`, familyID); err != nil {
		return fv, fmt.Errorf("postgres: family %s: %w", familyID, err)
	}
	lrows, err := tx.Query(ctx, `SELECT l.id, l.voucher_id, l.kind, l.amount, coalesce(l.redemption_id, 0), l.created_at
		FROM ledger l JOIN (SELECT v.id FROM `+familyVouchers+` WHERE fm.family_id = $1) v ON v.id = l.voucher_id ORDER BY l.id`, familyID)
	if err != nil {
		return fv, fmt.Errorf("postgres: family %s: ledger: %w", familyID, err)
	}
	fv.Ledger, err = pgx.CollectRows(lrows, func(r pgx.CollectableRow) (wallet.LedgerEntry, error) {
		var e wallet.LedgerEntry
		err := r.Scan(&e.ID, &e.VoucherID, &e.Kind, &e.Amount, &e.RedemptionID, &e.At)
		return e, err
	})
	if err != nil {
		return fv, fmt.Errorf("postgres: family %s: ledger: %w", familyID, err)
	}
	return fv, nil
}
