package wallet

import (
	"testing"
	"time"
)

func TestVoucherTransitions(t *testing.T) {
	deadline := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	before := deadline.Add(-time.Second)
	after := deadline
	expires := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	const amount = Tiyn(432500)

	// An op names its transition so that the table can be shown to try every
	// operation from every state.
	type op struct {
		name string
		do   func(v *Voucher) error
	}
	activate := func(now time.Time) op {
		return op{"activate", func(v *Voucher) error { return v.Activate(9, now, deadline) }}
	}
	annul := func(now time.Time) op { return op{"annul", func(v *Voucher) error { return v.Annul(now, deadline) }} }
	debit := func(x Tiyn, now time.Time) op {
		return op{"debit", func(v *Voucher) error { _, err := v.Debit(x, now); return err }}
	}
	refund := func(x Tiyn, now time.Time) op {
		return op{"refund", func(v *Voucher) error { return v.Refund(x, now) }}
	}
	expire := func(now time.Time) op {
		return op{"expire", func(v *Voucher) error { _, err := v.Expire(now); return err }}
	}

	tests := []struct {
		name        string
		from        State
		balance     Tiyn
		do          op
		wantCode    Code
		wantState   State
		wantBalance Tiyn
	}{
		{"issued → activated before the deadline", StateIssued, 0, activate(before), "", StateActivated, amount},
		{"issued → activated at the deadline is refused", StateIssued, 0, activate(after), CodeDeadlinePassed, StateIssued, 0},
		{"issued → annulled at the deadline", StateIssued, 0, annul(after), "", StateAnnulled, 0},
		{"issued → annulled before the deadline is refused", StateIssued, 0, annul(before), CodeTooEarly, StateIssued, 0},
		{"annulled never activates", StateAnnulled, 0, activate(before), CodeDeadlinePassed, StateAnnulled, 0},
		{"activated never annuls", StateActivated, amount, annul(after), CodeConflict, StateActivated, amount},
		{"activated twice is a conflict", StateActivated, amount, activate(before), CodeConflict, StateActivated, amount},
		{"activated pays part", StateActivated, amount, debit(100000, before), "", StateActivated, amount - 100000},
		{"activated pays all → spent", StateActivated, amount, debit(amount+1, before), "", StateSpent, 0},
		{"issued cannot pay", StateIssued, 0, debit(100, before), CodeConflict, StateIssued, 0},
		{"annulled cannot pay", StateAnnulled, 0, debit(100, before), CodeConflict, StateAnnulled, 0},
		{"expired cannot pay", StateExpired, 0, debit(100, before), CodeConflict, StateExpired, 0},
		{"activated cannot pay after expiry", StateActivated, amount, debit(100, expires), CodeConflict, StateActivated, amount},
		{"spent takes a refund back to activated", StateSpent, 0, refund(5000, before), "", StateActivated, 5000},
		{"refund above the amount is refused", StateActivated, amount, refund(1, before), CodeInvalid, StateActivated, amount},
		{"refund after expiry is refused", StateActivated, 100, refund(100, expires), CodeConflict, StateActivated, 100},
		{"annulled takes no refund", StateAnnulled, 0, refund(100, before), CodeConflict, StateAnnulled, 0},
		{"activated expires at its expiry", StateActivated, 5000, expire(expires), "", StateExpired, 0},
		{"activated does not expire early", StateActivated, 5000, expire(before), CodeTooEarly, StateActivated, 5000},
		{"issued does not expire", StateIssued, 0, expire(expires), CodeConflict, StateIssued, 0},
		{"annulled does not expire", StateAnnulled, 0, expire(expires), CodeConflict, StateAnnulled, 0},
		{"expired never activates", StateExpired, 0, activate(before), CodeConflict, StateExpired, 0},
		{"expired never annuls", StateExpired, 0, annul(after), CodeConflict, StateExpired, 0},
		{"expired does not expire twice", StateExpired, 0, expire(expires), CodeConflict, StateExpired, 0},
		{"expired takes no refund", StateExpired, 0, refund(100, before), CodeConflict, StateExpired, 0},
		{"spent never activates again", StateSpent, 0, activate(before), CodeConflict, StateSpent, 0},
		{"spent never annuls", StateSpent, 0, annul(after), CodeConflict, StateSpent, 0},
		{"spent cannot pay", StateSpent, 0, debit(100, before), CodeConflict, StateSpent, 0},
		{"spent expires with nothing to lapse", StateSpent, 0, expire(expires), "", StateExpired, 0},
		{"issued takes no refund", StateIssued, 0, refund(100, before), CodeConflict, StateIssued, 0},
		{"annulled never annuls twice", StateAnnulled, 0, annul(after), CodeConflict, StateAnnulled, 0},
	}
	// Every operation is tried from every state.
	tried := map[[2]string]bool{}
	for _, tt := range tests {
		tried[[2]string{string(tt.from), tt.do.name}] = true
	}
	for _, st := range []State{StateIssued, StateActivated, StateSpent, StateAnnulled, StateExpired} {
		for _, o := range []string{"activate", "annul", "debit", "refund", "expire"} {
			if !tried[[2]string{string(st), o}] {
				t.Errorf("no case tries %s from %s", o, st)
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Voucher{ID: 1, Amount: amount, Balance: tt.balance, State: tt.from, ExpiresAt: expires}
			err := tt.do.do(v)
			if ErrorCode(err) != tt.wantCode || (tt.wantCode == "" && err != nil) {
				t.Fatalf("%s: error %v; want code %q", tt.from, err, tt.wantCode)
			}
			if v.State != tt.wantState || v.Balance != tt.wantBalance {
				t.Errorf("%s: now %s with %d; want %s with %d", tt.from, v.State, v.Balance, tt.wantState, tt.wantBalance)
			}
		})
	}
}

