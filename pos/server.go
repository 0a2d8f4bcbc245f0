// Package pos is the cashier HTTP API for participating stores: the
// catalogue, the look at a QR token before ringing up, purchases with the
// discount applied and value debited exactly once, voids, and the API's own
// description (openapi.yaml). It authenticates merchants by the hash of their
// API key, answers errors as application/problem+json with stable codes, and
// reaches the wallet, the typed codes and the rate limit through the small
// interfaces below.
package pos

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"socialwallet/wallet"
)

//go:embed openapi.yaml
var openapi []byte

// OpenAPI is the API's description, as served at /v1/openapi.yaml.
func OpenAPI() []byte { return append([]byte(nil), openapi...) }

// Wallet is the use cases the API calls; *wallet.Service provides them.
type Wallet interface {
	MerchantByKey(ctx context.Context, key string) (wallet.Merchant, error)
	Catalog(ctx context.Context) ([]wallet.Product, error)
	CheckToken(ctx context.Context, m wallet.Merchant, signed string) (wallet.TokenCheck, error)
	Redeem(ctx context.Context, req wallet.RedeemRequest) (wallet.Redemption, bool, error)
	Replay(ctx context.Context, merchantID int64, key string, hash []byte) (wallet.Redemption, bool, error)
	Redemption(ctx context.Context, merchantID, id int64) (wallet.Redemption, error)
	VoidRedemption(ctx context.Context, merchantID, id int64) (wallet.Redemption, error)
}

var _ Wallet = (*wallet.Service)(nil)

// Codes resolves a typed fallback code to the signed token it stands for; an
// unknown or lapsed code is an error with code token_invalid.
type Codes interface {
	Lookup(ctx context.Context, code string) (signedToken string, err error)
}

// Limiter bounds the wrong codes a merchant types: every typed code reserves
// a unit before it is looked up, and a right one releases it.
type Limiter interface {
	Reserve(ctx context.Context, merchantID int64) (ok bool, retryAfter time.Duration, err error)
	Release(ctx context.Context, merchantID int64) error
}

// Config is what the API needs.
type Config struct {
	Wallet  Wallet
	Codes   Codes
	Limiter Limiter
	Log     *slog.Logger
	// PurchaseTimeout bounds a purchase once started; it runs to the end even
	// when the till hangs up, so that a retry finds its answer. Default 15 s.
	PurchaseTimeout time.Duration
}

// Server serves the API under /v1.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	metrics *metrics
}

// New builds the API. Mount it at "/v1/".
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PurchaseTimeout == 0 {
		cfg.PurchaseTimeout = 15 * time.Second
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), metrics: newMetrics()}
	s.mux.HandleFunc("GET /v1/openapi.yaml", s.openAPI)
	s.mux.HandleFunc("GET /v1/catalog", s.auth(s.catalog))
	s.mux.HandleFunc("POST /v1/tokens/check", s.auth(s.check))
	s.mux.HandleFunc("POST /v1/redemptions", s.auth(s.redeem))
	s.mux.HandleFunc("GET /v1/redemptions/{id}", s.auth(s.get))
	s.mux.HandleFunc("POST /v1/redemptions/{id}/void", s.auth(s.void))
	s.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, newProblem(string(wallet.CodeNotFound), "no such endpoint: see /v1/openapi.yaml"), 0)
	})
	return s
}

// ServeHTTP logs each request (never its body, key, token or code) and turns
// a panic into a 500 problem.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Log.Error("pos: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if !rec.wrote {
				writeProblem(rec, newProblem(codeInternal, "internal error"), 0)
			}
		}
		attrs := []any{"method", r.Method, "route", r.Pattern, "status", rec.status, "ms", time.Since(start).Milliseconds()}
		if rec.merchant != 0 {
			attrs = append(attrs, "merchant", rec.merchant)
		}
		if rec.code != "" {
			attrs = append(attrs, "code", rec.code)
		}
		s.cfg.Log.Info("pos request", attrs...)
		s.metrics.observe(r, rec, time.Since(start))
	}()
	s.mux.ServeHTTP(rec, r)
}

// recorder remembers what the access log needs.
type recorder struct {
	http.ResponseWriter
	status   int
	wrote    bool
	merchant int64
	code     string
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func note(w http.ResponseWriter, f func(*recorder)) {
	if rec, ok := w.(*recorder); ok {
		f(rec)
	}
}

// fail answers a problem; internal errors are logged by the caller.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p problem, retryAfter time.Duration) {
	note(w, func(rec *recorder) { rec.code = p.Code })
	writeProblem(w, p, retryAfter)
}

// failErr answers err: a coded wallet error as its problem, anything else as
// a logged 500 whose detail reveals nothing.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	if p, ok := problemOf(err); ok {
		s.fail(w, r, p, 0)
		return
	}
	s.cfg.Log.Error("pos: request failed", "method", r.Method, "route", r.Pattern, "err", err)
	s.fail(w, r, newProblem(codeInternal, "internal error; the request may be retried with the same Idempotency-Key"), 0)
}

func (s *Server) invalid(w http.ResponseWriter, r *http.Request, bad []fieldError) {
	p := newProblem(codeValidation, bad[0].Field+": "+bad[0].Reason)
	p.Errors = bad
	s.fail(w, r, p, 0)
}

// auth finds the merchant by its API key (Authorization: Bearer swk_…). A
// missing, wrong or disabled key is 401; the log says which case, never the key.
func (s *Server) auth(next func(http.ResponseWriter, *http.Request, wallet.Merchant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, key, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			s.unauthorized(w, r, "missing or not a Bearer Authorization header")
			return
		}
		m, err := s.cfg.Wallet.MerchantByKey(r.Context(), key)
		if wallet.IsCode(err, wallet.CodeNotFound) {
			s.unauthorized(w, r, "unknown or disabled key")
			return
		}
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		note(w, func(rec *recorder) { rec.merchant = m.ID })
		next(w, r, m)
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, why string) {
	s.cfg.Log.Warn("pos: unauthorized", "method", r.Method, "path", r.URL.Path, "reason", why, "remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", `Bearer realm="socialwallet-pos"`)
	s.fail(w, r, newProblem(codeUnauthorized, "send Authorization: Bearer <API key> with the key of an active merchant"), 0)
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Write(openapi)
}

// pathID reads {id}; anything but a positive integer names no purchase.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// resolve turns a credential into a signed token. A typed code passes the
// merchant's wrong-code limit first; p.Code is set when it is refused.
func (s *Server) resolve(ctx context.Context, m wallet.Merchant, c credential) (signed string, p *problem, retryAfter time.Duration, err error) {
	if c.Token != "" {
		return c.Token, nil, 0, nil
	}
	if s.cfg.Codes == nil || s.cfg.Limiter == nil {
		return "", nil, 0, errors.New("pos: typed codes are not wired")
	}
	ok, retry, err := s.cfg.Limiter.Reserve(ctx, m.ID)
	if err != nil {
		return "", nil, 0, err
	}
	if !ok {
		rp := newProblem(codeRateLimited, fmt.Sprintf("too many wrong codes from this store; try again in %d s or scan the QR code", int(retry.Round(time.Second)/time.Second)))
		return "", &rp, retry, nil
	}
	signed, err = s.cfg.Codes.Lookup(ctx, c.Code)
	if wallet.IsCode(err, wallet.CodeTokenInvalid) {
		return "", nil, 0, err // the unit stays taken: this was a wrong code
	}
	if rerr := s.cfg.Limiter.Release(ctx, m.ID); rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return "", nil, 0, err
	}
	return signed, nil, 0, nil
}
