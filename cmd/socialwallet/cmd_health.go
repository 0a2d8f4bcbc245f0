package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func cmdHealth(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "health", "[--ready]", `Asks the running service on HTTP_ADDR whether it is alive (/healthz) or, with
--ready, ready (/readyz); exit status 0 or 1. The container's HEALTHCHECK runs
it, since the image has no shell or curl.`)
	ready := fs.Bool("ready", false, "check /readyz (PostgreSQL, Redis, migrations) instead of /healthz")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	addr := e.cfg.HTTPAddr
	if strings.HasPrefix(addr, "0.0.0.0:") || strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1:" + addr[strings.LastIndex(addr, ":")+1:]
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s", path, resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
