package bot

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// allowedUpdates are the kinds of update the bot asks Telegram for.
var allowedUpdates = []string{"message", "callback_query"}

// Poll runs the long-poll intake until ctx ends: our own loop around
// getUpdates, so that it stops cleanly, honours retry_after and confirms an
// update (by the next offset) only after it has been handled. Updates of one
// chat are handled in order, different chats concurrently.
func (b *Bot) Poll(ctx context.Context) error {
	// A webhook left behind by webhook mode makes getUpdates fail with 409.
	if err := b.untilDone(ctx, "deleteWebhook", func(ctx context.Context) error {
		_, err := b.api.Request(ctx, tgbotapi.DeleteWebhookConfig{})
		return err
	}); err != nil {
		return nil // ctx ended
	}
	b.SetCommands(ctx)
	b.log.Info("bot: polling for updates", "bot", b.api.Self.UserName)
	offset := 0
	var fails int
	for ctx.Err() == nil {
		ups, err := b.api.GetUpdates(ctx, tgbotapi.UpdateConfig{
			Offset: offset, Limit: 100, Timeout: int(b.poll / time.Second), AllowedUpdates: allowedUpdates,
		})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fails++
			wait := backoff(fails, b.retry.Base, b.retry.Max)
			if d, ok := RetryAfter(err); ok {
				wait = d
			}
			b.log.Warn("bot: getUpdates failed", "code", Code(err), "err", err, "retry_in", wait.String())
			if !sleep(ctx, wait) {
				break
			}
			continue
		}
		fails = 0
		if len(ups) == 0 {
			continue
		}
		b.handleBatch(ctx, ups)
		offset = ups[len(ups)-1].UpdateID + 1
	}
	b.log.Info("bot: polling stopped")
	return nil
}

// handleBatch handles a batch and returns when every update is done. The
// handlers run on a context that outlives ctx, so a shutdown lets work in
// hand finish; updates not yet started when ctx ends are left alone. The
// batch is then not confirmed, so all of it comes again after a restart: the
// updates handled already are claimed and do nothing, the rest are handled,
// each chat's still in order.
func (b *Bot) handleBatch(ctx context.Context, ups []tgbotapi.Update) {
	hctx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for _, u := range ups {
		wg.Add(1)
		b.seq.Go(chatOf(u), func() {
			defer wg.Done()
			if ctx.Err() != nil {
				return
			}
			c, cancel := context.WithTimeout(hctx, b.timeout)
			defer cancel()
			b.Handle(c, u)
		})
	}
	wg.Wait()
}

// SecretHeader is where Telegram puts a webhook's secret_token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler handles updates POSTed by Telegram. A request without the
// right secret gets 401 and nothing is handled. It answers once the update is
// handled, so an update whose handling did not finish is delivered again.
func (b *Bot) WebhookHandler(secret string) (http.Handler, error) {
	if len(secret) < 16 {
		return nil, errors.New("bot: the webhook secret must be at least 16 characters")
	}
	want := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), want) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u tgbotapi.Update
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&u); err != nil || u.UpdateID == 0 {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		done := make(chan struct{})
		hctx := context.WithoutCancel(r.Context())
		b.seq.Go(chatOf(u), func() {
			defer close(done)
			c, cancel := context.WithTimeout(hctx, b.timeout)
			defer cancel()
			b.Handle(c, u)
		})
		select {
		case <-done:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
	}), nil
}

// SetWebhook points Telegram at url with the secret, and sets the commands.
func (b *Bot) SetWebhook(ctx context.Context, url, secret string) error {
	allowed, _ := json.Marshal(allowedUpdates)
	err := b.do(ctx, "setWebhook", func(ctx context.Context) error {
		_, err := b.api.Raw(ctx, "setWebhook", tgbotapi.Params{
			"url": url, "secret_token": secret, "allowed_updates": string(allowed), "max_connections": "40",
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("bot: set webhook: %w", err)
	}
	b.SetCommands(ctx)
	b.log.Info("bot: webhook set", "bot", b.api.Self.UserName)
	return nil
}

// SetCommands sets the command menu in Kazakh, Russian and by default.
func (b *Bot) SetCommands(ctx context.Context) {
	for _, lang := range []string{"kk", "ru", ""} {
		l := lang
		if l == "" {
			l = "ru"
		}
		var cmds []tgbotapi.BotCommand
		for _, c := range commandList {
			cmds = append(cmds, tgbotapi.BotCommand{Command: c, Description: b.t(l, "cmd_"+c, nil)})
		}
		cfg := tgbotapi.NewSetMyCommands(cmds...)
		cfg.LanguageCode = lang
		if err := b.do(ctx, "setMyCommands", func(ctx context.Context) error {
			_, err := b.api.Request(ctx, cfg)
			return err
		}); err != nil {
			b.log.Warn("bot: setMyCommands", "lang", lang, "err", err)
		}
	}
}

// Retry says how replies meet temporary failures: 429 waits retry_after,
// 5xx and timeouts wait Base, 2·Base, 4·Base… up to Max, Attempts tries in all.
type Retry struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
	// MaxRetryAfter is the longest retry_after waited out; beyond it the
	// reply is given up (the user sees nothing rather than a stale answer).
	MaxRetryAfter time.Duration
	// CallTimeout bounds one attempt (default 15 s).
	CallTimeout time.Duration
}

func (r Retry) orDefault() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Base <= 0 {
		r.Base = 250 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 30 * time.Second
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = time.Minute
	}
	if r.CallTimeout <= 0 {
		r.CallTimeout = 15 * time.Second
	}
	return r
}

// do calls f until it succeeds, fails for good, or the attempts run out. Each
// attempt has its own deadline, so a request Telegram never answers is a
// timeout to retry, not a handler stuck for good.
func (b *Bot) do(ctx context.Context, method string, f func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, b.retry.CallTimeout)
		err := f(actx)
		timedOut := err != nil && actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil || !(Temporary(err) || timedOut) || attempt >= b.retry.Attempts || ctx.Err() != nil {
			return err
		}
		wait := backoff(attempt, b.retry.Base, b.retry.Max)
		if d, ok := RetryAfter(err); ok {
			if d > b.retry.MaxRetryAfter {
				return err
			}
			wait = d
		}
		b.log.Info("bot: retrying", "method", method, "code", Code(err), "attempt", attempt, "in", wait.String())
		if !sleep(ctx, wait) {
			return err
		}
	}
}

// untilDone retries f with backoff until it succeeds or ctx ends.
func (b *Bot) untilDone(ctx context.Context, method string, f func(context.Context) error) error {
	for n := 1; ; n++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		wait := backoff(n, b.retry.Base, b.retry.Max)
		if d, ok := RetryAfter(err); ok {
			wait = d
		}
		b.log.Warn("bot: call failed", "method", method, "code", Code(err), "err", err, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// backoff is base·2^(n-1), capped, with up to 20 % jitter so that replicas
// do not retry in step.
func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// sleep waits d or until ctx ends; it reports whether the wait was complete.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
