package wallet

import (
	"context"
	"io"
	"strings"
	"time"
)

// Clock is the one source of "now" for every rule about deadlines, expiry and
// reminders; tests and the sandbox pass a fake one.
type Clock interface{ Now() time.Time }

// LedgerKind names why a voucher's value changed.
type LedgerKind string

const (
	LedgerActivation LedgerKind = "activation" // + the voucher's amount
	LedgerRedemption LedgerKind = "redemption" // − what a purchase took
	LedgerVoid       LedgerKind = "void"       // + what a voided purchase returned
	LedgerExpiry     LedgerKind = "expiry"     // − activated value that lapsed
)

// LedgerEntry is one append-only row of the ledger.
type LedgerEntry struct {
	ID           int64
	VoucherID    int64
	Kind         LedgerKind
	Amount       Tiyn
	RedemptionID int64
	At           time.Time
}

// IssueSpec is what the store needs to issue a period set-based.
type IssueSpec struct {
	Period         Period
	Amount         Tiyn
	EligibilityDay time.Time // members eligible on this date get a voucher
	ExpiresAt      time.Time // when value lapses once activated
	Now            time.Time
}

// ActivateSpec asks the store to activate vouchers inside one transaction,
// with the rows locked and the programme's rule applied to each.
type ActivateSpec struct {
	ActorID    int64
	Period     Period
	VoucherIDs []int64 // empty: every voucher of Period the actor may activate
	Now        time.Time
	Deadline   time.Time
	// Allowed is the programme rule; the store calls it with locked rows.
	Allowed func(actor, target Member, consent Consent) error
}

// MemberView is a member as the family view shows it.
type MemberView struct {
	Member
	Linked  bool
	Blocked bool
	Consent Consent
}

// FamilyView is everything a family holds.
type FamilyView struct {
	Family
	Members  []MemberView
	Vouchers []Voucher
	Ledger   []LedgerEntry
}

// Remaining is the family's spendable value.
func (f FamilyView) Remaining() Tiyn {
	var t Tiyn
	for _, v := range f.Vouchers {
		t += v.Balance
	}
	return t
}

// Registry stores the АСП registry.
type Registry interface {
	ImportRegistry(ctx context.Context, rows []RegistryRow, dryRun bool) (ImportResult, error)
	FamilyView(ctx context.Context, familyID string) (FamilyView, error)
}

// Vouchers stores vouchers and their ledger.
type Vouchers interface {
	IssueVouchers(ctx context.Context, spec IssueSpec) (int64, error)
	ActivateVouchers(ctx context.Context, spec ActivateSpec) ([]Voucher, error)
	AnnulVouchers(ctx context.Context, p Period, now time.Time) (int64, error)
	ExpireVouchers(ctx context.Context, now time.Time) (int64, Tiyn, error)
}

// Consents stores consent answers.
type Consents interface {
	GiveConsent(ctx context.Context, memberID int64, version string, now time.Time) error
	RevokeConsent(ctx context.Context, memberID int64, now time.Time) error
}

// Merchants stores participating stores.
type Merchants interface {
	AddMerchant(ctx context.Context, m Merchant, keyHash []byte) (int64, error)
	ListMerchants(ctx context.Context) ([]Merchant, error)
	RotateMerchantKey(ctx context.Context, id int64, keyHash []byte) error
	DisableMerchant(ctx context.Context, id int64, now time.Time) error
}

// Catalog stores the СЗПТ list.
type Catalog interface {
	ImportCatalog(ctx context.Context, products []Product) (int, error)
	Products(ctx context.Context) ([]Product, error)
}

// Store is all the repositories the core use cases need.
type Store interface {
	Registry
	Vouchers
	Consents
	Merchants
	Catalog
}

// Service holds the core use cases.
type Service struct {
	Program *Program
	Clock   Clock
	Secret  []byte
	Store   Store
}

// NewService wires the core use cases.
func NewService(p *Program, c Clock, secret []byte, s Store) *Service {
	return &Service{Program: p, Clock: c, Secret: secret, Store: s}
}

// Now is the service's clock reading.
func (s *Service) Now() time.Time { return s.Clock.Now() }

// CurrentPeriod is the period now falls in.
func (s *Service) CurrentPeriod() Period { return s.Program.PeriodAt(s.Clock.Now()) }

// ImportRegistry validates a registry file and writes its good families.
func (s *Service) ImportRegistry(ctx context.Context, in io.Reader, dryRun bool) (ImportResult, error) {
	rows, rejects, err := ParseRegistryCSV(in, s.Program, s.Secret)
	if err != nil {
		return ImportResult{}, err
	}
	res, err := s.Store.ImportRegistry(ctx, rows, dryRun)
	if err != nil {
		return res, err
	}
	res.Rejected = append(rejects, res.Rejected...)
	sortRowErrors(res.Rejected)
	return res, nil
}

