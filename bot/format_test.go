package bot

import "testing"

func TestFormats(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"percent whole", percent(1500), "15"},
		{"percent half", percent(1250), "12,5"},
		{"percent two decimals", percent(725), "7,25"},
		{"percent zero", percent(0), "0"},
		{"metres rounded to ten", distance(347), "350 м"},
		{"just under a kilometre", distance(994), "990 м"},
		{"kilometres with one decimal", distance(1234), "1,2 км"},
		{"far", distance(516000), "516,0 км"},
		{"fallback code", spaced("12345678"), "1234 5678"},
		{"no code", spaced(""), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q; want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestLooksLikeIIN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"850301400123", true},
		{"850301 400123", true},
		{"ЖСН: 850301400123", true},
		{"сәлем", false},
		{"12345", false},
		{"my phone is 87011234567 please help me now", false},
	}
	for _, tt := range tests {
		if got := looksLikeIIN(tt.in); got != tt.want {
			t.Errorf("looksLikeIIN(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}
