package wallet

import "strings"

// NormalizePhone turns a Kazakhstan mobile number as people type it
// ("8 701 234 56 78", "+7 (701) 234-56-78", "77012345678") into E.164 "+77012345678".
func NormalizePhone(s string) (string, error) {
	var digits strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '\u00a0' || r == '.':
		default:
			return "", Errorf(CodeInvalid, "phone: unexpected character %q", r)
		}
	}
	d := digits.String()
	switch {
	case len(d) == 11 && d[0] == '8' && !plus:
		d = "7" + d[1:]
	case len(d) == 11 && d[0] == '7':
	case len(d) == 10 && !plus && d[0] == '7':
		d = "7" + d
	default:
		return "", Errorf(CodeInvalid, "phone: want 11 digits starting with +7 or 8, got %d digits", len(d))
	}
	// Kazakhstan numbers under +7 start with 6 or 7 after the country code;
	// 3/4/8/9 belong to Russia's plan and are not АСП registry phones.
	if d[1] != '7' && d[1] != '6' {
		return "", Errorf(CodeInvalid, "phone: +7 %c… is not a Kazakhstan number", d[1])
	}
	return "+" + d, nil
}
