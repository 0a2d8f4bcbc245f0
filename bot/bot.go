package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// Wallet is what the conversation needs of the wallet's use cases
// (*wallet.Service).
type Wallet interface {
	PhoneKnown(ctx context.Context, phone string) (bool, error)
	LinkTelegram(ctx context.Context, req wallet.LinkRequest) (wallet.Linked, error)
	TelegramLink(ctx context.Context, telegramUserID int64) (wallet.TelegramLink, error)
	SetLanguage(ctx context.Context, telegramUserID int64, lang string) error
	Returned(ctx context.Context, telegramUserID, chatID int64) error
	GiveConsent(ctx context.Context, memberID int64) error
	DeclineConsent(ctx context.Context, memberID int64) error
	RevokeConsent(ctx context.Context, memberID int64) error
	ConsentState(ctx context.Context, memberID int64) (wallet.ConsentState, error)
	Overview(ctx context.Context, familyID string, memberID int64) (wallet.Overview, error)
	Activate(ctx context.Context, actorID int64, p wallet.Period, voucherIDs ...int64) ([]wallet.Voucher, error)
	IssueQR(ctx context.Context, memberID int64) (wallet.QRToken, string, error)
	History(ctx context.Context, familyID string, limit int) ([]wallet.Purchase, error)
	Stores(ctx context.Context, city string) ([]wallet.Merchant, error)
	NearestStores(ctx context.Context, lat, lon float64, n int) ([]wallet.Nearby, error)
}

var _ Wallet = (*wallet.Service)(nil)

// NotMe is the receipt's "Not me" use case (the cashier side's
// wallet.Service.ReportNotMe).
type NotMe interface {
	ReportNotMe(ctx context.Context, memberID, redemptionID int64) error
}

// SessionStore keeps each user's conversation state with a time to live.
type SessionStore interface {
	Load(ctx context.Context, user int64) ([]byte, error) // nil when none
	Save(ctx context.Context, user int64, data []byte) error
	Delete(ctx context.Context, user int64) error
}

// UpdateClaims makes a redelivered update do nothing.
type UpdateClaims interface {
	Claim(ctx context.Context, updateID int64) (first bool, err error)
}

// FallbackCodes keeps the 8-digit codes a cashier may type instead of
// scanning; a member's new code replaces their earlier one.
type FallbackCodes interface {
	Replace(ctx context.Context, memberID int64, code, signedToken string, ttl time.Duration) error
}

// LinkAttempts counts failed registry matches and locks linking after too many.
type LinkAttempts interface {
	Locked(ctx context.Context, user int64, now time.Time) (until time.Time, locked bool, err error)
	Fail(ctx context.Context, user int64, now time.Time) (left int, lockedUntil time.Time, err error)
	Reset(ctx context.Context, user int64) error
}

// ClaimLoader claims an update and reads its user's session in one round
// trip; when set it replaces Claims.Claim and Sessions.Load on the hot path.
type ClaimLoader interface {
	ClaimAndLoad(ctx context.Context, updateID, user int64) (first bool, session []byte, err error)
}

// Outage says what storage is known to be down; serve's readiness probes
// answer it, so a user is told at once instead of after a timeout.
type Outage interface {
	// Down: PostgreSQL, without which nothing can be looked up or changed.
	Down() bool
	// SessionsDown: Redis, which carries a conversation from step to step.
	// A linked user goes on without it (each update rebuilds the session
	// from PostgreSQL); linking, whose steps live only there, cannot.
	SessionsDown() bool
}

// ChatLocker gives one replica at a time a chat's updates (webhook mode
// behind a load balancer).
type ChatLocker interface {
	Lock(ctx context.Context, chat int64) (unlock func(), err error)
}