func TestCanActivate(t *testing.T) {
	p := testProgram(t)
	jan := Period{2026, time.January}
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	mother := Member{ID: 1, FamilyID: "F1", Role: RoleApplicant, BirthDate: day("1985-04-15")}
	father := Member{ID: 2, FamilyID: "F1", Role: RoleMember, BirthDate: day("1983-01-01")}
	child := Member{ID: 3, FamilyID: "F1", Role: RoleMember, BirthDate: day("2014-06-01")}
	// 18 on 2026-01-10: a minor on the programme's first day (5 January).
	turning := Member{ID: 4, FamilyID: "F1", Role: RoleMember, BirthDate: day("2008-01-10")}
	stranger := Member{ID: 5, FamilyID: "F2", Role: RoleApplicant, BirthDate: day("1980-01-01")}
	minorApplicant := Member{ID: 6, FamilyID: "F3", Role: RoleApplicant, BirthDate: day("2010-01-01")}
	consent := Consent{Version: "2026-01", GivenAt: day("2026-01-06")}
	revoked := Consent{Version: "2026-01", GivenAt: day("2026-01-06"), RevokedAt: day("2026-01-07")}

	tests := []struct {
		name          string
		actor, target Member
		consent       Consent
		want          Code
	}{
		{"adult activates own", father, father, consent, ""},
		{"applicant activates own", mother, mother, consent, ""},
		{"applicant activates a child", mother, child, consent, ""},
		{"applicant activates one under 18 on the first day", mother, turning, consent, ""},
		{"applicant may not activate another adult", mother, father, consent, CodeForbidden},
		{"member may not activate a child", father, child, consent, CodeForbidden},
		{"child may not activate own", child, child, consent, CodeForbidden},
		{"no consent", father, father, Consent{}, CodeConsentRequired},
		{"revoked consent", mother, child, revoked, CodeConsentRequired},
		{"other family", stranger, child, consent, CodeForbidden},
		{"minor applicant may not activate own", minorApplicant, minorApplicant, consent, CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CanActivate(tt.actor, tt.target, tt.consent, jan)
			if ErrorCode(err) != tt.want || (tt.want == "" && err != nil) {
				t.Errorf("CanActivate(%d → %d) = %v; want %q", tt.actor.ID, tt.target.ID, err, tt.want)
			}
		})
	}
	p.ApplicantMinors = false
	if err := p.CanActivate(mother, child, consent, jan); ErrorCode(err) != CodeForbidden {
		t.Errorf("CanActivate(applicant → child, setting off) = %v; want forbidden", err)
	}
}

func TestFormatTenge(t *testing.T) {
	tests := []struct {
		in   Tiyn
		want string
	}{
		{0, "0 ₸"}, {100, "1 ₸"}, {432500, "4 325 ₸"}, {1730000, "17 300 ₸"}, {123456789, "1 234 567,89 ₸"},
		{5, "0,05 ₸"}, {-150, "−1,50 ₸"}, {100000000, "1 000 000 ₸"},
	}
	for _, tt := range tests {
		want := ""
		for _, r := range tt.want {
			if r == ' ' {
				r = '\u00a0'
			}
			want += string(r)
		}
		if got := FormatTenge(tt.in); got != want {
			t.Errorf("FormatTenge(%d) = %q; want %q", tt.in, got, want)
		}
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{{"15", 1500, true}, {"12.5", 1250, true}, {"7,25", 725, true}, {"0", 0, true}, {"15%", 1500, true},
		{"", 0, false}, {"abc", 0, false}, {"1.234", 0, false}, {"101", 0, false}, {"-5", 0, false}}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestQRToken(t *testing.T) {
	secret := []byte("0123456789abcdef")
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	tok := NewQRToken(42, now, 5*time.Minute)
	s := tok.Sign(secret)
	got, err := ParseQRToken(secret, s, now.Add(4*time.Minute))
	if err != nil || got.MemberID != 42 || got.ID != tok.ID {
		t.Fatalf("ParseQRToken(fresh) = %+v, %v; want member 42", got, err)
	}
	flipped := []byte(s)
	flipped[len(flipped)/2] ^= 1
	tests := []struct {
		name string
		in   string
		key  []byte
		now  time.Time
		want Code
	}{
		{"changed byte", string(flipped), secret, now, CodeTokenInvalid},
		{"other key", s, []byte("another-secret-xx"), now, CodeTokenInvalid},
		{"expired", s, secret, now.Add(5 * time.Minute), CodeTokenExpired},
		{"not a token", "hello", secret, now, CodeTokenInvalid},
		{"truncated", s[:len(s)-4], secret, now, CodeTokenInvalid},
		{"empty", "", secret, now, CodeTokenInvalid},
		{"line break inside", s[:10] + "\n" + s[10:], secret, now, CodeTokenInvalid},
		{"padding added", s + "==", secret, now, CodeTokenInvalid},
	}
	for _, tt := range tests {
		if _, err := ParseQRToken(tt.key, tt.in, tt.now); ErrorCode(err) != tt.want {
			t.Errorf("ParseQRToken(%s) = %v; want %s", tt.name, err, tt.want)
		}
	}
	for i := 0; i < 100; i++ {
		c := NewFallbackCode()
		if n, ok := ValidFallbackCode(c); !ok || n != c {
			t.Fatalf("NewFallbackCode() = %q; want 8 digits", c)
		}
	}
}
