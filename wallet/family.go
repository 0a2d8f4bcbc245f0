package wallet

import "time"

// Role of a member in the family's АСП application.
type Role string

const (
	RoleApplicant Role = "applicant"
	RoleMember    Role = "member"
)

// AdultAge is the age from which a member activates their own voucher.
const AdultAge = 18

// Family is a household recognised as needing АСП.
type Family struct {
	ID       string
	City     string
	FrozenAt time.Time // set by "Not me": no codes, no redemptions
}

// Frozen reports whether the family's wallet is frozen.
func (f Family) Frozen() bool { return !f.FrozenAt.IsZero() }

// Member is a person of a family. The IIN is never held in clear: only its
// keyed hash, its last four digits and the birth date derived from it.
type Member struct {
	ID            int64
	FamilyID      string
	IINHash       []byte
	IINLast4      string
	BirthDate     time.Time
	Female        bool
	FullName      string
	Phone         string
	Role          Role
	EligibleFrom  time.Time
	EligibleUntil time.Time // zero: open-ended
}

// FirstNameInitial gives "Айгүл Н." from "Нұрланова Айгүл Серікқызы" style
// registry names (surname first), for the cashier.
func (m Member) FirstNameInitial() string { return ShortName(m.FullName) }

// EligibleOn reports whether the member is eligible on day (a date).
func (m Member) EligibleOn(day time.Time) bool {
	if day.Before(m.EligibleFrom) {
		return false
	}
	return m.EligibleUntil.IsZero() || !day.After(m.EligibleUntil)
}

// MinorOn reports whether the member is under 18 on day.
func (m Member) MinorOn(day time.Time) bool { return AgeOn(m.BirthDate, day) < AdultAge }

// Consent is a recorded answer to a versioned consent text.
type Consent struct {
	MemberID  int64
	Version   string
	GivenAt   time.Time
	RevokedAt time.Time
}

// Active reports whether the consent stands.
func (c Consent) Active() bool { return !c.GivenAt.IsZero() && c.RevokedAt.IsZero() }

// CanActivate says whether actor may activate target's voucher for period p.
// An adult activates their own; the applicant also activates the vouchers of
// members under 18 on the period's eligibility day. consent is the actor's.
func (pr *Program) CanActivate(actor, target Member, consent Consent, p Period) error {
	if !consent.Active() {
		return Errorf(CodeConsentRequired, "member %d has no active consent", actor.ID)
	}
	if actor.FamilyID != target.FamilyID {
		return Errorf(CodeForbidden, "member %d is not in family of member %d", actor.ID, target.ID)
	}
	day := pr.EligibilityDay(p)
	if actor.ID == target.ID {
		if actor.MinorOn(day) {
			return Errorf(CodeForbidden, "member %d is under %d; the applicant activates", actor.ID, AdultAge)
		}
		return nil
	}
	if actor.Role == RoleApplicant && pr.ApplicantMinors && target.MinorOn(day) {
		return nil
	}
	return Errorf(CodeForbidden, "member %d may not activate the voucher of member %d", actor.ID, target.ID)
}
