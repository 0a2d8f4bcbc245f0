package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"socialwallet/wallet"
)

// Codes maps the 8-digit fallback codes a cashier may type to the signed QR
// tokens they stand for, for the token's lifetime. The token itself is still
// checked by signature and in PostgreSQL: a code grants nothing a scanned QR
// code would not.
type Codes struct {
	c      goredis.UniversalClient
	prefix string
}

// NewCodes keeps codes under prefix+"qrcode:<code>".
func NewCodes(c goredis.UniversalClient, prefix string) *Codes {
	return &Codes{c: c, prefix: prefix + "qrcode:"}
}

// Put keeps code → signedToken for ttl. A code already in use is a conflict
// (the caller draws another).
func (c *Codes) Put(ctx context.Context, code, signedToken string, ttl time.Duration) error {
	if _, ok := wallet.ValidFallbackCode(code); !ok {
		return wallet.Errorf(wallet.CodeInvalid, "fallback code must be 8 digits")
	}
	ok, err := c.c.SetNX(ctx, c.prefix+code, signedToken, ttl).Result()
	if err != nil {
		return fmt.Errorf("redis: put fallback code: %w", err)
	}
	if !ok {
		return wallet.Errorf(wallet.CodeConflict, "fallback code in use")
	}
	return nil
}

// replaceScript sets the new code unless taken, then drops the member's
// previous code and remembers the new one as theirs.
var replaceScript = goredis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local old = redis.call('GET', KEYS[2])
if old and old ~= ARGV[3] then redis.call('DEL', ARGV[4] .. old) end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1`)

// Replace is Put for a member's new code: their earlier code stops working.
func (c *Codes) Replace(ctx context.Context, memberID int64, code, signedToken string, ttl time.Duration) error {
	if _, ok := wallet.ValidFallbackCode(code); !ok {
		return wallet.Errorf(wallet.CodeInvalid, "fallback code must be 8 digits")
	}
	keys := []string{c.prefix + code, c.prefix + "member:" + strconv.FormatInt(memberID, 10)}
	n, err := replaceScript.Run(ctx, c.c, keys, signedToken, ttl.Milliseconds(), code, c.prefix).Int()
	if err != nil {
		return fmt.Errorf("redis: replace fallback code: %w", err)
	}
	if n == 0 {
		return wallet.Errorf(wallet.CodeConflict, "fallback code in use")
	}
	return nil
}

// Lookup returns the signed token a code stands for; a code that is unknown,
// expired, replaced or malformed is token_invalid.
func (c *Codes) Lookup(ctx context.Context, code string) (string, error) {
	code, ok := wallet.ValidFallbackCode(code)
	if !ok {
		return "", wallet.Errorf(wallet.CodeTokenInvalid, "fallback code must be 8 digits")
	}
	s, err := c.c.Get(ctx, c.prefix+code).Result()
	if errors.Is(err, goredis.Nil) {
		return "", wallet.Errorf(wallet.CodeTokenInvalid, "no such fallback code (expired or replaced)")
	}
	if err != nil {
		return "", fmt.Errorf("redis: look up fallback code: %w", err)
	}
	return s, nil
}
