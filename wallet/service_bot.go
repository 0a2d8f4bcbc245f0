package wallet

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"
)

// ConsentState is a member's standing with the consent text.
type ConsentState struct {
	Consent    Consent   // the latest consent given (maybe revoked); zero when never
	DeclinedAt time.Time // the latest decline, if after the latest consent
	Version    string    // the version declined, with DeclinedAt
}

// Declined reports whether the member's last answer was a decline.
func (c ConsentState) Declined() bool {
	return !c.DeclinedAt.IsZero() && !c.Consent.Active() && c.DeclinedAt.After(c.Consent.GivenAt)
}

// QRSpec asks the store to record a new QR token for its member, replacing
// their earlier live one, in one transaction.
type QRSpec struct {
	Token QRToken
	Now   time.Time
	// Allowed is the programme rule, applied to the family, the member's
	// standing consent and the family's spendable value as read under lock.
	Allowed func(f Family, c Consent, spendable Tiyn) error
}

// Purchase is one purchase as the family's history shows it.
type Purchase struct {
	ID       int64
	MemberID int64
	Store    string
	At       time.Time // in the programme's zone once the service returns it
	Gross    Tiyn
	Discount Tiyn // saved
	Covered  Tiyn // paid from the vouchers
	ToPay    Tiyn // paid by other means
	Voided   bool
}

// BotStore is what the recipient's conversation needs of storage beyond
// Store and Links.
type BotStore interface {
	ConsentState(ctx context.Context, memberID int64) (ConsentState, error)
	DeclineConsent(ctx context.Context, memberID int64, version string, now time.Time) error
	IssueQRToken(ctx context.Context, spec QRSpec) error
	RecentPurchases(ctx context.Context, familyID string, limit int) ([]Purchase, error)
	// ActiveMerchants lists merchants taking vouchers, of city or of every
	// city when city is empty.
	ActiveMerchants(ctx context.Context, city string) ([]Merchant, error)
	// OverviewFamily is the part of FamilyView the screens need, read in
	// one round trip (the bot's most frequent read): the members with
	// what the screens and the activation rule use (no IIN hash, phone or
	// eligibility), whether each is linked, the date of a standing consent
	// only; the vouchers; not the ledger, the city or the freeze.
	OverviewFamily(ctx context.Context, familyID string) (FamilyView, error)
}

func (s *Service) botStore() (BotStore, error) {
	b, ok := s.Store.(BotStore)
	if !ok {
		return nil, fmt.Errorf("wallet: store %T does not serve the bot", s.Store)
	}
	return b, nil
}

// QRAllowed is the rule for handing out a code: not while the family is
// frozen, not without consent, not when there is nothing to spend.
func (pr *Program) QRAllowed(f Family, c Consent, spendable Tiyn) error {
	switch {
	case f.Frozen():
		return Errorf(CodeFrozen, "family %s is frozen", f.ID)
	case !c.Active():
		return Errorf(CodeConsentRequired, "member %d has no active consent", c.MemberID)
	case spendable <= 0:
		return Errorf(CodeInsufficientFunds, "family %s has no spendable value", f.ID)
	}
	return nil
}

// IssueQR makes a one-time code for the member to show at the till, valid for
// the programme's QR lifetime; it replaces the member's earlier code. It
// returns the token and its signed text (what the QR code holds).
func (s *Service) IssueQR(ctx context.Context, memberID int64) (QRToken, string, error) {
	st, err := s.botStore()
	if err != nil {
		return QRToken{}, "", err
	}
	now := s.Clock.Now()
	tok := NewQRToken(memberID, now, s.Program.QRLifetime)
	err = st.IssueQRToken(ctx, QRSpec{Token: tok, Now: now, Allowed: s.Program.QRAllowed})
	if err != nil {
		return QRToken{}, "", err
	}
	return tok, tok.Sign(s.Secret), nil
}

// ConsentState reads the member's standing with the consent text.
func (s *Service) ConsentState(ctx context.Context, memberID int64) (ConsentState, error) {
	st, err := s.botStore()
	if err != nil {
		return ConsentState{}, err
	}
	return st.ConsentState(ctx, memberID)
}

// DeclineConsent records that the member declined the current consent text;
// a standing consent is revoked with it.
func (s *Service) DeclineConsent(ctx context.Context, memberID int64) error {
	st, err := s.botStore()
	if err != nil {
		return err
	}
	return st.DeclineConsent(ctx, memberID, s.Program.ConsentVersion, s.Clock.Now())
}

// History lists the family's latest purchases, newest first.
func (s *Service) History(ctx context.Context, familyID string, limit int) ([]Purchase, error) {
	st, err := s.botStore()
	if err != nil {
		return nil, err
	}
	ps, err := st.RecentPurchases(ctx, familyID, limit)
	for i := range ps {
		ps[i].At = ps[i].At.In(s.Program.Location)
	}
	return ps, err
}

// Stores lists the merchants of city that take vouchers, by name.
func (s *Service) Stores(ctx context.Context, city string) ([]Merchant, error) {
	st, err := s.botStore()
	if err != nil {
		return nil, err
	}
	ms, err := st.ActiveMerchants(ctx, city)
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms, err
}

// Nearby is a merchant with its distance from a person.
type Nearby struct {
	Merchant
	Metres float64
}

