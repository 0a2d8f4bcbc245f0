package postgres

import (
	"context"
	"fmt"
)

// LedgerMismatch is a voucher whose balance is not the sum of its ledger rows.
type LedgerMismatch struct {
	VoucherID    int64
	Balance, Sum int64
}

// VerifyLedger checks the invariant that protects the money: every voucher's
// spendable balance equals the sum of its ledger rows. It returns the vouchers
// that break it (none, in a healthy database).
func (s *Store) VerifyLedger(ctx context.Context) ([]LedgerMismatch, error) {
	rows, err := s.pool.Query(ctx, `SELECT v.id, v.balance, coalesce(l.sum, 0)
		FROM vouchers v LEFT JOIN (SELECT voucher_id, sum(amount) AS sum FROM ledger GROUP BY voucher_id) l
		ON l.voucher_id = v.id WHERE v.balance <> coalesce(l.sum, 0) ORDER BY v.id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: verify ledger: %w", err)
	}
	defer rows.Close()
	var out []LedgerMismatch
	for rows.Next() {
		var m LedgerMismatch
		if err := rows.Scan(&m.VoucherID, &m.Balance, &m.Sum); err != nil {
			return nil, fmt.Errorf("postgres: verify ledger: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
