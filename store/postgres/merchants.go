package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

// AddMerchant stores a merchant with the hash of its API key.
func (s *Store) AddMerchant(ctx context.Context, m wallet.Merchant, keyHash []byte) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO merchants (name, city, address, lat, lon, discount_bp, api_key_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		m.Name, m.City, m.Address, m.Lat, m.Lon, m.DiscountBP, keyHash, m.CreatedAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("postgres: add merchant: %w", err)
	}
	return id, nil
}

const merchantColumns = `id, name, city, address, lat, lon, discount_bp, created_at, disabled_at`

func scanMerchant(r pgx.Row) (wallet.Merchant, error) {
	var m wallet.Merchant
	var disabled *time.Time
	err := r.Scan(&m.ID, &m.Name, &m.City, &m.Address, &m.Lat, &m.Lon, &m.DiscountBP, &m.CreatedAt, &disabled)
	m.DisabledAt = tv(disabled)
	return m, err
}

// ListMerchants lists every merchant, active or not.
func (s *Store) ListMerchants(ctx context.Context) ([]wallet.Merchant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+merchantColumns+` FROM merchants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list merchants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Merchant, error) { return scanMerchant(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list merchants: %w", err)
	}
	return out, nil
}

// MerchantByKeyHash finds the active merchant a presented key belongs to.
func (s *Store) MerchantByKeyHash(ctx context.Context, hash []byte) (wallet.Merchant, error) {
	m, err := scanMerchant(s.pool.QueryRow(ctx, `SELECT `+merchantColumns+` FROM merchants
		WHERE api_key_hash = $1 AND disabled_at IS NULL`, hash))
	if err != nil {
		return m, notFound(err, "merchant by key")
	}
	return m, nil
}

// RotateMerchantKey replaces the key hash of an active merchant.
func (s *Store) RotateMerchantKey(ctx context.Context, id int64, keyHash []byte) error {
	tag, err := s.pool.Exec(ctx, `UPDATE merchants SET api_key_hash = $2 WHERE id = $1 AND disabled_at IS NULL`, id, keyHash)
	if err != nil {
		return fmt.Errorf("postgres: rotate key of merchant %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return wallet.Errorf(wallet.CodeNotFound, "no active merchant %d", id)
	}
	return nil
}

// DisableMerchant stops a merchant; its key stops working at once.
func (s *Store) DisableMerchant(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE merchants SET disabled_at = coalesce(disabled_at, $2) WHERE id = $1`, id, now)
	if err != nil {
		return fmt.Errorf("postgres: disable merchant %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return wallet.Errorf(wallet.CodeNotFound, "no merchant %d", id)
	}
	return nil
}