// Issue creates the period's vouchers for every eligible member; idempotent.
func (s *Service) Issue(ctx context.Context, p Period) (int64, error) {
	if err := s.Program.CheckPeriod(p); err != nil {
		return 0, err
	}
	amount, err := s.Program.VoucherAmount(p)
	if err != nil {
		return 0, err
	}
	return s.Store.IssueVouchers(ctx, IssueSpec{
		Period:         p,
		Amount:         amount,
		EligibilityDay: s.Program.EligibilityDay(p),
		ExpiresAt:      s.Program.ActivatedFundsExpiry(p),
		Now:            s.Clock.Now(),
	})
}

// Annul closes the period's unactivated vouchers; it refuses before the deadline.
func (s *Service) Annul(ctx context.Context, p Period) (int64, error) {
	if err := s.Program.CheckPeriod(p); err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	if dl := s.Program.Deadline(p); now.Before(dl) {
		return 0, Errorf(CodeTooEarly, "period %s may be annulled from %s", p, dl.Format(time.RFC3339))
	}
	return s.Store.AnnulVouchers(ctx, p, now)
}

// Activate activates, for actor, the given vouchers of period p, or all they may.
func (s *Service) Activate(ctx context.Context, actorID int64, p Period, voucherIDs ...int64) ([]Voucher, error) {
	now := s.Clock.Now()
	dl := s.Program.Deadline(p)
	if !now.Before(dl) {
		return nil, Errorf(CodeDeadlinePassed, "period %s closed at %s", p, dl.Format(time.RFC3339))
	}
	return s.Store.ActivateVouchers(ctx, ActivateSpec{
		ActorID:    actorID,
		Period:     p,
		VoucherIDs: voucherIDs,
		Now:        now,
		Deadline:   dl,
		Allowed: func(actor, target Member, c Consent) error {
			return s.Program.CanActivate(actor, target, c, p)
		},
	})
}

// ExpireFunds lapses activated value whose expiry has come.
func (s *Service) ExpireFunds(ctx context.Context) (int64, Tiyn, error) {
	return s.Store.ExpireVouchers(ctx, s.Clock.Now())
}

// GiveConsent records the member's agreement to the current consent text.
func (s *Service) GiveConsent(ctx context.Context, memberID int64) error {
	return s.Store.GiveConsent(ctx, memberID, s.Program.ConsentVersion, s.Clock.Now())
}

// RevokeConsent withdraws it.
func (s *Service) RevokeConsent(ctx context.Context, memberID int64) error {
	return s.Store.RevokeConsent(ctx, memberID, s.Clock.Now())
}

// AddMerchant registers a store and returns its id and its API key, shown once.
func (s *Service) AddMerchant(ctx context.Context, m Merchant) (int64, string, error) {
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" {
		return 0, "", Errorf(CodeInvalid, "name must not be empty")
	}
	if _, ok := s.Program.City(m.City); !ok {
		return 0, "", Errorf(CodeInvalid, "unknown city %q", m.City)
	}
	if m.DiscountBP < 0 || m.DiscountBP > s.Program.MaxDiscountBP {
		return 0, "", Errorf(CodeInvalid, "discount %d.%02d %% is above the programme's maximum %d.%02d %%",
			m.DiscountBP/100, m.DiscountBP%100, s.Program.MaxDiscountBP/100, s.Program.MaxDiscountBP%100)
	}
	if m.Lat < -90 || m.Lat > 90 || m.Lon < -180 || m.Lon > 180 {
		return 0, "", Errorf(CodeInvalid, "coordinates %f,%f out of range", m.Lat, m.Lon)
	}
	m.CreatedAt = s.Clock.Now()
	key, hash := NewAPIKey()
	id, err := s.Store.AddMerchant(ctx, m, hash)
	if err != nil {
		return 0, "", err
	}
	return id, key, nil
}

// RotateMerchantKey replaces a merchant's key; the old one stops working at once.
func (s *Service) RotateMerchantKey(ctx context.Context, id int64) (string, error) {
	key, hash := NewAPIKey()
	if err := s.Store.RotateMerchantKey(ctx, id, hash); err != nil {
		return "", err
	}
	return key, nil
}

// DisableMerchant stops a merchant taking vouchers.
func (s *Service) DisableMerchant(ctx context.Context, id int64) error {
	return s.Store.DisableMerchant(ctx, id, s.Clock.Now())
}

// ImportCatalog validates and writes the СЗПТ list.
func (s *Service) ImportCatalog(ctx context.Context, in io.Reader) (int, []RowError, error) {
	products, bad, err := ParseCatalogCSV(in)
	if err != nil {
		return 0, nil, err
	}
	if len(bad) > 0 {
		return 0, bad, nil // a catalogue is written whole or not at all
	}
	n, err := s.Store.ImportCatalog(ctx, products)
	return n, nil, err
}
