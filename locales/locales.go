// Package locales holds every user-visible string in Kazakh and Russian, as
// message IDs in embedded TOML files (one pair of files per area: bot, receipt,
// jobs, …), and the helpers that show money, dates and plurals as people write
// them in each language.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"socialwallet/wallet"
)

//go:embed *.toml
var files embed.FS

// Langs are the languages of the service, Kazakh first.
var Langs = []string{"kk", "ru"}

// Bundle holds the messages of both languages.
type Bundle struct {
	b   *i18n.Bundle
	loc map[string]*i18n.Localizer
	ids map[string][]string // lang → message IDs
}

// Load parses every embedded *.kk.toml and *.ru.toml file.
func Load() (*Bundle, error) {
	b := i18n.NewBundle(language.Russian)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	out := &Bundle{b: b, loc: map[string]*i18n.Localizer{}, ids: map[string][]string{}}
	names, err := fs.Glob(files, "*.toml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		mf, err := b.LoadMessageFileFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
		lang := mf.Tag.String()
		for _, m := range mf.Messages {
			out.ids[lang] = append(out.ids[lang], m.ID)
		}
	}
	for _, l := range Langs {
		out.loc[l] = i18n.NewLocalizer(b, l)
		sort.Strings(out.ids[l])
	}
	return out, nil
}

// MustLoad is Load for wiring and tests; the files are embedded, so a failure
// is a build defect.
func MustLoad() *Bundle {
	b, err := Load()
	if err != nil {
		panic(err)
	}
	return b
}

// IDs lists the message IDs defined for lang.
func (b *Bundle) IDs(lang string) []string { return b.ids[lang] }

// Files lists the embedded message files (for tests).
func Files() []string {
	names, _ := fs.Glob(files, "*.toml")
	for i := range names {
		names[i] = path.Base(names[i])
	}
	return names
}

// Lang normalises a language: "kk" or "ru" (the default).
func Lang(s string) string {
	s = strings.ToLower(s)
	if strings.HasPrefix(s, "kk") || strings.HasPrefix(s, "kz") {
		return "kk"
	}
	return "ru"
}

// T renders message id in lang with data; count (optional) selects the plural form.
func (b *Bundle) T(lang, id string, data map[string]any, count ...int) string {
	s, err := b.Render(lang, id, data, count...)
	if err != nil {
		return id
	}
	return s
}

// Render is T that reports a missing message or a template that does not render.
func (b *Bundle) Render(lang, id string, data map[string]any, count ...int) (string, error) {
	l, ok := b.loc[Lang(lang)]
	if !ok {
		return "", fmt.Errorf("locales: no language %q", lang)
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if len(count) > 0 {
		cfg.PluralCount = count[0]
		if data == nil {
			cfg.TemplateData = map[string]any{"Count": count[0]}
		} else if _, ok := data["Count"]; !ok {
			d := make(map[string]any, len(data)+1)
			for k, v := range data {
				d[k] = v
			}
			d["Count"] = count[0]
			cfg.TemplateData = d
		}
	}
	s, tag, err := l.LocalizeWithTag(cfg)
	if err != nil {
		return "", fmt.Errorf("locales: %s/%s: %w", lang, id, err)
	}
	if tag.String() != Lang(lang) {
		return "", fmt.Errorf("locales: %s/%s: fell back to %s", lang, id, tag)
	}
	if strings.Contains(s, "<no value>") {
		return "", fmt.Errorf("locales: %s/%s: template data missing: %q", lang, id, s)
	}
	return s, nil
}

// Money shows tiyn as "17 300 ₸" (the same in both languages).
func Money(t wallet.Tiyn) string { return wallet.FormatTenge(t) }

var (
	monthsKK = [...]string{"қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"}
	// Russian dates take the genitive: "31 января".
	monthsRU = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}
	// Month names in the nominative, for "vouchers for January".
	monthsNomRU = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
)

// Date shows a day as people write it: "31 қаңтар", "31 января".
func Date(lang string, t time.Time) string {
	if Lang(lang) == "kk" {
		return fmt.Sprintf("%d %s", t.Day(), monthsKK[t.Month()-1])
	}
	return fmt.Sprintf("%d %s", t.Day(), monthsRU[t.Month()-1])
}

// DateTime adds the time of day: "31 қаңтар, 23:59".
func DateTime(lang string, t time.Time) string { return Date(lang, t) + ", " + t.Format("15:04") }

// Month names a period: "қаңтар 2026", "январь 2026".
func Month(lang string, p wallet.Period) string {
	if Lang(lang) == "kk" {
		return fmt.Sprintf("%d жылғы %s", p.Year, monthsKK[p.Month-1])
	}
	return fmt.Sprintf("%s %d", monthsNomRU[p.Month-1], p.Year)
}

// LastDay is the last day of the period, the day people think of as the deadline.
func LastDay(lang string, prog *wallet.Program, p wallet.Period) string {
	return Date(lang, prog.Deadline(p).In(prog.Location).Add(-time.Second))
}
