package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

var _ wallet.Purchases = (*Store)(nil)

// uniqueIdempotency is the name PostgreSQL gave UNIQUE (merchant_id, idempotency_key).
const uniqueIdempotency = "redemptions_merchant_id_idempotency_key_key"

// spendableSQL is the family's value that may pay at $2 (the expiry job may lag).
const spendableSQL = `SELECT coalesce(sum(v.balance), 0) FROM ` + familyVouchers + `
	WHERE fm.family_id = $1 AND v.state = 'activated' AND v.expires_at > $2`

// TokenStatus reads a token's row, whose it is and what the family may spend,
// without locking anything: the cashier's look before ringing up.
func (s *Store) TokenStatus(ctx context.Context, tokenID [12]byte, now time.Time) (wallet.TokenStatus, error) {
	const q = `SELECT t.member_id, t.expires_at, t.replaced_at, t.used_at, m.full_name, m.family_id, f.frozen_at IS NOT NULL,
			(SELECT coalesce(sum(v.balance), 0) FROM ` + familyVouchers + `
			 WHERE fm.family_id = m.family_id AND v.state = 'activated' AND v.expires_at > $2)
		FROM qr_tokens t JOIN members m ON m.id = t.member_id JOIN families f ON f.id = m.family_id
		WHERE t.token_id = $1`
	var st wallet.TokenStatus
	var replaced, used *time.Time
	err := s.pool.QueryRow(ctx, q, tokenID[:], now).Scan(&st.Row.MemberID, &st.Row.ExpiresAt, &replaced, &used,
		&st.FullName, &st.FamilyID, &st.Frozen, &st.Available)
	if err != nil {
		return st, notFound(err, "QR token")
	}
	st.Row.ReplacedAt, st.Row.UsedAt = tv(replaced), tv(used)
	return st, nil
}

