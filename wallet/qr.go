package wallet

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// Codes of the QR token errors the cashier sees.
const (
	CodeTokenInvalid Code = "token_invalid"
	CodeTokenExpired Code = "token_expired"
	CodeTokenUsed    Code = "token_used"
)

// QRToken is a one-time permission to spend a family's vouchers, shown by one
// member at the till. Its signature proves we issued it; single use and
// replacement are settled in the database (qr_tokens).
type QRToken struct {
	ID        [12]byte // random; the key of its qr_tokens row
	MemberID  int64
	ExpiresAt time.Time // whole seconds
}

const (
	qrPrefix  = "SW1."
	qrMACSize = 16
)

// IDHex is the token id as stored and logged (it grants nothing alone).
func (t QRToken) IDHex() string { return hex.EncodeToString(t.ID[:]) }

// NewQRToken makes a fresh token for member, valid for ttl from now.
func NewQRToken(member int64, now time.Time, ttl time.Duration) QRToken {
	var t QRToken
	rand.Read(t.ID[:])
	t.MemberID = member
	t.ExpiresAt = now.Add(ttl).Truncate(time.Second)
	return t
}

// Sign renders the token as the text inside the QR code:
// "SW1." + base64url(id ‖ member ‖ expiry ‖ HMAC-SHA256[:16]).
func (t QRToken) Sign(secret []byte) string {
	buf := make([]byte, 0, 12+binary.MaxVarintLen64+8+qrMACSize)
	buf = append(buf, t.ID[:]...)
	buf = binary.AppendUvarint(buf, uint64(t.MemberID))
	buf = binary.BigEndian.AppendUint64(buf, uint64(t.ExpiresAt.Unix()))
	buf = append(buf, qrMAC(secret, buf)...)
	return qrPrefix + base64.RawURLEncoding.EncodeToString(buf)
}

func qrMAC(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("qr:"))
	m.Write(payload)
	return m.Sum(nil)[:qrMACSize]
}

// ParseQRToken verifies the signature and the expiry of s.
func ParseQRToken(secret []byte, s string, now time.Time) (QRToken, error) {
	var t QRToken
	s = strings.TrimSpace(s)
	// One token has exactly one text: the strict decoder refuses padding bits
	// and the check refuses line breaks the lenient decoder would skip, so a
	// retyped token cannot pass as a different request.
	if !strings.HasPrefix(s, qrPrefix) || len(s) > 128 || strings.ContainsAny(s, "\r\n= \t") {
		return t, Errorf(CodeTokenInvalid, "not a wallet QR token")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s[len(qrPrefix):])
	if err != nil || len(raw) < 12+1+8+qrMACSize {
		return t, Errorf(CodeTokenInvalid, "malformed QR token")
	}
	payload, mac := raw[:len(raw)-qrMACSize], raw[len(raw)-qrMACSize:]
	if !hmac.Equal(mac, qrMAC(secret, payload)) {
		return t, Errorf(CodeTokenInvalid, "QR token signature does not verify")
	}
	copy(t.ID[:], payload[:12])
	member, n := binary.Uvarint(payload[12:])
	if n <= 0 || len(payload[12+n:]) != 8 || member == 0 || member > 1<<62 {
		return t, Errorf(CodeTokenInvalid, "malformed QR token")
	}
	t.MemberID = int64(member)
	t.ExpiresAt = time.Unix(int64(binary.BigEndian.Uint64(payload[12+n:])), 0)
	if !now.Before(t.ExpiresAt) {
		return t, Errorf(CodeTokenExpired, "QR token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// NewFallbackCode is the 8-digit code a cashier can type when the QR code
// cannot be scanned. It is random, lives as long as its token, and maps to the
// token only in Redis.
func NewFallbackCode() string {
	var b [8]byte
	rand.Read(b[:])
	n := binary.BigEndian.Uint64(b[:]) % 100_000_000
	s := "00000000" + itoa(n)
	return s[len(s)-8:]
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// ValidFallbackCode reports whether s looks like a fallback code (8 digits, spaces allowed).
func ValidFallbackCode(s string) (string, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) != 8 {
		return "", false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return s, true
}
