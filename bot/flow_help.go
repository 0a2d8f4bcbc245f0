package bot

import (
	"strings"

	"socialwallet/locales"
	"socialwallet/wallet"
)

// help is the Help screen: what the programme is, who runs it, where to turn
// and how personal data is kept. It works before linking too.
func (b *Bot) help(r *req) {
	data := b.helpData(r)
	data["Program"] = b.prog.Name
	data["Start"] = locales.Date(r.lang(), b.prog.Start.In(b.prog.Location))
	data["End"] = locales.Date(r.lang(), b.prog.End.Add(-1).In(b.prog.Location))
	var cities []string
	for _, c := range b.prog.Cities {
		if r.lang() == "kk" {
			cities = append(cities, c.NameKK)
		} else {
			cities = append(cities, c.NameRU)
		}
	}
	data["Cities"] = strings.Join(cities, ", ")
	amount, _ := b.prog.VoucherAmount(b.prog.PeriodAt(b.now()))
	if amount == 0 {
		amount, _ = b.prog.VoucherAmount(b.prog.PeriodAt(b.prog.Start))
	}
	data["Amount"] = locales.Money(amount)
	var kb any
	if r.s.Linked() {
		kb = b.mainMenu(r.lang())
	}
	b.sayT(r, "help_text", data, kb)
}

// helpData gives "Help": where to turn — the department of the user's city,
// or of every city of the programme when the city is not known yet.
func (b *Bot) helpData(r *req) map[string]any {
	return map[string]any{"Help": b.whereToTurn(r.lang(), r.s.City)}
}

func (b *Bot) whereToTurn(lang, city string) string {
	pick := func(c wallet.City) string {
		if lang == "kk" {
			return c.HelpKK
		}
		return c.HelpRU
	}
	if c, ok := b.prog.City(city); ok && pick(c) != "" {
		return pick(c)
	}
	var lines []string
	for _, c := range b.prog.Cities {
		name := c.NameRU
		if lang == "kk" {
			name = c.NameKK
		}
		if h := pick(c); h != "" {
			lines = append(lines, name+": "+h)
		}
	}
	if len(lines) == 0 {
		return b.t(lang, "help_generic", nil)
	}
	return strings.Join(lines, "\n")
}
