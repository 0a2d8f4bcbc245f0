package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"socialwallet/wallet"
)

// ImportCatalog makes the catalogue exactly the given list: new and changed
// products are written, products no longer listed are deactivated (kept, since
// past purchases refer to them). It returns how many rows changed.
func (s *Store) ImportCatalog(ctx context.Context, products []wallet.Product) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: import catalog: %w", err)
	}
	defer tx.Rollback(ctx)
	codes := make([]string, len(products))
	changed := 0
	for i, p := range products {
		codes[i] = p.Code
		tag, err := tx.Exec(ctx, `INSERT INTO products AS p (code, name_kk, name_ru, unit) VALUES ($1, $2, $3, $4)
			ON CONFLICT (code) DO UPDATE SET name_kk = EXCLUDED.name_kk, name_ru = EXCLUDED.name_ru,
				unit = EXCLUDED.unit, active = true, updated_at = now()
			WHERE (p.name_kk, p.name_ru, p.unit, p.active) IS DISTINCT FROM (EXCLUDED.name_kk, EXCLUDED.name_ru, EXCLUDED.unit, true)`,
			p.Code, p.NameKK, p.NameRU, string(p.Unit))
		if err != nil {
			return 0, fmt.Errorf("postgres: import catalog: %s: %w", p.Code, err)
		}
		changed += int(tag.RowsAffected())
	}
	tag, err := tx.Exec(ctx, `UPDATE products SET active = false, updated_at = now() WHERE active AND NOT code = ANY($1)`, codes)
	if err != nil {
		return 0, fmt.Errorf("postgres: import catalog: deactivate: %w", err)
	}
	changed += int(tag.RowsAffected())
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: import catalog: commit: %w", err)
	}
	return changed, nil
}

// Products lists the active catalogue.
func (s *Store) Products(ctx context.Context) ([]wallet.Product, error) {
	rows, err := s.pool.Query(ctx, `SELECT code, name_kk, name_ru, unit FROM products WHERE active ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("postgres: products: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (wallet.Product, error) {
		var p wallet.Product
		err := r.Scan(&p.Code, &p.NameKK, &p.NameRU, &p.Unit)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: products: %w", err)
	}
	return out, nil
}
