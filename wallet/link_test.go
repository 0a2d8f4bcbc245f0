package wallet

import (
	"strings"
	"testing"
)

// FuzzCheckIIN: whatever a person types, CheckIIN either refuses it with a
// coded invalid error or returns an IIN whose digits are the typed digits.
func FuzzCheckIIN(f *testing.F) {
	for _, s := range []string{"850301400123", "850301 400123", "8503-0140-0123", "", "１２３", "85030140012３", "\u00a0850301400123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iin, err := CheckIIN(s)
		if err != nil {
			if !IsCode(err, CodeInvalid) {
				t.Fatalf("CheckIIN(%q) = %v; want a coded invalid error", s, err)
			}
			return
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		if iin.String() != digits {
			t.Fatalf("CheckIIN(%q) = %s; want the typed digits %s", s, iin.Masked(), digits[len(digits)-4:])
		}
		if _, err := ParseIIN(iin.String()); err != nil {
			t.Fatalf("CheckIIN accepted %q that ParseIIN refuses: %v", s, err)
		}
	})
}
