package wallet

import "testing"

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+77012345678", "+77012345678", true},
		{"87012345678", "+77012345678", true},
		{"8 701 234 56 78", "+77012345678", true},
		{"+7 (701) 234-56-78", "+77012345678", true},
		{"8(701)234-56-78", "+77012345678", true},
		{"77012345678", "+77012345678", true},
		{"7012345678", "+77012345678", true},
		{" +7 747 111 22 33 ", "+77471112233", true},
		{"+7\u00a0701\u00a0234\u00a056\u00a078", "+77012345678", true},
		{"", "", false},
		{"+7701234567", "", false},     // 10 digits after +
		{"+770123456789", "", false},   // 12 digits
		{"+87012345678", "", false},    // + then 8
		{"+79161234567", "", false},    // Russian mobile
		{"8 916 123 45 67", "", false}, // Russian mobile
		{"+7 701 234 56 7x", "", false},
		{"7+7012345678", "", false},
		{"+1 202 555 0100", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if !tt.ok && (err == nil || ErrorCode(err) != CodeInvalid) {
			t.Errorf("NormalizePhone(%q) = %q, %v; want invalid", tt.in, got, err)
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+77012345678", "8 701 234 56 78", "+7 (701) 234-56-78", "", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if err != nil {
			return
		}
		if len(got) != 12 || got[:2] != "+7" {
			t.Fatalf("NormalizePhone(%q) = %q; want +7 and 10 digits", s, got)
		}
		again, err := NormalizePhone(got)
		if err != nil || again != got {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want idempotent %q", got, again, err, got)
		}
	})
}
