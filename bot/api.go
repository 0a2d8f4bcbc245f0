// Package bot is the Telegram transport of the social wallet: update intake
// (polling and webhook), per-chat ordering, the conversation routes (one file
// per flow), keyboards, QR images and the notification sender. It talks to
// wallet through small interfaces and never imports pgx or redis.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// API wraps go-telegram-bot-api so that every request carries a context, the
// token never appears in an error or a log line, and Telegram's answers are
// typed errors the callers can act on (retry_after, blocked, 5xx).
type API struct {
	bot   *tgbotapi.BotAPI
	http  *http.Client
	token string
	Self  tgbotapi.User
	// Observe, when set, is told of every call: method, HTTP-ish result code
	// (200, 429, 403, 5xx, 0 for a transport failure) and duration.
	Observe func(method string, code int, d time.Duration)
}

// DefaultEndpoint is the library's endpoint format, bot%s/%s.
const DefaultEndpoint = tgbotapi.APIEndpoint

var setLoggerOnce sync.Once

// NewAPI connects with getMe. endpoint is in the library's format
// ("https://api.telegram.org/bot%s/%s"); empty means the default.
func NewAPI(ctx context.Context, token, endpoint string, hc *http.Client) (*API, error) {
	if token == "" {
		return nil, errors.New("telegram: TELEGRAM_TOKEN is empty")
	}
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if strings.Count(endpoint, "%s") != 2 {
		return nil, fmt.Errorf("telegram: TELEGRAM_API_ENDPOINT must contain two %%s (token, method), like %s", DefaultEndpoint)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 70 * time.Second}
	}
	if hc.Transport == nil {
		// The default keeps two idle connections per host: with replies to
		// many chats at once every other request would dial (and shake
		// hands over TLS) anew.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 256
		c := *hc
		c.Transport = t
		hc = &c
	}
	setLoggerOnce.Do(func() { tgbotapi.SetLogger(discardLogger{}) })
	a := &API{http: hc, token: token}
	// The library calls getMe in its constructor without a context; build the
	// struct without that call and make it ourselves.
	a.bot = &tgbotapi.BotAPI{Token: token, Client: hc, Buffer: 0}
	a.bot.SetAPIEndpoint(endpoint)
	var me tgbotapi.User
	if err := a.call(ctx, "getMe", func(b *tgbotapi.BotAPI) error {
		var err error
		me, err = b.GetMe()
		return err
	}); err != nil {
		return nil, err
	}
	a.Self = me
	a.bot.Self = me
	return a, nil
}

// discardLogger keeps the library quiet: its lines can carry the token.
type discardLogger struct{}

func (discardLogger) Println(...any)        {}
func (discardLogger) Printf(string, ...any) {}

// APIError is Telegram's refusal of a request.
type APIError struct {
	Method      string
	Code        int           // error_code: 400, 403, 429, 5xx…
	Description string        // Telegram's text; never holds the token
	RetryAfter  time.Duration // from parameters.retry_after on 429
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// TransportError is a request that got no usable answer: a network failure, a
// timeout, or a 5xx page that is not Telegram's JSON. Its text is redacted.
type TransportError struct {
	Method  string
	Status  int // HTTP status when one was received
	Timeout bool
	Msg     string
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("telegram %s: transport (status %d, timeout %v): %s", e.Method, e.Status, e.Timeout, e.Msg)
}

// Blocked reports whether the user blocked the bot (or deleted the chat).
func Blocked(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == http.StatusForbidden
}

// RetryAfter returns how long Telegram asked us to wait (429).
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == http.StatusTooManyRequests {
		d := ae.RetryAfter
		if d <= 0 {
			d = time.Second
		}
		return d, true
	}
	return 0, false
}

// Temporary reports whether trying again later may succeed: 429, 5xx,
// transport failures and timeouts.
func Temporary(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code == http.StatusTooManyRequests || ae.Code >= 500
	}
	var te *TransportError
	return errors.As(err, &te)
}

// Code is the result code of a call for metrics: 200 on success, Telegram's
// error_code, the HTTP status of a transport failure, or 0.
func Code(err error) int {
	if err == nil {
		return 200
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Status
	}
	return 0
}

// ctxDoer gives the library's context-less requests a context and remembers the
// HTTP status for error classification.
type ctxDoer struct {
	ctx    context.Context
	hc     *http.Client
	status int
}

func (d *ctxDoer) Do(r *http.Request) (*http.Response, error) {
	resp, err := d.hc.Do(r.WithContext(d.ctx))
	if resp != nil {
		d.status = resp.StatusCode
	}
	return resp, err
}

