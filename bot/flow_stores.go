package bot

import (
	"fmt"
	"strings"

	"socialwallet/wallet"
)

// nearestCount is how many stores a shared location lists.
const nearestCount = 5

// stores is the Stores screen: the participating merchants of the user's
// city, and a button to share a location for the nearest five.
func (b *Bot) stores(r *req) {
	lang := r.lang()
	ms, err := b.w.Stores(r.ctx, r.s.City)
	if err != nil {
		b.fail(r, "stores", err)
		return
	}
	city := r.s.City
	if c, ok := b.prog.City(r.s.City); ok {
		city = c.NameRU
		if lang == "kk" {
			city = c.NameKK
		}
	}
	var sb strings.Builder
	if len(ms) == 0 {
		sb.WriteString(b.t(lang, "stores_none", map[string]any{"City": city}))
	} else {
		sb.WriteString(b.t(lang, "stores_title", map[string]any{"City": city}))
		for _, m := range ms {
			sb.WriteString("\n\n• " + b.storeLine(lang, m))
		}
	}
	sb.WriteString("\n\n" + b.t(lang, "stores_share_location", nil))
	b.say(r, sb.String(), b.locationKeyboard(lang))
}

// onLocation lists the nearest merchants, with the distance, and brings back
// the main menu.
func (b *Bot) onLocation(r *req) {
	lang := r.lang()
	loc := r.msg.Location
	near, err := b.w.NearestStores(r.ctx, loc.Latitude, loc.Longitude, nearestCount)
	if err != nil {
		b.fail(r, "nearest stores", err)
		return
	}
	if len(near) == 0 {
		b.sayT(r, "stores_none_near", nil, b.mainMenu(lang))
		return
	}
	var sb strings.Builder
	sb.WriteString(b.t(lang, "stores_nearest", map[string]any{"Count": len(near)}))
	for _, n := range near {
		sb.WriteString("\n\n• " + distance(n.Metres) + " — " + b.storeLine(lang, n.Merchant))
	}
	b.say(r, sb.String(), b.mainMenu(lang))
}

func (b *Bot) storeLine(lang string, m wallet.Merchant) string {
	s := m.Name
	if m.Address != "" {
		s += ", " + m.Address
	}
	return s + " — " + b.t(lang, "stores_discount", map[string]any{"Percent": percent(m.DiscountBP)})
}

// percent shows basis points as people write a percentage: "15", "12,5".
func percent(bp int) string {
	if bp%100 == 0 {
		return fmt.Sprint(bp / 100)
	}
	s := fmt.Sprintf("%d,%02d", bp/100, bp%100)
	return strings.TrimSuffix(s, "0")
}

// distance is "350 м" or "1,2 км" (the same units in both languages).
func distance(metres float64) string {
	if metres < 1000 {
		return fmt.Sprintf("%d м", int(metres/10+0.5)*10)
	}
	km := int(metres/100 + 0.5)
	return fmt.Sprintf("%d,%d км", km/10, km%10)
}
