package wallet

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"
)

// IIN is a validated individual identification number of Kazakhstan:
// YYMMDD G NNNN C, where G gives the century and sex and C is a check digit.
type IIN struct {
	digits    [12]byte
	BirthDate time.Time // midnight UTC of the birth day; only the date matters
	Female    bool
}

// ParseIIN validates s (exactly 12 ASCII digits, nothing else) and returns the IIN.
func ParseIIN(s string) (IIN, error) {
	var iin IIN
	if len(s) != 12 {
		return iin, Errorf(CodeInvalid, "iin: must be 12 digits, got %d characters", len([]rune(s)))
	}
	for i := 0; i < 12; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return iin, Errorf(CodeInvalid, "iin: character %d is not a digit", i+1)
		}
		iin.digits[i] = c - '0'
	}
	d := iin.digits
	var century int
	switch d[6] {
	case 1, 2:
		century = 1800
	case 3, 4:
		century = 1900
	case 5, 6:
		century = 2000
	default:
		return iin, Errorf(CodeInvalid, "iin: century digit %d is not 1–6", d[6])
	}
	iin.Female = d[6]%2 == 0
	year := century + int(d[0])*10 + int(d[1])
	month := int(d[2])*10 + int(d[3])
	day := int(d[4])*10 + int(d[5])
	bd := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || bd.Day() != day || int(bd.Month()) != month {
		return iin, Errorf(CodeInvalid, "iin: %04d-%02d-%02d is not a real date", year, month, day)
	}
	iin.BirthDate = bd
	check, ok := iinCheckDigit(d)
	if !ok {
		return iin, Errorf(CodeInvalid, "iin: no valid check digit exists for these digits")
	}
	if check != d[11] {
		return iin, Errorf(CodeInvalid, "iin: check digit is %d, want %d", d[11], check)
	}
	return iin, nil
}

// iinCheckDigit computes the control digit of the first eleven digits; ok is false
// when both weight series give 10, which makes the number invalid.
func iinCheckDigit(d [12]byte) (byte, bool) {
	sum := 0
	for i := 0; i < 11; i++ {
		sum += int(d[i]) * (i + 1)
	}
	c := sum % 11
	if c == 10 {
		weights := [11]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}
		sum = 0
		for i := 0; i < 11; i++ {
			sum += int(d[i]) * weights[i]
		}
		c = sum % 11
		if c == 10 {
			return 0, false
		}
	}
	return byte(c), true
}

// String returns the twelve digits. Never log it.
func (i IIN) String() string {
	b := make([]byte, 12)
	for k, d := range i.digits {
		b[k] = '0' + d
	}
	return string(b)
}

// Last4 is what may be shown: the last four digits.
func (i IIN) Last4() string { return i.String()[8:] }

// Masked shows the IIN as ********1234.
func (i IIN) Masked() string { return MaskIIN(i.Last4()) }

// MaskIIN masks an IIN from its last four digits.
func MaskIIN(last4 string) string { return "••••••••" + last4 }

// Hash is the keyed HMAC-SHA256 by which an IIN is found without being stored.
func (i IIN) Hash(secret []byte) []byte { return HashIIN(secret, i.String()) }

// HashIIN keys the digits with the server secret.
func HashIIN(secret []byte, digits string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("iin:"))
	m.Write([]byte(digits))
	return m.Sum(nil)
}

// AgeOn gives the whole years of age on the date day (its calendar date).
func AgeOn(birth, day time.Time) int {
	by, bm, bd := birth.Date()
	y, m, d := day.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// MakeIIN builds a valid IIN from a birth date, sex and a serial (0–9999), choosing
// the check digit; for test data and the demo registry. It fails when no check
// digit exists for that serial.
func MakeIIN(birth time.Time, female bool, serial int) (IIN, error) {
	var d [12]byte
	y := birth.Year()
	g := 0
	switch {
	case y >= 1800 && y < 1900:
		g = 1
	case y >= 1900 && y < 2000:
		g = 3
	case y >= 2000 && y < 2100:
		g = 5
	default:
		return IIN{}, fmt.Errorf("iin: year %d out of range", y)
	}
	if female {
		g++
	}
	s := fmt.Sprintf("%02d%02d%02d%d%04d", y%100, int(birth.Month()), birth.Day(), g, serial%10000)
	for k := 0; k < 11; k++ {
		d[k] = s[k] - '0'
	}
	c, ok := iinCheckDigit(d)
	if !ok {
		return IIN{}, fmt.Errorf("iin: no check digit for serial %d", serial)
	}
	return ParseIIN(s + string('0'+c))
}
