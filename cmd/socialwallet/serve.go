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

	"socialwallet/data"
)

func shippedCatalog() io.Reader { return data.SZPT() }

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "", `Runs the service on HTTP_ADDR (default 127.0.0.1:8080): health checks now;
the bot, the cashier API and the jobs as they are built.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if err := e.cfg.requireSecret(); err != nil {
		return err
	}
	log := newLogger(e.stderr)
	prog, err := e.cfg.program()
	if err != nil {
		return err
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	_ = st
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Addr: e.cfg.HTTPAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", e.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("serve: listen %s: %w", e.cfg.HTTPAddr, err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "program", prog.Name)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
