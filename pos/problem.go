package pos

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"socialwallet/wallet"
)

// Problem codes the API answers with, beyond the wallet's own.
const (
	codeValidation   = "validation"
	codeUnauthorized = "unauthorized"
	codeRateLimited  = "rate_limited"
	codeInternal     = "internal"
)

// kind is how one problem code is answered.
type kind struct {
	status int
	title  string
}

// problems lists every code with its HTTP status; openapi.yaml documents the
// same table (a test keeps them in step).
var problems = map[string]kind{
	codeValidation:                         {http.StatusBadRequest, "The request is not valid"},
	codeUnauthorized:                       {http.StatusUnauthorized, "A valid merchant API key is needed"},
	string(wallet.CodeNotFound):            {http.StatusNotFound, "Not found"},
	string(wallet.CodeTokenInvalid):        {http.StatusUnprocessableEntity, "The QR code or typed code is not valid"},
	string(wallet.CodeTokenExpired):        {http.StatusUnprocessableEntity, "The QR code has expired"},
	string(wallet.CodeTokenUsed):           {http.StatusConflict, "The QR code has already been used"},
	string(wallet.CodeFrozen):              {http.StatusForbidden, "The family's wallet is frozen"},
	string(wallet.CodeNotSZPT):             {http.StatusUnprocessableEntity, "A product is not on the СЗПТ list"},
	string(wallet.CodeInsufficientFunds):   {http.StatusUnprocessableEntity, "The family has no value to spend"},
	string(wallet.CodeIdempotencyConflict): {http.StatusConflict, "The Idempotency-Key was used for another request"},
	string(wallet.CodeVoidWindowPassed):    {http.StatusConflict, "The purchase can no longer be voided"},
	string(wallet.CodeConflict):            {http.StatusConflict, "Conflict"},
	codeRateLimited:                        {http.StatusTooManyRequests, "Too many wrong codes; wait before typing another"},
	codeInternal:                           {http.StatusInternalServerError, "Internal error"},
}

// problem is an RFC 9457 problem detail with the stable code clients switch on.
type problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Code   string       `json:"code"`
	Detail string       `json:"detail"`
	Errors []fieldError `json:"errors,omitempty"`
}

// fieldError names one invalid field of a request.
type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func newProblem(code, detail string) problem {
	k, ok := problems[code]
	if !ok {
		// A wallet code without a row here is still the client's to see.
		k = kind{http.StatusUnprocessableEntity, code}
	}
	return problem{Type: "urn:socialwallet:problem:" + code, Title: k.title, Status: k.status, Code: code, Detail: detail}
}

// problemOf turns a coded wallet error into its problem; ok is false for an
// error without a code, which is ours to log, not the client's to read.
func problemOf(err error) (p problem, ok bool) {
	var we *wallet.Error
	if !errors.As(err, &we) {
		return problem{}, false
	}
	code := string(we.Code)
	if we.Code == wallet.CodeInvalid {
		code = codeValidation
	}
	return newProblem(code, we.Message), true
}

func writeProblem(w http.ResponseWriter, p problem, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
