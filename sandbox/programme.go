package sandbox

import (
	"fmt"
	"maps"
	"time"

	"socialwallet/wallet"
)

// Programme is base with its dates moved so that it starts on the first day
// of the month now falls in and runs as many months as base does (the pilot:
// four). Cities, amounts and rules stay as they are; a year of the moved dates
// that base has no MRP for takes the nearest earlier year's (else the
// nearest later one's), so that the sandbox runs in any year.
func Programme(base *wallet.Program, now time.Time) (*wallet.Program, error) {
	months := len(base.Periods())
	if months == 0 {
		return nil, fmt.Errorf("sandbox: the programme %q has no months", base.Name)
	}
	p := *base
	p.Name = base.Name + " (демо)"
	l := now.In(base.Location)
	p.Start = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, base.Location)
	p.End = p.Start.AddDate(0, months, 0)
	p.Cities = append([]wallet.City(nil), base.Cities...)
	p.ReminderDays = append([]int(nil), base.ReminderDays...)
	p.HelpContact = maps.Clone(base.HelpContact)
	p.MRP = maps.Clone(base.MRP)
	for y := p.Start.Year(); y <= p.End.Add(-time.Nanosecond).Year(); y++ {
		if p.MRP[y] > 0 {
			continue
		}
		if v, ok := nearestMRP(base.MRP, y); ok {
			p.MRP[y] = v
		}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: programme for %s: %w", l.Format("2006-01"), err)
	}
	return &p, nil
}

func nearestMRP(mrp map[int]wallet.Tiyn, year int) (wallet.Tiyn, bool) {
	best, found := 0, false
	for y, v := range mrp {
		if v <= 0 {
			continue
		}
		better := !found ||
			(y < year && (best > year || y > best)) || // an earlier year, nearer
			(y > year && best > year && y < best) // only later years: the nearest
		if better {
			best, found = y, true
		}
	}
	return mrp[best], found
}
