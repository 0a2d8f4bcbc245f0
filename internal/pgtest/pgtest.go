// Package pgtest gives each test its own PostgreSQL database, cloned from a
// migrated template, so storage tests run against the real server in parallel
// without seeing each other's rows, and checks the ledger's invariant in it
// when the test ends. With CI=true a missing server fails the test; elsewhere
// it skips with a note.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/store/postgres"
)

// AdminURL is the server tests create databases on: TEST_DATABASE_URL, or the
// local default.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Unavailable fails under CI and skips elsewhere.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s not available (%v); set CI=true to make this a failure", what, err)
}

// URL creates a fresh migrated database and returns its URL; it is dropped
// when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	return create(t, true)
}

// Empty creates a fresh database with no schema at all, for a test that
// migrates it step by step; it is dropped when the test ends.
func Empty(t testing.TB) string {
	t.Helper()
	return create(t, false)
}

func create(t testing.TB, migrated bool) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	defer admin.Close(ctx)
	tmpl := "template0"
	if migrated {
		if tmpl, err = template(ctx, admin); err != nil {
			t.Fatalf("pgtest: template: %v", err)
		}
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "sw_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if migrated && !t.Skipped() {
			verifyLedger(ctx, t, u.String())
		}
		c, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return u.String()
}

// verifyLedger fails the test when, at its end, any voucher's balance is not
// the sum of its ledger rows: whatever a test did with the money, through
// whichever part of the service, the invariant must still hold.
func verifyLedger(ctx context.Context, t testing.TB, dbURL string) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Errorf("pgtest: ledger check: %v", err)
		return
	}
	defer pool.Close()
	bad, err := postgres.New(pool).VerifyLedger(ctx)
	if err != nil || len(bad) > 0 {
		t.Errorf("pgtest: after the test, VerifyLedger() = %+v, %v; want every voucher's balance equal to its ledger sum", bad, err)
	}
}

// Pool opens a pool on a fresh database, closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	// Two test binaries run at once and PostgreSQL allows 100 connections.
	cfg.MaxConns = 24
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// template returns the name of a database with every migration applied. Its name
// carries a hash of the migrations, so a changed migration builds a new one;
// an advisory lock keeps parallel test binaries from building it twice.
func template(ctx context.Context, admin *pgx.Conn) (string, error) {
	h := sha256.New()
	files, err := fs.Glob(postgres.MigrationsFS(), "migrations/*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := fs.ReadFile(postgres.MigrationsFS(), f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	name := "sw_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(727001)`); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(727001)`)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		return "", err
	}
	u, _ := url.Parse(AdminURL())
	u.Path = "/" + name
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		return "", err
	}
	_, err = postgres.Migrate(ctx, pool)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`, name)); err != nil {
		return "", err
	}
	return name, nil
}
