package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/jobs"
	"socialwallet/locales"
	"socialwallet/sandbox"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

// sandboxSecret keys IIN hashes and QR tokens of the demo data when
// SW_SECRET is not set.
const sandboxSecret = "sandbox-secret-not-for-production"

func cmdSandbox(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "sandbox", "[--data DIR]", `Runs the whole service on embedded defaults so that it can be tried in a browser
without Telegram, a registry or a store, and prints the one URL to open
(http://127.0.0.1:8080/, or HTTP_ADDR):

  /          a web chat with the real bot over a fake Telegram Bot API: pick a
             demo recipient (or type a phone) and talk to the bot as them;
  /cashier   a demo store's till on the real cashier API (/v1): scan or type
             the recipient's code, ring up СЗПТ, pay, see the receipt;
  both       time controls that move the service's clock to the month's last
             day (reminders) and to the next month (annulment).

PostgreSQL: DATABASE_URL when set (demo data is added to it), else a private
server started from this machine's PostgreSQL programs (pg_config --bindir) in
DIR/pg, on a free port of 127.0.0.1, with a fresh database each run, stopped on
exit. Redis: REDIS_URL when set, else an embedded one. The programme is the
embedded pilot (or SW_PROGRAM) moved to start this month; the clock starts at
SW_FAKE_NOW (with SW_ENV=sandbox) or now. Logs go to DIR/sandbox.log.
Ctrl-C stops everything.`)
	dataDir := fs.String("data", ".data", "directory for the private PostgreSQL cluster and the log")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	return runSandbox(ctx, e, *dataDir)
}

// runSandbox starts what the sandbox needs around serve and tears it down in
// reverse order when ctx ends (or anything fails).
func runSandbox(ctx context.Context, e *env, dataDir string) (err error) {
	cfg := e.cfg
	cfg.Env = "sandbox"
	if len(cfg.Secret) == 0 {
		cfg.Secret = []byte(sandboxSecret)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dataDir, "sandbox.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("sandbox: log file: %w", err)
	}
	defer logFile.Close()
	log := newLogger(logFile)
	defer func() {
		if err != nil {
			log.Error("sandbox stopped", "err", err)
		}
	}()

	// Fail before starting anything when the address is taken.
	if cfg.HTTPAddr, err = claimAddr(cfg.HTTPAddr); err != nil {
		return err
	}

	dbURL := e.getenv("DATABASE_URL")
	if dbURL == "" {
		bin, err := sandbox.FindPostgres(ctx, e.getenv)
		if err != nil {
			return err
		}
		pg, err := sandbox.StartPostgres(ctx, bin, filepath.Join(dataDir, "pg"), logFile)
		if err != nil {
			return err
		}
		log.Info("private PostgreSQL started", "dir", pg.Dir, "port", pg.Port)
		defer func() {
			if err := pg.Stop(); err != nil {
				log.Error("stop the private PostgreSQL", "err", err)
			}
		}()
		if dbURL, err = pg.FreshDatabase(ctx, "sandbox"); err != nil {
			return err
		}
	}
	cfg.DatabaseURL = dbURL

	if e.getenv("REDIS_URL") == "" {
		r, err := sandbox.StartRedis()
		if err != nil {
			return err
		}
		defer r.Close()
		cfg.RedisURL = r.URL()
	}

	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return err
	}
	rc, err := rstore.Open(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rc.Close()

	base, err := cfg.program()
	if err != nil {
		return err
	}
	start := cfg.FakeNow
	if start.IsZero() {
		start = time.Now()
	}
	prog, err := sandbox.Programme(base, start)
	if err != nil {
		return err
	}
	// One clock for the bot, the cashier API and the jobs, which the time
	// controls move.
	clk := clock.StartingAt(start)
	st := postgres.New(pool)
	svc := wallet.NewService(prog, clk, cfg.Secret, st)
	demo, err := sandbox.Seed(ctx, svc)
	if err != nil {
		return err
	}

	tg := telegramtest.Start()
	defer tg.Close()
	cfg.TelegramToken, cfg.TelegramEndpoint, cfg.TelegramMode = tg.Token(), tg.Endpoint(), "polling"

	kick, err := newKicker(pool, log)
	if err != nil {
		return err
	}
	d := buildDeps(cfg, log, prog, clk, pool, rc, svc)
	web := sandbox.New(sandbox.Config{Telegram: tg, Clock: clk, Program: prog, Demo: demo, Locales: locales.MustLoad(), Kick: kick,
		Log: log.With("part", "sandbox")})
	web.Register(d.mux)
	d.runners = append(d.runners, func(ctx context.Context) error {
		return announce(ctx, tg, web, log, e.stdout, "http://"+urlHost(cfg.HTTPAddr)+"/")
	})
	return serve(ctx, d)
}

// announce waits until the bot polls the fake Telegram, plays the
// conversations of the people linked in advance, and prints the URL: from
// then on, everything the page offers works.
func announce(ctx context.Context, tg *telegramtest.Server, web *sandbox.Web, log *slog.Logger, out io.Writer, url string) error {
	for !tg.Polling() {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(20 * time.Millisecond):
		}
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := web.PreLink(lctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		// The sandbox still works; only the advance link is missing.
		log.Warn("sandbox: people linked in advance", "err", err)
	}
	if ctx.Err() != nil {
		return nil
	}
	fmt.Fprintln(out, url)
	<-ctx.Done()
	return nil
}

// newKicker returns what the time controls call after a jump: it inserts the
// schedule's tick job so that the jobs compare their schedule with the moved
// clock at once rather than at the next periodic tick. A tick that is
// already running read the clock before the jump, so the insert waits for it
// and asks for another.
func newKicker(pool *pgxpool.Pool, log *slog.Logger) (func(context.Context) error, error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log.With("part", "kick")})
	if err != nil {
		return nil, fmt.Errorf("sandbox: river insert client: %w", err)
	}
	return func(ctx context.Context) error {
		for deadline := time.Now().Add(10 * time.Second); ; {
			res, err := client.Insert(ctx, jobs.TickArgs{}, nil)
			if err != nil {
				return err
			}
			if !res.UniqueSkippedAsDuplicate || res.Job.State != rivertype.JobStateRunning || time.Now().After(deadline) {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}, nil
}

// claimAddr checks that addr can be listened on, choosing a free port for
// port 0 so that the URL printed is the one served.
func claimAddr(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: cannot listen on HTTP_ADDR %s (%v): is another sandbox running? Stop it, or set HTTP_ADDR=127.0.0.1:8081", addr, err)
	}
	defer ln.Close()
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return net.JoinHostPort(host, port), nil
}

// urlHost is the host:port a browser on this machine opens for addr.
func urlHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
