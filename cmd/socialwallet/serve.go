package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"socialwallet/bot"
	"socialwallet/data"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

func shippedCatalog() io.Reader { return data.SZPT() }

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// deps is what serve builds once and hands to each part's wiring
// (wire_bot.go, wire_pos.go, wire_jobs.go).
type deps struct {
	cfg     config
	log     *slog.Logger
	program *wallet.Program
	clock   wallet.Clock
	pool    *pgxpool.Pool
	store   *postgres.Store
	redis   *goredis.Client
	service *wallet.Service
	mux     *http.ServeMux
	// ready answers /readyz and tells the bot when PostgreSQL is down.
	ready *readiness
	// metrics is this process's Prometheus registry, served on /metrics;
	// each part registers its own series on it.
	metrics *prometheus.Registry
	// tg counts the Bot API calls of the conversation and of the sender
	// alike, and the updates handled.
	tg *bot.Metrics
	// runners are the long-running parts; serve runs each until ctx ends.
	runners []func(ctx context.Context) error
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "", `Runs the service: the Telegram bot (polling or webhook), the cashier API
under /v1, health checks, and the durable jobs (issuance, reminders, annulment,
receipts), all on HTTP_ADDR (default 127.0.0.1:8080). Needs DATABASE_URL,
REDIS_URL, SW_SECRET and TELEGRAM_TOKEN; see README.md for every setting.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if err := e.cfg.requireSecret(); err != nil {
		return err
	}
	d, cleanup, err := newDeps(ctx, e)
	if err != nil {
		return err
	}
	defer cleanup()
	return serve(ctx, d)
}

// newDeps opens PostgreSQL and Redis and builds the core service.
func newDeps(ctx context.Context, e *env) (*deps, func(), error) {
	prog, err := e.cfg.program()
	if err != nil {
		return nil, nil, err
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return nil, nil, err
	}
	rc, err := rstore.Open(ctx, e.cfg.RedisURL)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	clk := e.cfg.clock()
	d := buildDeps(e.cfg, newLogger(e.stderr), prog, clk, pool, rc, wallet.NewService(prog, clk, e.cfg.Secret, st))
	return d, func() { rc.Close(); pool.Close() }, nil
}

// buildDeps gathers what every part's wiring shares, with this process's
// metrics registry and readiness probes.
func buildDeps(cfg config, log *slog.Logger, prog *wallet.Program, clk wallet.Clock, pool *pgxpool.Pool, rc *goredis.Client, svc *wallet.Service) *deps {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &deps{
		cfg:     cfg,
		log:     log,
		program: prog,
		clock:   clk,
		pool:    pool,
		store:   postgres.New(pool),
		redis:   rc,
		service: svc,
		mux:     http.NewServeMux(),
		metrics: reg,
		ready: newReadiness(log.With("part", "ready"),
			probe{name: "postgres", check: pool.Ping},
			probe{name: "redis", check: func(ctx context.Context) error { return rc.Ping(ctx).Err() }},
			probe{name: "schema", after: "postgres", every: readySchemaEvery, check: func(ctx context.Context) error {
				pending, err := postgres.PendingMigrations(ctx, pool)
				if err == nil && pending {
					err = errSchemaBehind
				}
				return err
			}}),
	}
}

// serve wires every part onto d and runs them with the HTTP server until ctx ends.
func serve(ctx context.Context, d *deps) error {
	d.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	d.mux.Handle("GET /readyz", d.ready)
	d.mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics, promhttp.HandlerOpts{Registry: d.metrics}))
	// The gauges read from the tables at scrape time; a scrape within 5 s of
	// the last reuses its answer.
	current := func() wallet.Period { return d.program.PeriodAt(d.clock.Now()) }
	err := d.metrics.Register(d.store.Collector(current, 5*time.Second))
	if err != nil {
		return fmt.Errorf("serve: metrics: %w", err)
	}
	if d.tg, err = bot.NewMetrics(d.metrics); err != nil {
		return fmt.Errorf("serve: metrics: %w", err)
	}
	d.runners = append(d.runners, d.ready.run)
	for _, wire := range []func(context.Context, *deps) error{wireBot, wirePOS, wireJobs} {
		if err := wire(ctx, d); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", d.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("serve: listen %s: %w", d.cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: d.mux, ReadHeaderTimeout: 10 * time.Second}
	d.log.Info("serving", "addr", ln.Addr().String(), "program", d.program.Name, "env", d.cfg.Env)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	for _, r := range d.runners {
		g.Go(func() error { return r(gctx) })
	}
	return g.Wait()
}
