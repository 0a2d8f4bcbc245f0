package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"socialwallet/bot"
	"socialwallet/locales"
	rstore "socialwallet/store/redis"
)

// Bot settings that are ours to choose, not the operator's.
const (
	botPollTimeout  = 50 * time.Second // getUpdates long poll
	botHTTPTimeout  = 70 * time.Second // longer than the poll
	botSessionTTL   = 24 * time.Hour   // a conversation left for a day starts over (the link stays)
	botClaimTTL     = 24 * time.Hour   // Telegram keeps an undelivered update for 24 hours
	botLinkFailures = 5                // failed registry matches before linking locks
	botLinkLock     = time.Hour        // how long it locks
	botChatLockTTL  = 3 * time.Minute  // a replica that dies holding a chat frees it after this
	webhookPath     = "/telegram/webhook"
)

// wireBot adds the Telegram bot to serve: polling, or a webhook handler on
// d.mux. Without TELEGRAM_TOKEN the bot is off and the rest still runs.
func wireBot(ctx context.Context, d *deps) error {
	log := d.log.With("part", "bot")
	if d.cfg.TelegramToken == "" {
		log.Info("TELEGRAM_TOKEN is empty: the Telegram bot is off")
		return nil
	}
	api, err := bot.NewAPI(ctx, d.cfg.TelegramToken, d.cfg.TelegramEndpoint, &http.Client{Timeout: botHTTPTimeout})
	if err != nil {
		return fmt.Errorf("bot: %w", err)
	}
	api.Observe = d.tg.ObserveAPI
	sessions := rstore.NewSessions(d.redis, redisKeys, botSessionTTL)
	claims := rstore.NewDedupe(d.redis, redisKeys, api.Self.ID, botClaimTTL)
	cfg := bot.Config{
		API:         api,
		Wallet:      d.service,
		NotMe:       d.service,
		Program:     d.program,
		Clock:       d.clock,
		Locales:     locales.MustLoad(),
		Sessions:    sessions,
		Claims:      claims,
		Intake:      rstore.Intake{Claims: claims, Sessions: sessions},
		Codes:       rstore.NewCodes(d.redis, redisKeys),
		Attempts:    rstore.NewLinkAttempts(d.redis, redisKeys, botLinkFailures, botLinkLock),
		Outage:      d.ready,
		Metrics:     d.tg,
		Log:         log,
		PollTimeout: botPollTimeout,
	}
	if d.cfg.TelegramMode != "webhook" {
		b, err := bot.New(cfg)
		if err != nil {
			return err
		}
		d.runners = append(d.runners, b.Poll)
		return nil
	}

	hook, path, err := webhookSettings(d.cfg)
	if err != nil {
		return err
	}
	// Behind a load balancer one chat's updates may reach different
	// replicas: a lock per chat in Redis keeps them in order.
	cfg.ChatLocks = rstore.NewChatLocks(d.redis, redisKeys, botChatLockTTL)
	b, err := bot.New(cfg)
	if err != nil {
		return err
	}
	h, err := b.WebhookHandler(d.cfg.WebhookSecret)
	if err != nil {
		return fmt.Errorf("WEBHOOK_SECRET: %w", err)
	}
	d.mux.Handle("POST "+path, h)
	d.runners = append(d.runners, func(ctx context.Context) error {
		if err := b.SetWebhook(ctx, hook, d.cfg.WebhookSecret); err != nil && ctx.Err() == nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	return nil
}

// webhookSettings checks WEBHOOK_URL and WEBHOOK_SECRET and returns the URL
// and the path the handler is mounted on.
func webhookSettings(c config) (string, string, error) {
	u, err := url.Parse(c.WebhookURL)
	if c.WebhookURL == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", fmt.Errorf("WEBHOOK_URL: TELEGRAM_MODE=webhook needs the public URL Telegram posts to, like https://bot.example.kz%s", webhookPath)
	}
	if u.Scheme != "https" && c.Env == "production" {
		return "", "", fmt.Errorf("WEBHOOK_URL: Telegram posts only to https in production")
	}
	if s := c.WebhookSecret; len(s) < 16 || len(s) > 256 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return "", "", fmt.Errorf("WEBHOOK_SECRET: 16–256 characters of A–Z, a–z, 0–9, _ and - are needed")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = webhookPath
	}
	return u.String(), u.Path, nil
}