// call runs f on a per-call copy of the library client bound to ctx.
func (a *API) call(ctx context.Context, method string, f func(*tgbotapi.BotAPI) error) error {
	d := &ctxDoer{ctx: ctx, hc: a.http}
	b := *a.bot
	b.Client = d
	start := time.Now()
	err := a.classify(method, d, f(&b), ctx)
	if a.Observe != nil {
		code := Code(err)
		a.Observe(method, code, time.Since(start))
	}
	return err
}

func (a *API) classify(method string, d *ctxDoer, err error, ctx context.Context) error {
	if err == nil {
		return nil
	}
	var te *tgbotapi.Error
	if errors.As(err, &te) {
		return &APIError{Method: method, Code: te.Code, Description: a.redact(te.Message),
			RetryAfter: time.Duration(te.RetryAfter) * time.Second}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("telegram %s: %w", method, ctx.Err())
	}
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	var se *json.SyntaxError
	msg := a.redact(err.Error())
	if errors.As(err, &se) {
		msg = "answer is not Telegram's JSON"
	}
	return &TransportError{Method: method, Status: d.status, Timeout: timeout, Msg: msg}
}

func (a *API) redact(s string) string {
	if a.token == "" {
		return s
	}
	return strings.ReplaceAll(s, a.token, "<token>")
}

// Request calls a method whose result is not a message (answerCallbackQuery,
// deleteMessage, setMyCommands, setWebhook…).
func (a *API) Request(ctx context.Context, c tgbotapi.Chattable) (*tgbotapi.APIResponse, error) {
	var resp *tgbotapi.APIResponse
	err := a.call(ctx, methodOf(c), func(b *tgbotapi.BotAPI) error {
		var err error
		resp, err = b.Request(c)
		return err
	})
	return resp, err
}

// Send calls a method that returns a message (sendMessage, sendPhoto, edits).
func (a *API) Send(ctx context.Context, c tgbotapi.Chattable) (tgbotapi.Message, error) {
	var msg tgbotapi.Message
	err := a.call(ctx, methodOf(c), func(b *tgbotapi.BotAPI) error {
		var err error
		msg, err = b.Send(c)
		return err
	})
	return msg, err
}

// Raw calls any method with form parameters, for what the library does not
// model (setWebhook's secret_token, protect_content…).
func (a *API) Raw(ctx context.Context, method string, params tgbotapi.Params) (*tgbotapi.APIResponse, error) {
	var resp *tgbotapi.APIResponse
	err := a.call(ctx, method, func(b *tgbotapi.BotAPI) error {
		var err error
		resp, err = b.MakeRequest(method, params)
		return err
	})
	return resp, err
}

// Upload calls a method with files (sendPhoto with extra parameters).
func (a *API) Upload(ctx context.Context, method string, params tgbotapi.Params, files []tgbotapi.RequestFile) (*tgbotapi.APIResponse, error) {
	var resp *tgbotapi.APIResponse
	err := a.call(ctx, method, func(b *tgbotapi.BotAPI) error {
		var err error
		resp, err = b.UploadFiles(method, params, files)
		// The library forgets error_code on uploads; without it a 403 or a
		// 429 on sendPhoto would not be recognised.
		var te *tgbotapi.Error
		if errors.As(err, &te) && te.Code == 0 && resp != nil {
			te.Code = resp.ErrorCode
		}
		return err
	})
	return resp, err
}

// GetUpdates long-polls; the HTTP client's timeout must exceed cfg.Timeout.
func (a *API) GetUpdates(ctx context.Context, cfg tgbotapi.UpdateConfig) ([]tgbotapi.Update, error) {
	var ups []tgbotapi.Update
	err := a.call(ctx, "getUpdates", func(b *tgbotapi.BotAPI) error {
		var err error
		ups, err = b.GetUpdates(cfg)
		return err
	})
	return ups, err
}

func methodOf(c tgbotapi.Chattable) string {
	switch c.(type) {
	case tgbotapi.MessageConfig:
		return "sendMessage"
	case tgbotapi.PhotoConfig:
		return "sendPhoto"
	case tgbotapi.EditMessageTextConfig:
		return "editMessageText"
	case tgbotapi.EditMessageReplyMarkupConfig:
		return "editMessageReplyMarkup"
	case tgbotapi.EditMessageCaptionConfig:
		return "editMessageCaption"
	case tgbotapi.CallbackConfig:
		return "answerCallbackQuery"
	case tgbotapi.DeleteMessageConfig:
		return "deleteMessage"
	case tgbotapi.SetMyCommandsConfig:
		return "setMyCommands"
	case tgbotapi.DeleteWebhookConfig:
		return "deleteWebhook"
	case tgbotapi.WebhookConfig:
		return "setWebhook"
	}
	return fmt.Sprintf("%T", c)
}
