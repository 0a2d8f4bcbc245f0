package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// errSilent means the command already told the user what went wrong.
var errSilent = errors.New("silent")

// exitError carries a chosen exit status (1: rejected input, 2: usage).
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var e exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

// env is what every command receives: configuration read once, the streams.
type env struct {
	cfg    config
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":           {"run the bot, the cashier API and the jobs", cmdServe},
		"migrate":         {"apply database migrations", cmdMigrate},
		"import-registry": {"load the АСП registry from a CSV file", cmdImportRegistry},
		"import-catalog":  {"load the СЗПТ catalogue from a CSV file", cmdImportCatalog},
		"merchant":        {"add, list, rotate keys of and disable merchants", cmdMerchant},
		"issue":           {"issue a period's vouchers", cmdIssue},
		"annul":           {"annul a period's unactivated vouchers after its deadline", cmdAnnul},
		"expire":          {"lapse activated value whose expiry has come", cmdExpire},
		"family":          {"show a family's members, vouchers and ledger; unfreeze it", cmdFamily},
		"program":         {"print the embedded default programme file", cmdProgram},
		"health":          {"ask the running service whether it is alive or ready", cmdHealth},
		"report":          {"the pilot's evaluation report by city and month (text, csv, html)", cmdReport},
		"sandbox":         {"try everything in a browser: web chat, cashier page, demo data, time controls", cmdSandbox},
	}
}

// run is the whole program: it prints what went wrong to stderr and returns
// an error whose exitCode is the process status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if err != nil && !errors.Is(err, errSilent) && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, "socialwallet:", err)
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: socialwallet <command> [flags]   (socialwallet <command> --help for its flags)")
		fmt.Fprintln(w, "\ncommands:")
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-16s %s\n", n, cmds[n].summary)
		}
	}
	if len(args) < 2 {
		usage(stderr)
		return exitError{2, errSilent}
	}
	name := args[1]
	if name == "-h" || name == "--help" || name == "help" {
		usage(stdout)
		return nil
	}
	c, ok := cmds[name]
	if !ok {
		usage(stderr)
		return exitError{2, fmt.Errorf("unknown command %q", name)}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return exitError{2, err}
	}
	e := &env{cfg: cfg, getenv: getenv, stdout: stdout, stderr: stderr}
	err = c.run(ctx, e, args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlags makes a flag set whose --help prints the command's documentation.
func newFlags(e *env, name, usage, doc string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: socialwallet %s %s\n\n%s\n", name, usage, strings.TrimSpace(doc))
		has := false
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(out, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses flags, writing --help to stdout, and fails with status 2 on misuse.
func parse(e *env, fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2, errSilent}
	}
	return nil
}

// openStore connects to PostgreSQL; commands other than migrate refuse a schema
// that is behind the binary.
func openStore(ctx context.Context, e *env, requireCurrent bool) (*pgxpool.Pool, *postgres.Store, error) {
	pool, err := postgres.Open(ctx, e.cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	if requireCurrent {
		pending, err := postgres.PendingMigrations(ctx, pool)
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		if pending {
			pool.Close()
			return nil, nil, errors.New("the database schema is behind this binary: run `socialwallet migrate` first")
		}
	}
	return pool, postgres.New(pool), nil
}

// service builds the core use cases on an open store.
func (e *env) service(st wallet.Store) (*wallet.Service, error) {
	prog, err := e.cfg.program()
	if err != nil {
		return nil, err
	}
	return wallet.NewService(prog, e.cfg.clock(), e.cfg.Secret, st), nil
}

// userError prints a coded error plainly; other errors keep their context.
func userError(err error) error {
	var we *wallet.Error
	if errors.As(err, &we) {
		return errors.New(we.Message)
	}
	return err
}
