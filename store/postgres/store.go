// Package postgres keeps the wallet in PostgreSQL: the registry, consents,
// Telegram links, vouchers and their append-only ledger, merchants and the
// catalogue. Each use case is one transaction; races are settled by row locks,
// unique constraints and CHECKs in the numbered migrations embedded here.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"socialwallet/wallet"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store implements the wallet's repositories on a pgx pool.
type Store struct {
	pool *pgxpool.Pool
}

var _ wallet.Store = (*Store)(nil)

// New wraps an open pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool exposes the pool to the wiring in cmd (River shares it).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	// The service's statements are short; compiling one (JIT) when the
	// planner misjudges its size costs a tenth of a second. The URL may
	// still turn it on.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

func newProvider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(pool)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, db, nil
}

// Migrate applies every pending migration, ours and River's job tables, and
// returns how many ran.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	p, db, err := newProvider(pool)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("postgres: migrate: %w", err)
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return len(res), fmt.Errorf("postgres: migrate river: %w", err)
	}
	rres, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return len(res), fmt.Errorf("postgres: migrate river: %w", err)
	}
	return len(res) + len(rres.Versions), nil
}

// PendingMigrations reports whether the schema is behind the binary.
func PendingMigrations(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	p, db, err := newProvider(pool)
	if err != nil {
		return false, err
	}
	defer db.Close()
	pending, err := p.HasPending(ctx)
	if err != nil || pending {
		return pending, err
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return false, err
	}
	rres, err := m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{DryRun: true})
	if err != nil {
		return false, err
	}
	return len(rres.Versions) > 0, nil
}

// MigrationsFS is the embedded migrations, for tests that build template databases.
func MigrationsFS() fs.FS { return migrations }

func isUnique(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return wallet.Errorf(wallet.CodeNotFound, format, args...)
	}
	return fmt.Errorf("postgres: "+format+": %w", append(args, err)...)
}
