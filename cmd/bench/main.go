// Command bench measures the service against PostgreSQL itself on this machine:
// each figure is printed as a ratio to a plain baseline run in the same go, so
// the result says something about our code rather than about the hardware.
// Usage: go run ./cmd/bench [name…] (no name: all). See BENCHMARKS.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/store/postgres"
)

// bench is one measurement, run on a database of its own.
type bench func(ctx context.Context, out io.Writer, db *scratch) error

// benchList maps a name to its run.
func benchList() map[string]bench {
	return map[string]bench{"ledger": benchLedger}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	benches := benchList()
	names := args
	if len(names) == 0 {
		for n := range benches {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	for _, n := range names {
		b, ok := benches[n]
		if !ok {
			return fmt.Errorf("unknown bench %q (have %v)", n, keys(benches))
		}
		db, err := newScratch(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "== %s\n", n)
		err = b(ctx, out, db)
		db.drop()
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

func keys(benches map[string]bench) []string {
	var k []string
	for n := range benches {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// scratch is a migrated database that exists for one bench.
type scratch struct {
	Name  string
	URL   string
	Pool  *pgxpool.Pool
	admin string
}

func adminURL() string {
	if u := os.Getenv("BENCH_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func newScratch(ctx context.Context) (*scratch, error) {
	b := make([]byte, 4)
	rand.Read(b)
	name := "sw_bench_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", adminURL(), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	u, _ := url.Parse(adminURL())
	u.Path = "/" + name
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 32
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &scratch{Name: name, URL: u.String(), Pool: pool, admin: adminURL()}, nil
}

func (s *scratch) drop() {
	s.Pool.Close()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	c.Exec(ctx, "DROP DATABASE IF EXISTS "+s.Name+" WITH (FORCE)")
}

func ratio(a, b float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", a/b), "0"), ".") + "×"
}