// NearestStores lists the n merchants nearest to lat, lon of every city.
func (s *Service) NearestStores(ctx context.Context, lat, lon float64, n int) ([]Nearby, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil, Errorf(CodeInvalid, "location out of range")
	}
	st, err := s.botStore()
	if err != nil {
		return nil, err
	}
	ms, err := st.ActiveMerchants(ctx, "")
	if err != nil {
		return nil, err
	}
	return Nearest(ms, lat, lon, n), nil
}

// Nearest orders merchants by great-circle distance from lat, lon and keeps n.
func Nearest(ms []Merchant, lat, lon float64, n int) []Nearby {
	out := make([]Nearby, len(ms))
	for i, m := range ms {
		out[i] = Nearby{Merchant: m, Metres: Distance(lat, lon, m.Lat, m.Lon)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Metres < out[j].Metres })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Distance is the haversine distance in metres between two points.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371000.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

// Overview is what a member sees of their family now: the screens Balance,
// Activate and Family are drawn from it.
type Overview struct {
	Now      time.Time
	Member   MemberView // who asks
	Family   FamilyView
	Period   Period // the month now falls in
	Running  bool   // Period is a month of the programme
	Deadline time.Time
	DaysLeft int
	// Vouchers of Period, in the family's member order.
	Vouchers []Voucher
	// Activatable are the vouchers of Period the member may activate now.
	Activatable []Voucher
	// Remaining is the family's spendable value now.
	Remaining Tiyn
	// Next is when the next month's vouchers become available; zero when the
	// programme has no next month.
	Next       time.Time
	NextPeriod Period
}

// ActivatableAmount is the value one tap on Activate would credit.
func (o Overview) ActivatableAmount() Tiyn {
	var t Tiyn
	for _, v := range o.Activatable {
		t += v.Amount
	}
	return t
}

// MemberByID finds a member of the family.
func (o Overview) MemberByID(id int64) (MemberView, bool) {
	for _, m := range o.Family.Members {
		if m.ID == id {
			return m, true
		}
	}
	return MemberView{}, false
}

// VoucherOf is the member's voucher of Period.
func (o Overview) VoucherOf(memberID int64) (Voucher, bool) {
	for _, v := range o.Vouchers {
		if v.MemberID == memberID {
			return v, true
		}
	}
	return Voucher{}, false
}

// Overview gathers what member (of family) sees now. A member who is not in
// the family is not_found.
func (s *Service) Overview(ctx context.Context, familyID string, memberID int64) (Overview, error) {
	st, err := s.botStore()
	if err != nil {
		return Overview{}, err
	}
	fv, err := st.OverviewFamily(ctx, familyID)
	if err != nil {
		return Overview{}, err
	}
	return s.Program.Overview(fv, memberID, s.Clock.Now())
}

// Overview draws a member's view of their family at now.
func (pr *Program) Overview(fv FamilyView, memberID int64, now time.Time) (Overview, error) {
	o := Overview{Now: now, Family: fv, Period: pr.PeriodAt(now)}
	me, ok := o.MemberByID(memberID)
	if !ok {
		return o, Errorf(CodeNotFound, "member %d is not in family %s", memberID, fv.ID)
	}
	o.Member = me
	o.Running = pr.CheckPeriod(o.Period) == nil && !now.Before(pr.Start)
	o.Deadline = pr.Deadline(o.Period)
	o.DaysLeft = pr.DaysLeft(o.Period, now)
	next := o.Period.Next()
	if now.Before(pr.Start) {
		next = pr.PeriodAt(pr.Start) // before the programme, its first month comes next
	}
	if pr.CheckPeriod(next) == nil {
		o.NextPeriod = next
		o.Next = pr.PeriodStart(next)
	}
	order := map[int64]int{}
	for i, m := range fv.Members {
		order[m.ID] = i
	}
	for _, v := range fv.Vouchers {
		if v.State == StateActivated && now.Before(v.ExpiresAt) {
			o.Remaining += v.Balance
		}
		if v.Period != o.Period {
			continue
		}
		o.Vouchers = append(o.Vouchers, v)
		if v.State != StateIssued || !now.Before(o.Deadline) {
			continue
		}
		target, ok := o.MemberByID(v.MemberID)
		if ok && pr.CanActivate(me.Member, target.Member, me.Consent, o.Period) == nil {
			o.Activatable = append(o.Activatable, v)
		}
	}
	sort.SliceStable(o.Vouchers, func(i, j int) bool { return order[o.Vouchers[i].MemberID] < order[o.Vouchers[j].MemberID] })
	sort.SliceStable(o.Activatable, func(i, j int) bool {
		return order[o.Activatable[i].MemberID] < order[o.Activatable[j].MemberID]
	})
	return o, nil
}

// MayActivateWithConsent lists the vouchers of Period the member could
// activate once they give consent (to tell them what waits for them).
func (pr *Program) MayActivateWithConsent(o Overview) []Voucher {
	c := Consent{MemberID: o.Member.ID, Version: pr.ConsentVersion, GivenAt: o.Now}
	var out []Voucher
	for _, v := range o.Vouchers {
		target, ok := o.MemberByID(v.MemberID)
		if v.State == StateIssued && ok && pr.CanActivate(o.Member.Member, target.Member, c, o.Period) == nil {
			out = append(out, v)
		}
	}
	return out
}
