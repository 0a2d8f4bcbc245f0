package locales

import (
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"socialwallet/wallet"
)

// rawMessages reads the files directly so the test sees every plural form and
// template field as written, not as go-i18n resolves them.
func rawMessages(t *testing.T, lang string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	names, _ := fs.Glob(files, "*."+lang+".toml")
	if len(names) == 0 {
		t.Fatalf("no message files for %s", lang)
	}
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		var m map[string]any
		if err := toml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for id, v := range m {
			if _, dup := out[id]; dup {
				t.Errorf("%s: message %q defined twice for %s", n, id, lang)
			}
			forms := map[string]string{}
			switch v := v.(type) {
			case string:
				forms["other"] = v
			case map[string]any:
				for k, f := range v {
					if s, ok := f.(string); ok && k != "description" {
						forms[k] = s
					}
				}
			}
			out[id] = forms
		}
	}
	return out
}

var field = regexp.MustCompile(`\{\{[^}]*?\.([A-Za-z]+)[^}]*\}\}`)

func fields(forms map[string]string) []string {
	set := map[string]bool{}
	for _, s := range forms {
		for _, m := range field.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func TestEveryMessageInBothLanguages(t *testing.T) {
	kk, ru := rawMessages(t, "kk"), rawMessages(t, "ru")
	for id := range kk {
		if _, ok := ru[id]; !ok {
			t.Errorf("message %q is in kk but missing in ru", id)
		}
	}
	for id := range ru {
		if _, ok := kk[id]; !ok {
			t.Errorf("message %q is in ru but missing in kk", id)
		}
	}
}

func TestPluralFormsComplete(t *testing.T) {
	need := map[string][]string{"kk": {"one", "other"}, "ru": {"one", "few", "many", "other"}}
	msgs := map[string]map[string]map[string]string{"kk": rawMessages(t, "kk"), "ru": rawMessages(t, "ru")}
	// A message is plural when either language gives it a form besides
	// "other": one cut down to "other" alone in one language is caught.
	plural := map[string]bool{}
	for _, byID := range msgs {
		for id, forms := range byID {
			plural[id] = plural[id] || isPlural(forms)
		}
	}
	for lang, forms := range need {
		for id, have := range msgs[lang] {
			if !plural[id] {
				continue
			}
			for _, f := range forms {
				if have[f] == "" {
					t.Errorf("%s/%s: plural form %q missing", lang, id, f)
				}
			}
		}
	}
}

// isPlural: a message with any form but "other" is counted.
func isPlural(forms map[string]string) bool { return len(forms) > 1 || forms["other"] == "" }

func TestTemplatesRenderWithTheirData(t *testing.T) {
	b := MustLoad()
	kk, ru := rawMessages(t, "kk"), rawMessages(t, "ru")
	for id, kforms := range kk {
		rforms, ok := ru[id]
		if !ok {
			continue // reported by TestEveryMessageInBothLanguages
		}
		if kf, rf := fields(kforms), fields(rforms); !slices.Equal(kf, rf) {
			t.Errorf("%s: kk uses fields %v, ru uses %v", id, kf, rf)
		}
		data := map[string]any{}
		for _, f := range fields(kforms) {
			data[f] = "X"
		}
		for _, lang := range Langs {
			counts := []int{1, 2, 5, 21}
			if !isPlural(kforms) && !isPlural(rforms) {
				counts = []int{-1}
			}
			for _, n := range counts {
				var s string
				var err error
				if n < 0 {
					s, err = b.Render(lang, id, data)
				} else {
					s, err = b.Render(lang, id, data, n)
				}
				if err != nil {
					t.Errorf("Render(%s, %s, count %d) = %v", lang, id, n, err)
					continue
				}
				if strings.TrimSpace(s) == "" || strings.Contains(s, "{{") {
					t.Errorf("Render(%s, %s, count %d) = %q; want rendered text", lang, id, n, s)
				}
			}
		}
	}
}

func TestPlurals(t *testing.T) {
	b := MustLoad()
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{"kk", 1, "1 күн"}, {"kk", 5, "5 күн"},
		{"ru", 1, "1 день"}, {"ru", 2, "2 дня"}, {"ru", 5, "5 дней"}, {"ru", 11, "11 дней"}, {"ru", 21, "21 день"}, {"ru", 22, "22 дня"},
	}
	for _, tt := range tests {
		if got := b.T(tt.lang, "days", nil, tt.n); got != tt.want {
			t.Errorf("T(%s, days, %d) = %q; want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestDatesAndMoney(t *testing.T) {
	d := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	tests := []struct{ got, want string }{
		{Date("kk", d), "31 қаңтар"},
		{Date("ru", d), "31 января"},
		{Money(wallet.TengeToTiyn(17300)), "17\u00a0300\u00a0₸"},
		{Money(432550), "4\u00a0325,50\u00a0₸"},
		{Month("ru", wallet.Period{Year: 2026, Month: 2}), "февраль 2026"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}
