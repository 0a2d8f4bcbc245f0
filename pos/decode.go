package pos

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"socialwallet/wallet"
)

// maxBody bounds a request body: 100 lines fit in a tenth of it.
const maxBody = 64 << 10

// credential is how the recipient is presented: the QR token's text, or the
// 8-digit code the cashier types when the QR code cannot be scanned.
type credential struct {
	Token string `json:"token,omitempty"`
	Code  string `json:"code,omitempty"`
}

type lineBody struct {
	Product       string `json:"product"`
	QtyMilli      int64  `json:"qty_milli"`
	UnitPriceTiyn int64  `json:"unit_price_tiyn"`
}

type redeemBody struct {
	Token     string     `json:"token,omitempty"`
	Code      string     `json:"code,omitempty"`
	ReceiptNo string     `json:"receipt_no"`
	Lines     []lineBody `json:"lines"`
}

func (b redeemBody) credential() credential { return credential{Token: b.Token, Code: b.Code} }

func (b redeemBody) lines() []wallet.LineInput {
	out := make([]wallet.LineInput, len(b.Lines))
	for i, l := range b.Lines {
		out[i] = wallet.LineInput{Product: l.Product, QtyMilli: l.QtyMilli, UnitPrice: wallet.Tiyn(l.UnitPriceTiyn)}
	}
	return out
}

// hash identifies the request for idempotency: the decoded, normalised body,
// so a retry that differs only in spacing or key order is the same request.
func (b redeemBody) hash() []byte {
	canon, _ := json.Marshal(b) // plain struct of strings and ints: cannot fail
	h := sha256.Sum256(canon)
	return h[:]
}

// checkContentType refuses a body that is declared as something other than JSON.
func checkContentType(r *http.Request) []fieldError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return []fieldError{{Field: "Content-Type", Reason: "must be application/json"}}
	}
	return nil
}

// decodeStrict reads exactly one JSON object into v: unknown fields, trailing
// data, fractions where integers belong and oversize bodies are refused, each
// as a field error a developer can act on.
func decodeStrict(body io.Reader, v any) []fieldError {
	raw, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return []fieldError{{Field: "body", Reason: "could not be read"}}
	}
	if len(raw) > maxBody {
		return []fieldError{{Field: "body", Reason: fmt.Sprintf("larger than %d bytes", maxBody)}}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return []fieldError{{Field: "body", Reason: "a JSON object is needed"}}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return []fieldError{jsonFieldError(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return []fieldError{{Field: "body", Reason: "data after the JSON object"}}
	}
	return nil
}

func jsonFieldError(err error) fieldError {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return fieldError{Field: "body", Reason: fmt.Sprintf("not valid JSON (at byte %d)", se.Offset)}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		want := "of another type"
		switch te.Type.Kind().String() {
		case "int64":
			want = "an integer"
		case "string":
			want = "a string"
		case "slice":
			want = "an array"
		case "struct":
			want = "an object"
		}
		return fieldError{Field: field, Reason: "must be " + want}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldError{Field: "body", Reason: "JSON ends too early"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name = strings.Trim(name, `"`); name != "" {
			return fieldError{Field: name, Reason: "unknown field"}
		}
		return fieldError{Field: "body", Reason: `unknown field ""`}
	}
	return fieldError{Field: "body", Reason: "not a valid request"}
}

// normalise checks the credential: exactly one of token and code; the code
// loses the spaces a cashier may type.
func (c *credential) normalise() []fieldError {
	c.Token = strings.TrimSpace(c.Token)
	switch {
	case c.Token == "" && strings.TrimSpace(c.Code) == "":
		return []fieldError{{Field: "token", Reason: "a token or a code is needed"}}
	case c.Token != "" && c.Code != "":
		return []fieldError{{Field: "code", Reason: "give a token or a code, not both"}}
	case c.Token != "":
		if len(c.Token) > 256 {
			return []fieldError{{Field: "token", Reason: "too long to be a QR token"}}
		}
		return nil
	}
	code, ok := wallet.ValidFallbackCode(c.Code)
	if !ok {
		return []fieldError{{Field: "code", Reason: "must be the 8 digits shown under the QR code"}}
	}
	c.Code = code
	return nil
}

// decodeCheck reads a POST /v1/tokens/check body.
func decodeCheck(body io.Reader) (credential, []fieldError) {
	var c credential
	if bad := decodeStrict(body, &c); bad != nil {
		return credential{}, bad
	}
	if bad := c.normalise(); bad != nil {
		return credential{}, bad
	}
	return c, nil
}

// decodeRedeem reads and validates a POST /v1/redemptions body. Every field
// problem is reported at once, named as in the request ("lines[2].qty_milli").
func decodeRedeem(body io.Reader) (redeemBody, []fieldError) {
	var b redeemBody
	if bad := decodeStrict(body, &b); bad != nil {
		return redeemBody{}, bad
	}
	c := b.credential()
	bad := c.normalise()
	b.Token, b.Code = c.Token, c.Code
	if !wallet.ValidReceiptNo(b.ReceiptNo) {
		bad = append(bad, fieldError{Field: "receipt_no", Reason: "1–64 printable characters: the till's own receipt number"})
	}
	for _, e := range wallet.ValidateLines(b.lines()) {
		bad = append(bad, fieldError{Field: e.Field, Reason: e.Reason})
	}
	if len(bad) > 0 {
		return redeemBody{}, bad
	}
	return b, nil
}
