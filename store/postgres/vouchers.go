package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

// IssueVouchers creates one voucher per member eligible on spec.EligibilityDay,
// set-based. Two issuances run one after the other, so the second finds every
// voucher already there; the primary key (month and member) stands behind that.
//
// The writing is issue_voucher_month (migration 00007): a month's first
// issuance fills the month's partition while it is still a plain table and
// then attaches it, so the key is built by one sort; a later run (members who
// became eligible since) inserts only the missing vouchers.
func (s *Store) IssueVouchers(ctx context.Context, spec wallet.IssueSpec) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: issue %s: %w", spec.Period, err)
	}
	defer tx.Rollback(ctx)
	p := spec.Period.FirstDay()
	// Issuances run one at a time (this lock conflicts with itself), and it
	// is taken before any row of periods is touched, so an annulment marking
	// its month waits for this one instead of deadlocking with it.
	if _, err := tx.Exec(ctx, `LOCK TABLE periods IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("postgres: issue %s: lock: %w", spec.Period, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO periods (period) VALUES ($1) ON CONFLICT DO NOTHING`, p); err != nil {
		return 0, fmt.Errorf("postgres: issue %s: period: %w", spec.Period, err)
	}
	// Every read of a family's vouchers crosses its members with periods.
	// Autovacuum never analyzes a table of a few rows, and unanalyzed, one
	// page of periods is planned as 1 700 months: a family's read then looks
	// costly enough to be compiled (JIT) on every execution, a tenth of a
	// second each.
	if _, err := tx.Exec(ctx, `ANALYZE periods`); err != nil {
		return 0, fmt.Errorf("postgres: issue %s: analyze: %w", spec.Period, err)
	}
	// The memory keeps the attach's sort of the key in RAM. Compiling these
	// few big statements (JIT) costs more than it saves.
	for _, set := range []string{`SET LOCAL maintenance_work_mem = '256MB'`, `SET LOCAL jit = off`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			return 0, fmt.Errorf("postgres: issue %s: %w", spec.Period, err)
		}
	}
	var issued int64
	err = tx.QueryRow(ctx, `SELECT issue_voucher_month($1, $2, $3, $4, $5)`,
		p, spec.Amount, spec.Now, spec.ExpiresAt, spec.EligibilityDay).Scan(&issued)
	if err != nil {
		return 0, fmt.Errorf("postgres: issue %s: %w", spec.Period, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE periods SET issued_at = coalesce(issued_at, $2) WHERE period = $1`, p, spec.Now); err != nil {
		return 0, fmt.Errorf("postgres: issue %s: mark: %w", spec.Period, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: issue %s: commit: %w", spec.Period, err)
	}
	return issued, nil
}

// AnnulVouchers closes every still-issued voucher of p in one statement. Its row
// locks serialise it with activations: a voucher activated first is skipped, one
// annulled first refuses the activation.
func (s *Store) AnnulVouchers(ctx context.Context, p wallet.Period, now time.Time) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: annul %s: %w", p, err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE vouchers SET state = 'annulled', closed_at = $2 WHERE `+idsOf("$1")+` AND state = 'issued'`, p.FirstDay(), now)
	if err != nil {
		return 0, fmt.Errorf("postgres: annul %s: %w", p, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE periods SET annulled_at = coalesce(annulled_at, $2) WHERE period = $1`, p.FirstDay(), now); err != nil {
		return 0, fmt.Errorf("postgres: annul %s: mark: %w", p, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: annul %s: commit: %w", p, err)
	}
	return tag.RowsAffected(), nil
}

// ActivateVouchers locks the actor's consent and the family's vouchers of the
// period, applies the programme rule to each, and credits the activated ones
// with one ledger row each.
func (s *Store) ActivateVouchers(ctx context.Context, spec wallet.ActivateSpec) ([]wallet.Voucher, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: activate for member %d: %w", spec.ActorID, err)
	}
	defer tx.Rollback(ctx)

	actor, err := memberByID(ctx, tx, spec.ActorID)
	if err != nil {
		return nil, err
	}
	var consent wallet.Consent
	err = tx.QueryRow(ctx, `SELECT member_id, version, given_at FROM consents
		WHERE member_id = $1 AND revoked_at IS NULL FOR SHARE`, spec.ActorID).Scan(&consent.MemberID, &consent.Version, &consent.GivenAt)
	if err != nil && err != pgx.ErrNoRows {
		return nil, fmt.Errorf("postgres: activate for member %d: consent: %w", spec.ActorID, err)
	}

	which := `fm.family_id = $1 AND fp.period = $2`
	args := []any{actor.FamilyID, spec.Period.FirstDay()}
	if len(spec.VoucherIDs) > 0 {
		which += ` AND voucher_id(fp.period, fm.id) = ANY($3)`
		args = append(args, spec.VoucherIDs)
	}
	rows, err := tx.Query(ctx, `SELECT `+familyVoucherColumns+`, `+memberColumns+`
		FROM `+lockFamilyVouchers(which, `true`)+` JOIN members m ON m.id = v.member_id ORDER BY v.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: activate for member %d: lock: %w", spec.ActorID, err)
	}
	type row struct {
		v wallet.Voucher
		m wallet.Member
	}
	locked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := scanVoucher(r, &x.v, memberDest(&x.m)...)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: activate for member %d: lock: %w", spec.ActorID, err)
	}
	if len(spec.VoucherIDs) > 0 && len(locked) != len(spec.VoucherIDs) {
		return nil, wallet.Errorf(wallet.CodeNotFound, "member %d: %d of %d vouchers not found in the family's period %s",
			spec.ActorID, len(spec.VoucherIDs)-len(locked), len(spec.VoucherIDs), spec.Period)
	}
	var (
		done     []wallet.Voucher
		firstErr error
	)
	for _, x := range locked {
		err := spec.Allowed(actor, x.m, consent)
		if err == nil {
			err = x.v.Activate(spec.ActorID, spec.Now, spec.Deadline)
		}
		if err != nil {
			if len(spec.VoucherIDs) > 0 {
				return nil, err // each named voucher must activate, or none does
			}
			if firstErr == nil || wallet.IsCode(err, wallet.CodeConsentRequired) || wallet.IsCode(firstErr, wallet.CodeForbidden) {
				firstErr = err
			}
			continue
		}
		done = append(done, x.v)
	}
	if len(done) == 0 {
		if firstErr == nil {
			firstErr = wallet.Errorf(wallet.CodeNotFound, "member %d: no vouchers in period %s", spec.ActorID, spec.Period)
		}
		return nil, firstErr
	}
	ids := make([]int64, len(done))
	for i, v := range done {
		ids[i] = v.ID
	}
	const activate = `UPDATE vouchers SET state = 'activated', balance = amount, activated_at = $2, activated_by = $3
		WHERE id = ANY($1) AND state = 'issued'`
	tag, err := tx.Exec(ctx, activate, ids, spec.Now, spec.ActorID)
	if err != nil {
		return nil, fmt.Errorf("postgres: activate for member %d: %w", spec.ActorID, err)
	}
	if tag.RowsAffected() != int64(len(ids)) {
		return nil, fmt.Errorf("postgres: activate for member %d: %d of %d rows changed under lock", spec.ActorID, tag.RowsAffected(), len(ids))
	}
	const credit = `INSERT INTO ledger (voucher_id, kind, amount, created_at)
		SELECT id, 'activation', amount, $2 FROM vouchers WHERE id = ANY($1)`
	if _, err := tx.Exec(ctx, credit, ids, spec.Now); err != nil {
		return nil, fmt.Errorf("postgres: activate for member %d: ledger: %w", spec.ActorID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: activate for member %d: commit: %w", spec.ActorID, err)
	}
	return done, nil
}

// ExpireVouchers lapses activated value whose expiry has come, writing one
// negative ledger row for each voucher that still held value.
func (s *Store) ExpireVouchers(ctx context.Context, now time.Time) (int64, wallet.Tiyn, error) {
	const expire = `WITH due AS (
			SELECT id, balance FROM vouchers
			WHERE state = 'activated' AND expires_at <= $1 FOR UPDATE
		), upd AS (
			UPDATE vouchers v SET state = 'expired', balance = 0, closed_at = $1
			FROM due WHERE v.id = due.id RETURNING v.id, due.balance
		), led AS (
			INSERT INTO ledger (voucher_id, kind, amount, created_at)
			SELECT id, 'expiry', -balance, $1 FROM upd WHERE balance > 0
		)
		SELECT count(*), coalesce(sum(balance), 0) FROM upd`
	var n int64
	var lapsed wallet.Tiyn
	if err := s.pool.QueryRow(ctx, expire, now).Scan(&n, &lapsed); err != nil {
		return 0, 0, fmt.Errorf("postgres: expire vouchers: %w", err)
	}
	return n, lapsed, nil
}

// memberColumns is the select list memberDest reads.
const memberColumns = `m.id, m.family_id, m.iin_hmac, m.iin_last4, m.birth_date, m.female, m.full_name,
	coalesce(m.phone, ''), m.role, m.eligible_from, m.eligible_until`

func memberDest(m *wallet.Member) []any {
	return []any{&m.ID, &m.FamilyID, &m.IINHash, &m.IINLast4, &m.BirthDate, &m.Female, &m.FullName,
		&m.Phone, &m.Role, &m.EligibleFrom, nullDate{&m.EligibleUntil}}
}

// nullDate scans a nullable date into a time that stays zero for NULL.
type nullDate struct{ t *time.Time }

func (n nullDate) Scan(src any) error {
	if src == nil {
		*n.t = time.Time{}
		return nil
	}
	t, ok := src.(time.Time)
	if !ok {
		return fmt.Errorf("nullDate: got %T", src)
	}
	*n.t = t
	return nil
}

func memberByID(ctx context.Context, tx pgx.Tx, id int64) (wallet.Member, error) {
	var m wallet.Member
	err := tx.QueryRow(ctx, `SELECT `+memberColumns+` FROM members m WHERE m.id = $1`, id).Scan(memberDest(&m)...)
	if err != nil {
		return m, notFound(err, "member %d", id)
	}
	return m, nil
}
