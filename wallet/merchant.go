package wallet

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Merchant is a participating store.
type Merchant struct {
	ID         int64
	Name       string
	City       string
	Address    string
	Lat, Lon   float64
	DiscountBP int // discount in basis points (1500 = 15 %)
	CreatedAt  time.Time
	DisabledAt time.Time
}

// Active reports whether the merchant may take vouchers.
func (m Merchant) Active() bool { return m.DisabledAt.IsZero() }

// apiKeyPrefix makes keys recognisable in a leaked file or a support call.
const apiKeyPrefix = "swk_"

// NewAPIKey returns a fresh random key (shown once) and the hash that is stored.
func NewAPIKey() (key string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails; see crypto/rand docs
	key = apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashAPIKey(key)
}

// HashAPIKey is how a presented key is compared with the stored one.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return h[:]
}

// ParsePercent reads a discount such as "15", "12.5" or "7,25" into basis points.
func ParsePercent(s string) (int, error) {
	s = strings.TrimSuffix(strings.TrimSpace(strings.ReplaceAll(s, ",", ".")), "%")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return 0, Errorf(CodeInvalid, "discount %q: want a percentage with at most two decimals", s)
	}
	bp := 0
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, Errorf(CodeInvalid, "discount %q: not a number", s)
		}
		bp = bp*10 + int(c-'0')
		if bp > 100 {
			return 0, Errorf(CodeInvalid, "discount %q: above 100 %%", s)
		}
	}
	bp *= 100
	f := frac + strings.Repeat("0", 2-len(frac))
	for i, c := range f {
		if c < '0' || c > '9' {
			return 0, Errorf(CodeInvalid, "discount %q: not a number", s)
		}
		if i == 0 {
			bp += int(c-'0') * 10
		} else {
			bp += int(c - '0')
		}
	}
	return bp, nil
}
