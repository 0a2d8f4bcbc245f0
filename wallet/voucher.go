package wallet

import "time"

// State is where a voucher stands in its life.
type State string

const (
	StateIssued    State = "issued"    // offered; the recipient must activate it
	StateActivated State = "activated" // its value may be spent
	StateSpent     State = "spent"     // activated and spent down to zero
	StateAnnulled  State = "annulled"  // not activated by the deadline; never usable
	StateExpired   State = "expired"   // activated value lapsed by the expiry rule
)

// Voucher is one member's entitlement for one period. Balance is the spendable
// value; it equals the sum of the voucher's ledger rows.
type Voucher struct {
	ID          int64
	MemberID    int64
	FamilyID    string
	Period      Period
	Amount      Tiyn
	Balance     Tiyn
	State       State
	IssuedAt    time.Time
	ActivatedAt time.Time
	ActivatedBy int64
	ClosedAt    time.Time // annulled, expired or spent
	ExpiresAt   time.Time // when activated value lapses
}

// Activate moves an issued voucher to activated and credits its value. now must
// be before deadline, the first instant of the next month.
func (v *Voucher) Activate(by int64, now, deadline time.Time) error {
	switch v.State {
	case StateIssued:
	case StateAnnulled:
		return Errorf(CodeDeadlinePassed, "voucher %d was annulled", v.ID)
	case StateActivated, StateSpent, StateExpired:
		return Errorf(CodeConflict, "voucher %d is already %s", v.ID, v.State)
	default:
		return Errorf(CodeInvalid, "voucher %d has unknown state %q", v.ID, v.State)
	}
	if !now.Before(deadline) {
		return Errorf(CodeDeadlinePassed, "voucher %d: activation deadline %s passed", v.ID, deadline.Format(time.RFC3339))
	}
	v.State = StateActivated
	v.Balance = v.Amount
	v.ActivatedAt = now
	v.ActivatedBy = by
	return nil
}

// Annul closes an unactivated voucher at or after its deadline.
func (v *Voucher) Annul(now, deadline time.Time) error {
	if v.State != StateIssued {
		return Errorf(CodeConflict, "voucher %d is %s and cannot be annulled", v.ID, v.State)
	}
	if now.Before(deadline) {
		return Errorf(CodeTooEarly, "voucher %d: deadline %s not reached", v.ID, deadline.Format(time.RFC3339))
	}
	v.State = StateAnnulled
	v.ClosedAt = now
	return nil
}

// Debit spends up to want from an activated voucher and returns what it took.
func (v *Voucher) Debit(want Tiyn, now time.Time) (Tiyn, error) {
	if v.State != StateActivated {
		return 0, Errorf(CodeConflict, "voucher %d is %s and cannot pay", v.ID, v.State)
	}
	if !now.Before(v.ExpiresAt) {
		return 0, Errorf(CodeConflict, "voucher %d expired", v.ID)
	}
	if want < 0 {
		return 0, Errorf(CodeInvalid, "negative debit")
	}
	take := min(want, v.Balance)
	v.Balance -= take
	if v.Balance == 0 {
		v.State = StateSpent
		v.ClosedAt = now
	}
	return take, nil
}

// Refund returns value from a voided purchase, unless the voucher has since expired.
func (v *Voucher) Refund(amount Tiyn, now time.Time) error {
	if v.State != StateActivated && v.State != StateSpent {
		return Errorf(CodeConflict, "voucher %d is %s; value cannot return", v.ID, v.State)
	}
	if !now.Before(v.ExpiresAt) {
		return Errorf(CodeConflict, "voucher %d expired", v.ID)
	}
	if amount <= 0 || v.Balance+amount > v.Amount {
		return Errorf(CodeInvalid, "refund of %d to voucher %d out of range", amount, v.ID)
	}
	v.Balance += amount
	v.State = StateActivated
	v.ClosedAt = time.Time{}
	return nil
}

// Expire lapses activated value at or after ExpiresAt; it returns what lapsed.
func (v *Voucher) Expire(now time.Time) (Tiyn, error) {
	if v.State != StateActivated && v.State != StateSpent {
		return 0, Errorf(CodeConflict, "voucher %d is %s and cannot expire", v.ID, v.State)
	}
	if now.Before(v.ExpiresAt) {
		return 0, Errorf(CodeTooEarly, "voucher %d expires at %s", v.ID, v.ExpiresAt.Format(time.RFC3339))
	}
	lapsed := v.Balance
	v.Balance = 0
	v.State = StateExpired
	v.ClosedAt = now
	return lapsed, nil
}
