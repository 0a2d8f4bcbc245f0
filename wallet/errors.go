package wallet

import (
	"errors"
	"fmt"
)

// Code classifies an error that a person may see; the edges translate it (the bot
// to a message ID, the cashier API to an HTTP status).
type Code string

const (
	CodeInvalid           Code = "invalid"
	CodeNotFound          Code = "not_found"
	CodeConflict          Code = "conflict"
	CodeForbidden         Code = "forbidden"
	CodeDeadlinePassed    Code = "deadline_passed"
	CodeConsentRequired   Code = "consent_required"
	CodeInsufficientFunds Code = "insufficient_funds"
	CodeFrozen            Code = "family_frozen"
	CodeNotEligible       Code = "not_eligible"
	CodeOutsideProgram    Code = "outside_program"
	CodeTooEarly          Code = "too_early"
)

// Error is an error with a code. Message is for operators and logs; it never
// carries personal data.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds a coded error.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first coded error in err's chain, or "".
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }
