package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// VoidWindow is how long after a purchase its merchant may void it.
const VoidWindow = 15 * time.Minute

// TokenRow is a qr_tokens row as the store reads it, locked.
type TokenRow struct {
	MemberID   int64
	ExpiresAt  time.Time
	ReplacedAt time.Time
	UsedAt     time.Time
}

// Check applies the single-use rules to the row of a token whose signature
// has been verified: used beats replaced beats expired, so a cashier who rings
// up the same code twice hears "already used", not something vaguer.
func (r TokenRow) Check(t QRToken, now time.Time) error {
	switch {
	case !r.UsedAt.IsZero():
		return Errorf(CodeTokenUsed, "QR token %s was used at %s", t.IDHex(), r.UsedAt.UTC().Format(time.RFC3339))
	case !r.ReplacedAt.IsZero():
		return Errorf(CodeTokenInvalid, "QR token %s was replaced by a newer one", t.IDHex())
	case r.MemberID != t.MemberID:
		return Errorf(CodeTokenInvalid, "QR token %s does not match its record", t.IDHex())
	case !now.Before(r.ExpiresAt) || !now.Before(t.ExpiresAt):
		return Errorf(CodeTokenExpired, "QR token %s expired", t.IDHex())
	}
	return nil
}

// Redemption is a purchase paid (in part) from a family's vouchers. The
// fields with JSON names are the first answer, stored with the row and
// returned again to a retried request; the void fields are read separately.
type Redemption struct {
	ID         int64  `json:"id"`
	MerchantID int64  `json:"merchant_id"`
	FamilyID   string `json:"family_id"`
	MemberID   int64  `json:"member_id"`
	Member     string `json:"member"` // "Айгүл Н.": enough for the cashier, not enough to identify
	ReceiptNo  string `json:"receipt_no"`
	Quote
	FamilyRemaining Tiyn      `json:"family_remaining"` // spendable right after the purchase
	Debits          []Debit   `json:"debits"`
	CreatedAt       time.Time `json:"created_at"`

	VoidedAt      time.Time `json:"-"`
	Returned      Tiyn      `json:"-"` // value the void gave back
	VoidRemaining Tiyn      `json:"-"` // spendable right after the void
}

// Voided reports whether the purchase was voided.
func (r Redemption) Voided() bool { return !r.VoidedAt.IsZero() }

// Lapsed is value a void could not give back because its voucher had expired.
func (r Redemption) Lapsed() Tiyn {
	if !r.Voided() {
		return 0
	}
	return r.Covered - r.Returned
}

// RedeemRequest is a purchase as the till asks for it.
type RedeemRequest struct {
	Merchant       Merchant
	Token          string // the signed QR token (a typed code is resolved to it by the edge)
	IdempotencyKey string
	RequestHash    []byte // of the request as sent, to tell a retry from a reused key
	ReceiptNo      string
	Lines          []LineInput
}

// RedeemSpec asks the store to carry out a purchase in one transaction.
type RedeemSpec struct {
	MerchantID     int64
	TokenID        [12]byte
	IdempotencyKey string
	RequestHash    []byte
	ReceiptNo      string
	Lines          []LineInput
	Now            time.Time
	// CheckToken is the single-use rule, applied to the locked token row.
	CheckToken func(TokenRow) error
	// Price is the programme rule, applied to the family's spendable
	// vouchers, locked. It changes the vouchers it debits in place.
	Price func(vs []Voucher) (Quote, []Debit, error)
}

// VoidSpec asks the store to void a purchase in one transaction.
type VoidSpec struct {
	MerchantID   int64
	RedemptionID int64
	Now          time.Time
	// Allowed applies the void window to the locked redemption.
	Allowed func(createdAt time.Time) error
}

// TokenStatus is what the store knows of a token, read without locks.
type TokenStatus struct {
	Row       TokenRow
	FullName  string
	FamilyID  string
	Frozen    bool
	Available Tiyn
}

// TokenCheck is what a cashier learns before ringing up.
type TokenCheck struct {
	Member     string // "Айгүл Н."
	Available  Tiyn   // spend mode: value the family may spend; discount mode: the discount it may still get
	Mode       VoucherMode
	DiscountBP int
	ExpiresAt  time.Time
}

// FreezeSpec asks the store to freeze a family after a "Not me".
type FreezeSpec struct {
	MemberID     int64
	RedemptionID int64
	Reason       string
	Now          time.Time
}

// Receipt is what the recipient who showed the code is told of a purchase
// (and of its void).
type Receipt struct {
	RedemptionID    int64
	MemberID        int64
	FamilyID        string
	Store           string
	StoreAddress    string
	At              time.Time // in the programme's zone
	Mode            VoucherMode
	Lines           []ReceiptLine
	Gross           Tiyn
	Discount        Tiyn // saved by the discount
	PaidByVoucher   Tiyn // taken from the vouchers (in discount mode: the discount)
	ToPay           Tiyn // paid by other means
	FamilyRemaining Tiyn // after the purchase, or after the void once voided
	Voided          bool
	VoidedAt        time.Time // in the programme's zone
	Returned        Tiyn      // value the void gave back
}

// ReceiptLine is one line of a receipt, with the product's names.
type ReceiptLine struct {
	Product   Product
	QtyMilli  int64
	UnitPrice Tiyn
	Gross     Tiyn
	Discount  Tiyn
	Net       Tiyn
}

// ErrIdempotencyKeyTaken is the store saying that a purchase with this
// merchant's idempotency key exists; the service decides replay or conflict.
var ErrIdempotencyKeyTaken = errors.New("wallet: idempotency key already used")

// Purchases is what the cashier use cases need of storage.
type Purchases interface {
	MerchantByKeyHash(ctx context.Context, hash []byte) (Merchant, error)
	TokenStatus(ctx context.Context, tokenID [12]byte, now time.Time) (TokenStatus, error)
	Redeem(ctx context.Context, spec RedeemSpec) (Redemption, error)
	RedemptionByKey(ctx context.Context, merchantID int64, key string) (Redemption, []byte, error)
	RedemptionForMerchant(ctx context.Context, merchantID, id int64) (Redemption, error)
	VoidRedemption(ctx context.Context, spec VoidSpec) (Redemption, error)
	FreezeFamily(ctx context.Context, spec FreezeSpec) error
	UnfreezeFamily(ctx context.Context, familyID string, now time.Time) error
	Receipt(ctx context.Context, redemptionID int64) (Receipt, error)
}

// purchases finds the purchase repository on the service's store; the
// PostgreSQL store provides it.
func (s *Service) purchases() (Purchases, error) {
	p, ok := s.Store.(Purchases)
	if !ok {
		return nil, fmt.Errorf("wallet: store %T does not keep purchases", s.Store)
	}
	return p, nil
}

// MerchantByKey finds the active merchant an API key belongs to; a wrong,
// malformed or disabled key is not_found. The key is compared through its hash.
func (s *Service) MerchantByKey(ctx context.Context, key string) (Merchant, error) {
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, apiKeyPrefix) || len(key) > 128 {
		return Merchant{}, Errorf(CodeNotFound, "no merchant for a malformed key")
	}
	ps, err := s.purchases()
	if err != nil {
		return Merchant{}, err
	}
	return ps.MerchantByKeyHash(ctx, HashAPIKey(key))
}

// Catalog is the active СЗПТ list.
func (s *Service) Catalog(ctx context.Context) ([]Product, error) { return s.Store.Products(ctx) }

