package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrateUpTo applies our migrations up to and including version, so that a
// test can put data in an older schema and then migrate it.
func MigrateUpTo(ctx context.Context, pool *pgxpool.Pool, version int64) error {
	p, db, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("postgres: migrate up to %d: %w", version, err)
	}
	return nil
}
