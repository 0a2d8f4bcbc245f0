package wallet

import (
	"strings"
	"testing"
	"time"
)

func TestParseIIN(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantCode Code
		birth    string
		female   bool
		why      string // in the message of an invalid one: the reason, not just any
	}{
		{"1900s man", "850415300012", "", "1985-04-15", false, ""},
		{"1900s woman", "900101400013", "", "1990-01-01", true, ""},
		{"2000s boy", "150601500014", "", "2015-06-01", false, ""},
		{"2000s girl", "120229600019", "", "2012-02-29", true, ""},
		{"1800s", "991231100010", "", "1899-12-31", false, ""},
		{"second weight series", "850415300302", "", "1985-04-15", false, ""},
		{"empty", "", CodeInvalid, "", false, "12 digits"},
		{"11 digits", "85041530001", CodeInvalid, "", false, "12 digits"},
		{"13 digits", "8504153000180", CodeInvalid, "", false, "12 digits"},
		{"letter", "85041530001A", CodeInvalid, "", false, "not a digit"},
		{"spaces", "850415 30001", CodeInvalid, "", false, "not a digit"},
		{"unicode digits", "８50415300018", CodeInvalid, "", false, "12 digits"},
		{"century digit 0", "850415000018", CodeInvalid, "", false, "century digit"},
		{"century digit 7", "850415700018", CodeInvalid, "", false, "century digit"},
		{"month 13", "851315300018", CodeInvalid, "", false, "not a real date"},
		{"month 00", "850015300018", CodeInvalid, "", false, "not a real date"},
		{"day 32", "850132300018", CodeInvalid, "", false, "not a real date"},
		{"day 00", "850100300018", CodeInvalid, "", false, "not a real date"},
		{"29 February not leap", "130229600010", CodeInvalid, "", false, "not a real date"},
		{"31 April", "850431300015", CodeInvalid, "", false, "not a real date"},
		{"wrong check digit", "850415300013", CodeInvalid, "", false, "check digit is"},
		{"both series give 10", "", CodeInvalid, "", false, "no valid check digit"}, // filled below
	}
	// Find a number whose both weight series give 10: it has no valid check digit.
	for s := 0; s < 10000; s++ {
		var d [12]byte
		str := "850415" + "3" + pad4(s)
		for i := 0; i < 11; i++ {
			d[i] = str[i] - '0'
		}
		if _, ok := iinCheckDigit(d); !ok {
			tests[len(tests)-1].in = str + "0"
			break
		}
	}
	if tests[len(tests)-1].in == "" {
		t.Fatal("no IIN without a check digit found")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIIN(tt.in)
			if tt.wantCode != "" {
				if ErrorCode(err) != tt.wantCode || !strings.Contains(err.Error(), tt.why) {
					t.Fatalf("ParseIIN(%q) = %v, %v; want code %s for %q", tt.in, got, err, tt.wantCode, tt.why)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIIN(%q) = %v; want valid", tt.in, err)
			}
			if b := got.BirthDate.Format(time.DateOnly); b != tt.birth || got.Female != tt.female {
				t.Errorf("ParseIIN(%q) = born %s female %v; want %s %v", tt.in, b, got.Female, tt.birth, tt.female)
			}
			if got.String() != tt.in || got.Last4() != tt.in[8:] {
				t.Errorf("ParseIIN(%q).String() = %q, Last4 %q", tt.in, got.String(), got.Last4())
			}
		})
	}
}

func pad4(n int) string {
	s := "0000" + itoa(uint64(n))
	return s[len(s)-4:]
}

func TestMakeIINRoundTrip(t *testing.T) {
	made := 0
	for serial := 0; serial < 200; serial++ {
		iin, err := MakeIIN(time.Date(2012, 2, 29, 0, 0, 0, 0, time.UTC), true, serial)
		if err != nil {
			continue
		}
		made++
		back, err := ParseIIN(iin.String())
		if err != nil || !back.BirthDate.Equal(iin.BirthDate) || !back.Female {
			t.Fatalf("ParseIIN(MakeIIN(serial %d)) = %v, %v", serial, back, err)
		}
	}
	if made < 150 {
		t.Errorf("MakeIIN made %d of 200; want most serials to have a check digit", made)
	}
}

func TestHashIINKeyed(t *testing.T) {
	a := HashIIN([]byte("k1"), "850415300018")
	b := HashIIN([]byte("k2"), "850415300018")
	c := HashIIN([]byte("k1"), "850415300018")
	if string(a) == string(b) || string(a) != string(c) || len(a) != 32 {
		t.Errorf("HashIIN: same key must agree, other key must differ, 32 bytes (got %d)", len(a))
	}
}

func TestAgeOn(t *testing.T) {
	birth := time.Date(2008, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		day  string
		want int
	}{{"2026-02-28", 17}, {"2026-03-01", 18}, {"2026-01-01", 17}}
	for _, tt := range tests {
		d, _ := time.Parse(time.DateOnly, tt.day)
		if got := AgeOn(birth, d); got != tt.want {
			t.Errorf("AgeOn(2008-03-01, %s) = %d; want %d", tt.day, got, tt.want)
		}
	}
}

func FuzzParseIIN(f *testing.F) {
	for _, s := range []string{"850415300012", "850415300302", "", "99999999999999", "85041530001A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iin, err := ParseIIN(s)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("ParseIIN(%q) error %v has no invalid code", s, err)
			}
			return
		}
		if iin.String() != s {
			t.Fatalf("ParseIIN(%q).String() = %q", s, iin.String())
		}
		if iin.BirthDate.Year() < 1800 || iin.BirthDate.Year() > 2099 {
			t.Fatalf("ParseIIN(%q) birth %v out of range", s, iin.BirthDate)
		}
	})
}
