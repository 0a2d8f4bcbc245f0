package main

import (
	"fmt"
	"time"

	"socialwallet/clock"
	"socialwallet/program"
	"socialwallet/wallet"
)

// config is everything read from the environment, once, at start.
type config struct {
	Env              string // production | sandbox | test
	DatabaseURL      string
	RedisURL         string
	HTTPAddr         string
	Secret           []byte
	ProgramPath      string
	FakeNow          time.Time
	TelegramToken    string
	TelegramEndpoint string
	TelegramMode     string // polling | webhook
	WebhookURL       string
	WebhookSecret    string
	SendRate         int // messages a second, shared by every replica
}

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/socialwallet?sslmode=disable"

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Env:              or(getenv("SW_ENV"), "production"),
		DatabaseURL:      or(getenv("DATABASE_URL"), defaultDatabaseURL),
		RedisURL:         or(getenv("REDIS_URL"), "redis://127.0.0.1:6379/0"),
		HTTPAddr:         or(getenv("HTTP_ADDR"), "127.0.0.1:8080"),
		Secret:           []byte(getenv("SW_SECRET")),
		ProgramPath:      getenv("SW_PROGRAM"),
		TelegramToken:    getenv("TELEGRAM_TOKEN"),
		TelegramEndpoint: getenv("TELEGRAM_API_ENDPOINT"),
		TelegramMode:     or(getenv("TELEGRAM_MODE"), "polling"),
		WebhookURL:       getenv("WEBHOOK_URL"),
		WebhookSecret:    getenv("WEBHOOK_SECRET"),
		SendRate:         25,
	}
	switch c.Env {
	case "production", "sandbox", "test":
	default:
		return c, fmt.Errorf("SW_ENV: want production, sandbox or test, not %q", c.Env)
	}
	if len(c.Secret) == 0 && c.Env == "sandbox" {
		c.Secret = []byte("sandbox-secret-not-for-production")
	}
	if len(c.Secret) > 0 && len(c.Secret) < 16 && c.Env == "production" {
		return c, fmt.Errorf("SW_SECRET: must be at least 16 bytes")
	}
	if v := getenv("SW_FAKE_NOW"); v != "" {
		if c.Env == "production" {
			return c, fmt.Errorf("SW_FAKE_NOW: refused when SW_ENV=production")
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return c, fmt.Errorf("SW_FAKE_NOW: want RFC 3339 (2026-01-31T23:59:59+05:00): %v", err)
		}
		c.FakeNow = t
	}
	switch c.TelegramMode {
	case "polling", "webhook":
	default:
		return c, fmt.Errorf("TELEGRAM_MODE: want polling or webhook, not %q", c.TelegramMode)
	}
	if v := getenv("SW_SEND_RATE"); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("SW_SEND_RATE: want messages a second, 1–1000, not %q", v)
		}
		c.SendRate = n
	}
	return c, nil
}

// requireSecret is called by commands that hash IINs or sign tokens.
func (c config) requireSecret() error {
	if len(c.Secret) == 0 {
		return fmt.Errorf("SW_SECRET is required (it keys IIN hashes and QR tokens); it may be omitted only with SW_ENV=sandbox")
	}
	return nil
}

func (c config) program() (*wallet.Program, error) { return program.Load(c.ProgramPath) }

func (c config) clock() wallet.Clock {
	if !c.FakeNow.IsZero() {
		return clock.StartingAt(c.FakeNow)
	}
	return clock.System{}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