// Redeem carries out a purchase in one transaction. Locks are taken in one
// order by every use case that changes a family's value (the token or the
// purchase, then the family, then its vouchers earliest-expiring first), so
// concurrent purchases of one family queue instead of deadlocking, and the
// token's row lock makes it single-use however many tills present it at once.
func (s *Store) Redeem(ctx context.Context, spec wallet.RedeemSpec) (wallet.Redemption, error) {
	fail := func(what string, err error) (wallet.Redemption, error) {
		return wallet.Redemption{}, fmt.Errorf("postgres: redeem for merchant %d: %s: %w", spec.MerchantID, what, err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback(ctx)
	now := spec.Now.UTC().Truncate(time.Microsecond)

	const lockToken = `SELECT t.member_id, t.expires_at, t.replaced_at, t.used_at, m.family_id, m.full_name, f.frozen_at
		FROM qr_tokens t JOIN members m ON m.id = t.member_id JOIN families f ON f.id = m.family_id
		WHERE t.token_id = $1 FOR UPDATE OF t, f`
	var (
		row              wallet.TokenRow
		replaced, used   *time.Time
		frozen           *time.Time
		familyID, member string
	)
	err = tx.QueryRow(ctx, lockToken, spec.TokenID[:]).Scan(&row.MemberID, &row.ExpiresAt, &replaced, &used, &familyID, &member, &frozen)
	if errors.Is(err, pgx.ErrNoRows) {
		return wallet.Redemption{}, wallet.Errorf(wallet.CodeTokenInvalid, "QR token is not on record")
	}
	if err != nil {
		return fail("lock token", err)
	}
	row.ReplacedAt, row.UsedAt = tv(replaced), tv(used)
	if err := spec.CheckToken(row); err != nil {
		if wallet.IsCode(err, wallet.CodeTokenUsed) {
			// The purchase that used it may be this very request, retried.
			var taken bool
			if qerr := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM redemptions WHERE merchant_id = $1 AND idempotency_key = $2)`,
				spec.MerchantID, spec.IdempotencyKey).Scan(&taken); qerr != nil {
				return fail("idempotency key", qerr)
			}
			if taken {
				return wallet.Redemption{}, wallet.ErrIdempotencyKeyTaken
			}
		}
		return wallet.Redemption{}, err
	}
	if frozen != nil {
		return wallet.Redemption{}, wallet.Errorf(wallet.CodeFrozen, "family %s is frozen", familyID)
	}

	codes := distinctProducts(spec.Lines)
	b := &pgx.Batch{}
	b.Queue(`SELECT code FROM products WHERE active AND code = ANY($1)`, codes)
	b.Queue(`SELECT `+familyVoucherColumns+` FROM `+lockFamilyVouchers(`fm.family_id = $1`, `state = 'activated' AND expires_at > $2`)+`
		ORDER BY v.expires_at, v.id`, familyID, now)
	b.Queue(`SELECT nextval(pg_get_serial_sequence('redemptions', 'id'))`)
	br := tx.SendBatch(ctx, b)
	known, err := collect(br, pgx.RowTo[string])
	if err != nil {
		br.Close()
		return fail("catalogue", err)
	}
	vouchers, err := collect(br, func(r pgx.CollectableRow) (wallet.Voucher, error) {
		var v wallet.Voucher
		return v, scanVoucher(r, &v)
	})
	if err != nil {
		br.Close()
		return fail("lock vouchers", err)
	}
	var id int64
	if err := br.QueryRow().Scan(&id); err != nil {
		br.Close()
		return fail("next id", err)
	}
	if err := br.Close(); err != nil {
		return fail("batch", err)
	}
	if missing := missingProducts(codes, known); len(missing) > 0 {
		return wallet.Redemption{}, wallet.Errorf(wallet.CodeNotSZPT, "not in the СЗПТ catalogue: %s", strings.Join(missing, ", "))
	}

	available := wallet.Available(vouchers, now)
	q, debits, err := spec.Price(vouchers)
	if err != nil {
		return wallet.Redemption{}, err
	}
	r := wallet.Redemption{
		ID: id, MerchantID: spec.MerchantID, FamilyID: familyID, MemberID: row.MemberID,
		Member: wallet.ShortName(member), ReceiptNo: spec.ReceiptNo, Quote: q,
		FamilyRemaining: available - q.Covered, Debits: debits, CreatedAt: now,
	}
	resp, err := json.Marshal(r)
	if err != nil {
		return fail("encode answer", err)
	}

	byID := make(map[int64]wallet.Voucher, len(vouchers))
	for _, v := range vouchers {
		byID[v.ID] = v
	}
	var (
		vIDs, vAmounts, vBalances []int64
		vStates                   []string
		vClosed                   []*time.Time
	)
	for _, d := range debits {
		v := byID[d.VoucherID]
		vIDs = append(vIDs, d.VoucherID)
		vAmounts = append(vAmounts, int64(d.Amount))
		vBalances = append(vBalances, int64(v.Balance))
		vStates = append(vStates, string(v.State))
		vClosed = append(vClosed, nullTime(v.ClosedAt))
	}
	var (
		lNo                             []int32
		lProduct                        []string
		lQty, lPrice, lGross, lDiscount []int64
	)
	for _, l := range q.Lines {
		lNo = append(lNo, int32(l.No))
		lProduct = append(lProduct, l.Product)
		lQty = append(lQty, l.QtyMilli)
		lPrice = append(lPrice, int64(l.UnitPrice))
		lGross = append(lGross, int64(l.Gross))
		lDiscount = append(lDiscount, int64(l.Discount))
	}
	// One statement writes the purchase, its lines, the debits and their
	// ledger rows, consumes the token and queues the receipt. The voucher
	// update re-checks the balance it was computed from: a mismatch is a bug
	// and aborts everything.
	const write = `WITH purchase AS (
			INSERT INTO redemptions (id, merchant_id, family_id, member_id, token_id, idempotency_key, request_hash,
				receipt_no, mode, gross, discount, covered, to_pay, remaining, response, created_at)
			OVERRIDING SYSTEM VALUE
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		), lines AS (
			INSERT INTO redemption_lines (redemption_id, line_no, product_code, qty_milli, unit_price_tiyn, gross, discount)
			SELECT $1, l.* FROM unnest($17::int[], $18::text[], $19::bigint[], $20::bigint[], $21::bigint[], $22::bigint[]) AS l
		), debit AS (
			UPDATE vouchers v SET balance = d.balance, state = d.state, closed_at = d.closed_at
			FROM unnest($23::bigint[], $24::bigint[], $25::bigint[], $26::text[], $27::timestamptz[]) AS d(id, amount, balance, state, closed_at)
			WHERE v.id = d.id AND v.balance = d.balance + d.amount AND v.state = 'activated'
			RETURNING v.id
		), entries AS (
			INSERT INTO ledger (voucher_id, kind, amount, redemption_id, created_at)
			SELECT d.id, 'redemption', -d.amount, $1, $16 FROM unnest($23::bigint[], $24::bigint[]) AS d(id, amount)
		), token AS (
			UPDATE qr_tokens SET used_at = $16 WHERE token_id = $5
		), notice AS (
			INSERT INTO notifications (member_id, kind, ref_id, created_at) VALUES ($4, 'receipt', $1, $16)
		)
		SELECT count(*) FROM debit`
	var changed int
	err = tx.QueryRow(ctx, write,
		id, spec.MerchantID, familyID, row.MemberID, spec.TokenID[:], spec.IdempotencyKey, spec.RequestHash,
		spec.ReceiptNo, string(q.Mode), q.Gross, q.Discount, q.Covered, q.ToPay, r.FamilyRemaining, json.RawMessage(resp), now,
		lNo, lProduct, lQty, lPrice, lGross, lDiscount,
		vIDs, vAmounts, vBalances, vStates, vClosed,
	).Scan(&changed)
	if isUnique(err, uniqueIdempotency) {
		return wallet.Redemption{}, wallet.ErrIdempotencyKeyTaken
	}
	if err != nil {
		return fail("write", err)
	}
	if changed != len(debits) {
		return fail("write", fmt.Errorf("%d of %d vouchers changed under lock", changed, len(debits)))
	}
	if err := tx.Commit(ctx); err != nil {
		if isUnique(err, uniqueIdempotency) {
			return wallet.Redemption{}, wallet.ErrIdempotencyKeyTaken
		}
		return fail("commit", err)
	}
	return r, nil
}

// collect reads the next result of a batch.
func collect[T any](br pgx.BatchResults, fn pgx.RowToFunc[T]) ([]T, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, fn)
}

func distinctProducts(lines []wallet.LineInput) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l.Product] {
			seen[l.Product] = true
			out = append(out, l.Product)
		}
	}
	return out
}

func missingProducts(asked, known []string) []string {
	have := map[string]bool{}
	for _, k := range known {
		have[k] = true
	}
	var out []string
	for _, a := range asked {
		if !have[a] {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// RedemptionByKey is the first answer given to a merchant's idempotency key,
// and the hash of the request it answered.
func (s *Store) RedemptionByKey(ctx context.Context, merchantID int64, key string) (wallet.Redemption, []byte, error) {
	var resp []byte
	var hash []byte
	err := s.pool.QueryRow(ctx, `SELECT response, request_hash FROM redemptions WHERE merchant_id = $1 AND idempotency_key = $2`,
		merchantID, key).Scan(&resp, &hash)
	if err != nil {
		return wallet.Redemption{}, nil, notFound(err, "purchase of merchant %d by idempotency key", merchantID)
	}
	var r wallet.Redemption
	if err := json.Unmarshal(resp, &r); err != nil {
		return r, nil, fmt.Errorf("postgres: purchase of merchant %d: stored answer: %w", merchantID, err)
	}
	return r, hash, nil
}

// RedemptionForMerchant is one of the merchant's purchases with its void; a
// purchase of another merchant is not_found.
func (s *Store) RedemptionForMerchant(ctx context.Context, merchantID, id int64) (wallet.Redemption, error) {
	const q = `SELECT r.response, r.voided_at, coalesce(r.void_remaining, 0),
			(SELECT coalesce(sum(amount), 0) FROM ledger WHERE redemption_id = r.id AND kind = 'void')
		FROM redemptions r WHERE r.id = $1 AND r.merchant_id = $2`
	var resp []byte
	var voided *time.Time
	var remaining, returned wallet.Tiyn
	if err := s.pool.QueryRow(ctx, q, id, merchantID).Scan(&resp, &voided, &remaining, &returned); err != nil {
		return wallet.Redemption{}, notFound(err, "purchase %d", id)
	}
	var r wallet.Redemption
	if err := json.Unmarshal(resp, &r); err != nil {
		return r, fmt.Errorf("postgres: purchase %d: stored answer: %w", id, err)
	}
	r.VoidedAt, r.VoidRemaining, r.Returned = tv(voided), remaining, returned
	return r, nil
}

// VoidRedemption gives a purchase's value back to the vouchers it came from,
// except those that have expired since, in one transaction. A purchase voided
// before is returned as it stands.
func (s *Store) VoidRedemption(ctx context.Context, spec wallet.VoidSpec) (wallet.Redemption, error) {
	fail := func(what string, err error) (wallet.Redemption, error) {
		return wallet.Redemption{}, fmt.Errorf("postgres: void purchase %d: %s: %w", spec.RedemptionID, what, err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback(ctx)
	now := spec.Now.UTC().Truncate(time.Microsecond)

	const lock = `SELECT r.response, r.created_at, r.voided_at, coalesce(r.void_remaining, 0)
		FROM redemptions r JOIN families f ON f.id = r.family_id
		WHERE r.id = $1 AND r.merchant_id = $2 FOR UPDATE OF r, f`
	var resp []byte
	var created time.Time
	var voided *time.Time
	var voidRemaining wallet.Tiyn
	if err := tx.QueryRow(ctx, lock, spec.RedemptionID, spec.MerchantID).Scan(&resp, &created, &voided, &voidRemaining); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return wallet.Redemption{}, wallet.Errorf(wallet.CodeNotFound, "no purchase %d of this merchant", spec.RedemptionID)
		}
		return fail("lock", err)
	}
	var r wallet.Redemption
	if err := json.Unmarshal(resp, &r); err != nil {
		return fail("stored answer", err)
	}
	if voided != nil {
		r.VoidedAt, r.VoidRemaining = *voided, voidRemaining
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM ledger WHERE redemption_id = $1 AND kind = 'void'`,
			spec.RedemptionID).Scan(&r.Returned); err != nil {
			return fail("returned", err)
		}
		return r, nil
	}
	if err := spec.Allowed(created); err != nil {
		return wallet.Redemption{}, err
	}

	const debited = `SELECT ` + voucherColumns + `, -l.amount
		FROM ledger l JOIN vouchers v ON v.id = l.voucher_id
		WHERE l.redemption_id = $1 AND l.kind = 'redemption'
		ORDER BY v.expires_at, v.id FOR UPDATE OF v`
	rows, err := tx.Query(ctx, debited, spec.RedemptionID)
	if err != nil {
		return fail("lock vouchers", err)
	}
	type debitedVoucher struct {
		v      wallet.Voucher
		amount wallet.Tiyn
	}
	took, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (debitedVoucher, error) {
		var d debitedVoucher
		return d, scanVoucher(row, &d.v, &d.amount)
	})
	if err != nil {
		return fail("lock vouchers", err)
	}
	var ids, amounts, balances []int64
	for _, d := range took {
		if err := d.v.Refund(d.amount, now); err != nil {
			if wallet.IsCode(err, wallet.CodeConflict) {
				continue // expired since: that value has lapsed
			}
			return fail(fmt.Sprintf("refund voucher %d", d.v.ID), err)
		}
		ids = append(ids, d.v.ID)
		amounts = append(amounts, int64(d.amount))
		balances = append(balances, int64(d.v.Balance))
		r.Returned += d.amount
	}
	const credit = `WITH credit AS (
			UPDATE vouchers v SET balance = d.balance, state = 'activated', closed_at = NULL
			FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS d(id, amount, balance)
			WHERE v.id = d.id AND v.balance = d.balance - d.amount AND v.state IN ('activated', 'spent')
			RETURNING v.id
		), entries AS (
			INSERT INTO ledger (voucher_id, kind, amount, redemption_id, created_at)
			SELECT d.id, 'void', d.amount, $1, $5 FROM unnest($2::bigint[], $3::bigint[]) AS d(id, amount)
		), notice AS (
			INSERT INTO notifications (member_id, kind, ref_id, created_at) VALUES ($6, 'void', $1, $5)
		)
		SELECT count(*) FROM credit`
	var changed int
	if err := tx.QueryRow(ctx, credit, spec.RedemptionID, ids, amounts, balances, now, r.MemberID).Scan(&changed); err != nil {
		return fail("credit", err)
	}
	if changed != len(ids) {
		return fail("credit", fmt.Errorf("%d of %d vouchers changed under lock", changed, len(ids)))
	}
	const mark = `UPDATE redemptions SET voided_at = $2,
			void_remaining = (` + spendableSQL + `)
		WHERE id = $3 RETURNING void_remaining`
	if err := tx.QueryRow(ctx, mark, r.FamilyID, now, spec.RedemptionID).Scan(&r.VoidRemaining); err != nil {
		return fail("mark", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail("commit", err)
	}
	r.VoidedAt = now
	return r, nil
}

// FreezeFamily records a "Not me": the family is frozen, a row is left for
// the operator and every linked member is told, once per purchase reported.
func (s *Store) FreezeFamily(ctx context.Context, spec wallet.FreezeSpec) error {
	fail := func(what string, err error) error {
		return fmt.Errorf("postgres: freeze for purchase %d: %s: %w", spec.RedemptionID, what, err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback(ctx)
	now := spec.Now.UTC().Truncate(time.Microsecond)
	// The purchase must be the reporting member's family's; then the family is locked.
	const find = `SELECT f.id FROM redemptions r
		JOIN members m ON m.family_id = r.family_id
		JOIN families f ON f.id = r.family_id
		WHERE r.id = $1 AND m.id = $2 FOR UPDATE OF f`
	var familyID string
	if err := tx.QueryRow(ctx, find, spec.RedemptionID, spec.MemberID).Scan(&familyID); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return wallet.Errorf(wallet.CodeNotFound, "no purchase %d in the family of member %d", spec.RedemptionID, spec.MemberID)
		}
		return fail("find", err)
	}
	var reported bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM family_freezes WHERE redemption_id = $1 AND lifted_at IS NULL)`,
		spec.RedemptionID).Scan(&reported); err != nil {
		return fail("earlier report", err)
	}
	if reported {
		return nil
	}
	const freeze = `WITH fam AS (
			UPDATE families SET frozen_at = coalesce(frozen_at, $4), updated_at = now() WHERE id = $1
		), row AS (
			INSERT INTO family_freezes (family_id, member_id, redemption_id, reason, created_at)
			VALUES ($1, $2, $3, $5, $4) RETURNING id
		)
		INSERT INTO notifications (member_id, kind, ref_id, created_at)
		SELECT l.member_id, 'frozen', row.id, $4
		FROM telegram_links l JOIN members m ON m.id = l.member_id, row
		WHERE m.family_id = $1 AND l.blocked_at IS NULL`
	if _, err := tx.Exec(ctx, freeze, familyID, spec.MemberID, spec.RedemptionID, now, spec.Reason); err != nil {
		return fail("freeze", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fail("commit", err)
	}
	return nil
}

// UnfreezeFamily lifts a family's freeze and closes its open freeze rows.
func (s *Store) UnfreezeFamily(ctx context.Context, familyID string, now time.Time) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: unfreeze family %s: %w", familyID, err)
	}
	defer tx.Rollback(ctx)
	var frozen *time.Time
	err = tx.QueryRow(ctx, `SELECT frozen_at FROM families WHERE id = $1 FOR UPDATE`, familyID).Scan(&frozen)
	if err != nil {
		return notFound(err, "family %s", familyID)
	}
	if frozen == nil {
		return wallet.Errorf(wallet.CodeConflict, "family %s is not frozen", familyID)
	}
	now = now.UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, `UPDATE families SET frozen_at = NULL, updated_at = now() WHERE id = $1`, familyID); err != nil {
		return fmt.Errorf("postgres: unfreeze family %s: %w", familyID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE family_freezes SET lifted_at = $2 WHERE family_id = $1 AND lifted_at IS NULL`, familyID, now); err != nil {
		return fmt.Errorf("postgres: unfreeze family %s: lift rows: %w", familyID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: unfreeze family %s: commit: %w", familyID, err)
	}
	return nil
}