// CheckToken tells the cashier whose token it is and what the family may
// spend now; it consumes nothing.
func (s *Service) CheckToken(ctx context.Context, m Merchant, signed string) (TokenCheck, error) {
	ps, err := s.purchases()
	if err != nil {
		return TokenCheck{}, err
	}
	now := s.Clock.Now()
	tok, err := ParseQRToken(s.Secret, signed, now)
	if err != nil {
		return TokenCheck{}, err
	}
	st, err := ps.TokenStatus(ctx, tok.ID, now)
	if IsCode(err, CodeNotFound) {
		return TokenCheck{}, Errorf(CodeTokenInvalid, "QR token %s is not on record", tok.IDHex())
	}
	if err != nil {
		return TokenCheck{}, err
	}
	if err := st.Row.Check(tok, now); err != nil {
		return TokenCheck{}, err
	}
	if st.Frozen {
		return TokenCheck{}, Errorf(CodeFrozen, "family %s is frozen", st.FamilyID)
	}
	return TokenCheck{
		Member:     ShortName(st.FullName),
		Available:  st.Available,
		Mode:       s.Program.Mode,
		DiscountBP: s.Program.EffectiveDiscountBP(m),
		ExpiresAt:  st.Row.ExpiresAt,
	}, nil
}

// ValidReceiptNo checks the till's own receipt number: 1–64 printable characters.
func ValidReceiptNo(s string) bool {
	if s == "" || len(s) > 64 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ValidIdempotencyKey checks an Idempotency-Key: 1–255 visible ASCII characters.
func ValidIdempotencyKey(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Redeem carries out a purchase: the token is consumed, the discount applied,
// the family's vouchers debited earliest-expiring first, and the receipt
// queued, all at once or not at all. A retry with the same idempotency key and
// the same request gets the first answer (replayed = true) and is not charged
// again; the same key with another request is idempotency_conflict.
func (s *Service) Redeem(ctx context.Context, req RedeemRequest) (r Redemption, replayed bool, err error) {
	ps, err := s.purchases()
	if err != nil {
		return Redemption{}, false, err
	}
	if !ValidIdempotencyKey(req.IdempotencyKey) {
		return Redemption{}, false, Errorf(CodeInvalid, "Idempotency-Key: 1–255 visible ASCII characters are needed")
	}
	if !ValidReceiptNo(req.ReceiptNo) {
		return Redemption{}, false, Errorf(CodeInvalid, "receipt_no: 1–64 printable characters are needed")
	}
	if bad := ValidateLines(req.Lines); len(bad) > 0 {
		return Redemption{}, false, Errorf(CodeInvalid, "%s", bad[0].Error())
	}
	now := s.Clock.Now()
	tok, err := ParseQRToken(s.Secret, req.Token, now)
	if err != nil {
		// A retry may come after the token expired: the first answer still stands.
		return s.replayOr(ctx, req.Merchant.ID, req.IdempotencyKey, req.RequestHash, err)
	}
	bp := s.Program.EffectiveDiscountBP(req.Merchant)
	mode := s.Program.Mode
	spec := RedeemSpec{
		MerchantID:     req.Merchant.ID,
		TokenID:        tok.ID,
		IdempotencyKey: req.IdempotencyKey,
		RequestHash:    req.RequestHash,
		ReceiptNo:      req.ReceiptNo,
		Lines:          req.Lines,
		Now:            now,
		CheckToken:     func(row TokenRow) error { return row.Check(tok, now) },
		Price: func(vs []Voucher) (Quote, []Debit, error) {
			q, err := Price(req.Lines, bp, mode, Available(vs, now))
			if err != nil {
				return Quote{}, nil, err
			}
			debits, err := Allocate(vs, q.Covered, now)
			return q, debits, err
		},
	}
	r, err = ps.Redeem(ctx, spec)
	if errors.Is(err, ErrIdempotencyKeyTaken) {
		return s.replayOr(ctx, req.Merchant.ID, req.IdempotencyKey, req.RequestHash,
			fmt.Errorf("wallet: idempotency key vanished while redeeming: %w", err))
	}
	if err != nil {
		return Redemption{}, false, err
	}
	return r, false, nil
}

// Replay finds the first answer to a merchant's idempotency key: found is
// false when there is none; a stored request other than hash is
// idempotency_conflict.
func (s *Service) Replay(ctx context.Context, merchantID int64, key string, hash []byte) (r Redemption, found bool, err error) {
	ps, err := s.purchases()
	if err != nil {
		return Redemption{}, false, err
	}
	if !ValidIdempotencyKey(key) {
		return Redemption{}, false, nil
	}
	r, stored, err := ps.RedemptionByKey(ctx, merchantID, key)
	if IsCode(err, CodeNotFound) {
		return Redemption{}, false, nil
	}
	if err != nil {
		return Redemption{}, false, err
	}
	if !bytes.Equal(stored, hash) {
		return Redemption{}, false, Errorf(CodeIdempotencyConflict, "Idempotency-Key was used for purchase %d with another request", r.ID)
	}
	return r, true, nil
}

func (s *Service) replayOr(ctx context.Context, merchantID int64, key string, hash []byte, fallback error) (Redemption, bool, error) {
	r, found, err := s.Replay(ctx, merchantID, key, hash)
	if err != nil {
		return Redemption{}, false, err
	}
	if found {
		return r, true, nil
	}
	return Redemption{}, false, fallback
}

// Redemption is one of the merchant's purchases, with its void if any.
func (s *Service) Redemption(ctx context.Context, merchantID, id int64) (Redemption, error) {
	ps, err := s.purchases()
	if err != nil {
		return Redemption{}, err
	}
	return ps.RedemptionForMerchant(ctx, merchantID, id)
}

// VoidRedemption undoes a purchase for the merchant that made it, within
// VoidWindow: value returns to the vouchers it came from unless they have
// expired since, and the recipient is told. Voiding again returns the voided
// purchase and changes nothing.
func (s *Service) VoidRedemption(ctx context.Context, merchantID, id int64) (Redemption, error) {
	ps, err := s.purchases()
	if err != nil {
		return Redemption{}, err
	}
	now := s.Clock.Now()
	return ps.VoidRedemption(ctx, VoidSpec{
		MerchantID:   merchantID,
		RedemptionID: id,
		Now:          now,
		Allowed: func(created time.Time) error {
			if until := created.Add(VoidWindow); !now.Before(until) {
				return Errorf(CodeVoidWindowPassed, "purchase %d could be voided until %s", id, until.UTC().Format(time.RFC3339))
			}
			return nil
		},
	})
}

// ReportNotMe is the receipt's "Not me" button: the member says they did not
// make purchase redemptionID. The family's wallet is frozen (no codes, no
// purchases) until an operator lifts it, a row is left for the operator, and
// every linked member of the family is told. Pressing it again changes nothing.
func (s *Service) ReportNotMe(ctx context.Context, memberID, redemptionID int64) error {
	ps, err := s.purchases()
	if err != nil {
		return err
	}
	return ps.FreezeFamily(ctx, FreezeSpec{MemberID: memberID, RedemptionID: redemptionID, Reason: "not_me", Now: s.Clock.Now()})
}

// UnfreezeFamily lifts a family's freeze (the operator's decision after a
// "Not me"); a family that is not frozen is a conflict.
func (s *Service) UnfreezeFamily(ctx context.Context, familyID string) error {
	ps, err := s.purchases()
	if err != nil {
		return err
	}
	return ps.UnfreezeFamily(ctx, familyID, s.Clock.Now())
}

// Receipt is the recipient's view of a purchase, times in the programme's zone.
func (s *Service) Receipt(ctx context.Context, redemptionID int64) (Receipt, error) {
	ps, err := s.purchases()
	if err != nil {
		return Receipt{}, err
	}
	r, err := ps.Receipt(ctx, redemptionID)
	if err != nil {
		return Receipt{}, err
	}
	r.At = r.At.In(s.Program.Location)
	if r.Voided {
		r.VoidedAt = r.VoidedAt.In(s.Program.Location)
	}
	return r, nil
}
