package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"socialwallet/bot"
	"socialwallet/jobs"
	"socialwallet/locales"
	rstore "socialwallet/store/redis"
)

// jobsHTTPTimeout bounds one sendMessage of the notification sender: well
// under the jobs' 30 s attempt, so a hung request is retried, not rescued.
const jobsHTTPTimeout = 20 * time.Second

// wireJobs adds the durable jobs to serve: the schedule (issuance, reminders,
// annulment, expiry) on River, the dispatcher and the notification sender
// behind the send limiter that every replica shares through Redis
// (SW_SEND_RATE messages a second, one a second per chat). Without
// TELEGRAM_TOKEN the schedule still runs, so money moves on time, and the
// notifications wait for a replica that can send.
func wireJobs(ctx context.Context, d *deps) error {
	log := d.log.With("part", "jobs")
	cfg := jobs.Config{
		Program: d.program,
		Clock:   d.clock,
		Wallet:  d.service,
		Store:   d.store,
		Log:     log,
		Rate:    d.cfg.SendRate,
		Metrics: d.metrics,
	}
	if d.cfg.TelegramToken == "" {
		log.Info("TELEGRAM_TOKEN is empty: the schedule runs, notifications wait for a replica that sends")
	} else {
		api, err := bot.NewAPI(ctx, d.cfg.TelegramToken, d.cfg.TelegramEndpoint, &http.Client{Timeout: jobsHTTPTimeout})
		if err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		api.Observe = d.tg.ObserveAPI
		cfg.Sender = bot.NewSender(api, locales.MustLoad(), d.program, d.service, bot.RenderReceipt)
		cfg.Limiter = rstore.NewSendLimiter(d.redis, rstore.SendLimiterConfig{Rate: d.cfg.SendRate})
	}
	j, err := jobs.New(d.pool, cfg)
	if err != nil {
		return err
	}
	d.runners = append(d.runners, j.Run)
	return nil
}