// Config is what a Bot is built from. The fields up to Attempts are required.
type Config struct {
	API      *API
	Wallet   Wallet
	Program  *wallet.Program
	Clock    wallet.Clock
	Locales  *locales.Bundle
	Sessions SessionStore
	Claims   UpdateClaims
	Codes    FallbackCodes
	Attempts LinkAttempts

	Intake    ClaimLoader // nil: Claims and Sessions one after the other
	NotMe     NotMe       // nil: "Not me" answers that the service is unavailable
	ChatLocks ChatLocker  // nil: order within this process only
	Outage    Outage      // nil: never known down; failures still answer "unavailable"
	Metrics   *Metrics    // nil: no metrics
	Log       *slog.Logger
	// Workers bounds how many chats are handled at once (default 64).
	Workers int
	// PollTimeout is getUpdates' long-poll timeout (default 50 s); the
	// API's HTTP client must wait longer.
	PollTimeout time.Duration
	// Retry governs replies that meet 429, 5xx or timeouts.
	Retry Retry
	// HandleTimeout bounds the handling of one update (default 2 minutes).
	HandleTimeout time.Duration
}

// Bot is the recipient's conversation.
type Bot struct {
	api      *API
	w        Wallet
	notMe    NotMe
	prog     *wallet.Program
	clock    wallet.Clock
	loc      *locales.Bundle
	sessions SessionStore
	claims   UpdateClaims
	codes    FallbackCodes
	attempts LinkAttempts
	locks    ChatLocker
	intake   ClaimLoader
	outage   Outage
	metrics  *Metrics
	log      *slog.Logger
	seq      *sequencer
	retry    Retry
	poll     time.Duration
	timeout  time.Duration
	menu     map[string]string // reply keyboard text (either language) → command
	static   map[string]string // lang + "/" + id → text, for messages without data
	menus    map[string]tgbotapi.ReplyKeyboardMarkup
}