// Receipt reads a purchase as the recipient is told of it.
func (s *Store) Receipt(ctx context.Context, redemptionID int64) (wallet.Receipt, error) {
	var rc wallet.Receipt
	b := &pgx.Batch{}
	b.Queue(`SELECT r.id, r.member_id, r.family_id, m.name, m.address, r.created_at, r.mode, r.gross, r.discount,
			r.covered, r.to_pay, r.remaining, r.voided_at, coalesce(r.void_remaining, 0),
			(SELECT coalesce(sum(amount), 0) FROM ledger WHERE redemption_id = r.id AND kind = 'void')
		FROM redemptions r JOIN merchants m ON m.id = r.merchant_id WHERE r.id = $1`, redemptionID)
	b.Queue(`SELECT l.product_code, p.name_kk, p.name_ru, p.unit, l.qty_milli, l.unit_price_tiyn, l.gross, l.discount
		FROM redemption_lines l JOIN products p ON p.code = l.product_code
		WHERE l.redemption_id = $1 ORDER BY l.line_no`, redemptionID)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var voided *time.Time
	var voidRemaining wallet.Tiyn
	err := br.QueryRow().Scan(&rc.RedemptionID, &rc.MemberID, &rc.FamilyID, &rc.Store, &rc.StoreAddress, &rc.At, &rc.Mode,
		&rc.Gross, &rc.Discount, &rc.PaidByVoucher, &rc.ToPay, &rc.FamilyRemaining, &voided, &voidRemaining, &rc.Returned)
	if err != nil {
		return rc, notFound(err, "purchase %d", redemptionID)
	}
	if voided != nil {
		rc.Voided, rc.VoidedAt, rc.FamilyRemaining = true, *voided, voidRemaining
	}
	rc.Lines, err = collect(br, func(r pgx.CollectableRow) (wallet.ReceiptLine, error) {
		var l wallet.ReceiptLine
		err := r.Scan(&l.Product.Code, &l.Product.NameKK, &l.Product.NameRU, &l.Product.Unit, &l.QtyMilli, &l.UnitPrice, &l.Gross, &l.Discount)
		l.Net = l.Gross - l.Discount
		return l, err
	})
	if err != nil {
		return rc, fmt.Errorf("postgres: receipt %d: lines: %w", redemptionID, err)
	}
	return rc, nil
}