// New checks cfg and builds the bot.
func New(cfg Config) (*Bot, error) {
	switch {
	case cfg.API == nil, cfg.Wallet == nil, cfg.Program == nil, cfg.Clock == nil, cfg.Locales == nil,
		cfg.Sessions == nil, cfg.Claims == nil, cfg.Codes == nil, cfg.Attempts == nil:
		return nil, errors.New("bot: Config needs API, Wallet, Program, Clock, Locales, Sessions, Claims, Codes and Attempts")
	}
	b := &Bot{
		api: cfg.API, w: cfg.Wallet, notMe: cfg.NotMe, prog: cfg.Program, clock: cfg.Clock, loc: cfg.Locales,
		sessions: cfg.Sessions, claims: cfg.Claims, codes: cfg.Codes, attempts: cfg.Attempts, locks: cfg.ChatLocks, intake: cfg.Intake,
		outage: cfg.Outage, metrics: cfg.Metrics,
		log: cfg.Log, retry: cfg.Retry.orDefault(), poll: cfg.PollTimeout, timeout: cfg.HandleTimeout,
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if b.poll <= 0 {
		b.poll = 50 * time.Second
	}
	if b.timeout <= 0 {
		b.timeout = 2 * time.Minute
	}
	b.seq = newSequencer(cfg.Workers)
	if err := b.checkTexts(); err != nil {
		return nil, err
	}
	// Messages without data are rendered once: they are most of what the
	// keyboards and short answers say.
	b.static = map[string]string{}
	for _, lang := range locales.Langs {
		for _, id := range b.loc.IDs(lang) {
			if text, err := b.loc.Render(lang, id, nil); err == nil {
				b.static[lang+"/"+id] = text
			}
		}
	}
	b.menus = map[string]tgbotapi.ReplyKeyboardMarkup{}
	for _, lang := range locales.Langs {
		b.menus[lang] = b.buildMainMenu(lang)
	}
	b.menu = map[string]string{}
	for _, lang := range locales.Langs {
		for _, row := range menuRows {
			for _, item := range row {
				b.menu[b.t(lang, item.label, nil)] = item.command
			}
		}
		b.menu[b.t(lang, "btn_back", nil)] = "menu"
	}
	return b, nil
}

// checkTexts makes sure the programme's consent version has a text in both
// languages: without it consent could not be asked.
func (b *Bot) checkTexts() error {
	for _, lang := range locales.Langs {
		if _, err := b.loc.Render(lang, consentTextID(b.prog.ConsentVersion), nil); err != nil {
			return fmt.Errorf("bot: no consent text for version %q in %s (add %s to locales/bot.%s.toml): %w",
				b.prog.ConsentVersion, lang, consentTextID(b.prog.ConsentVersion), lang, err)
		}
	}
	return nil
}

// Handle handles one update now: it claims the update id, loads the user's
// session, runs the flow and saves the session. Callers keep one chat's
// updates in order (Poll and the webhook handler do). Each update ends in one
// log line and the metrics: its kind, outcome and duration, never its content.
func (b *Bot) Handle(ctx context.Context, u tgbotapi.Update) {
	start := time.Now()
	kind, outcome := updateKind(u), outcomeOK
	defer func() {
		if p := recover(); p != nil {
			outcome = outcomePanic
			b.log.Error("bot: handler panicked", "update", u.UpdateID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		d := time.Since(start)
		b.metrics.update(kind, outcome, d)
		b.log.Info("update", "update", u.UpdateID, "kind", kind, "outcome", outcome, "ms", float64(d.Microseconds())/1000)
	}()
	outcome = b.handle(ctx, u)
}

func (b *Bot) handle(ctx context.Context, u tgbotapi.Update) string {
	r := b.newReq(ctx, u)
	if r == nil {
		return outcomeIgnored // not from a person in a private chat
	}
	if b.locks != nil {
		unlock, err := b.locks.Lock(ctx, r.chat)
		if err != nil {
			b.log.Warn("bot: chat lock", "update", u.UpdateID, "err", err)
		} else {
			defer unlock()
		}
	}
	var (
		first bool
		raw   []byte
		err   error
	)
	if b.intake != nil {
		first, raw, err = b.intake.ClaimAndLoad(ctx, int64(u.UpdateID), r.user.ID)
	} else {
		first, err = b.claims.Claim(ctx, int64(u.UpdateID))
	}
	if err != nil {
		// Better to risk handling a redelivery than to ignore the person.
		b.log.Warn("bot: claim update", "update", u.UpdateID, "err", err)
		first = true
	}
	if !first {
		b.log.Debug("bot: update already handled", "update", u.UpdateID)
		return outcomeDuplicate
	}
	if b.intake == nil {
		if raw, err = b.sessions.Load(ctx, r.user.ID); err != nil {
			b.log.Warn("bot: load session", "update", u.UpdateID, "err", err)
		}
	}
	if b.outage != nil && b.outage.Down() {
		// Nothing can be looked up or changed: say so at once in the
		// user's language rather than fail step by step.
		b.unavailable(r, raw)
		return outcomeUnavailable
	}
	b.loadSession(r, raw)
	if r.fresh && r.s.State != stateMenu && b.outage != nil && b.outage.SessionsDown() {
		b.unavailable(r, nil)
		return outcomeUnavailable
	}
	b.route(r)
	b.saveSession(r)
	if r.outcome != "" {
		return r.outcome
	}
	return outcomeOK
}

// unavailable answers "temporarily unavailable" in the language of the
// user's session, or else of their Telegram, and leaves the session as it is.
func (b *Bot) unavailable(r *req, raw []byte) {
	if raw == nil || json.Unmarshal(raw, &r.s) != nil || !wallet.ValidLang(r.s.Lang) {
		r.s = Session{Lang: locales.Lang(r.user.LanguageCode)}
	}
	text := b.t(r.lang(), "unavailable", nil)
	if r.cq != nil {
		b.answer(r, short(text))
		return
	}
	b.say(r, text, nil)
}

// now is the service's clock.
func (b *Bot) now() time.Time { return b.clock.Now() }

// t renders a message in lang.
func (b *Bot) t(lang, id string, data map[string]any, count ...int) string {
	if data == nil && len(count) == 0 {
		if s, ok := b.static[lang+"/"+id]; ok {
			return s
		}
	}
	return b.loc.T(lang, id, data, count...)
}
