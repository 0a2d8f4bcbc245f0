package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"socialwallet/data"
	"socialwallet/internal/fixtures"
	"socialwallet/wallet"
)

// Person is a demo recipient with a phone, whom the web chat can play.
type Person struct {
	TelegramID int64  `json:"id"`
	Name       string `json:"name"`
	City       string `json:"city"`
	FamilyID   string `json:"family"`
	Applicant  bool   `json:"applicant"`
	Phone      string `json:"phone"`
	IIN        string `json:"iin"`
	FamilySize int    `json:"family_size"`
	Minors     int    `json:"minors"`
	// PreLinked people talked to the bot before the page opened: linked,
	// consent given, nothing activated, so that the time controls have
	// someone to remind and to tell about annulment.
	PreLinked bool   `json:"prelinked"`
	Lang      string `json:"lang"` // their Telegram app's language
}

// Merchant is a demo store with the API key the cashier page uses.
type Merchant struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	City       string `json:"city"`
	Address    string `json:"address"`
	DiscountBP int    `json:"discount_bp"`
	Key        string `json:"key"`
}

// Demo is what the sandbox seeded.
type Demo struct {
	People    []Person
	Registry  []fixtures.Person
	Merchants []Merchant
	// Prices are regular shelf prices in tiyn per kg, l or piece, which the
	// cashier page offers for each catalogue product (the cashier may change
	// them; the store's discount is applied by the server).
	Prices map[string]int64
}

// Person finds a demo person by Telegram user id.
func (d *Demo) Person(id int64) (Person, bool) {
	for _, p := range d.People {
		if p.TelegramID == id {
			return p, true
		}
	}
	return Person{}, false
}

// PersonByPhone finds a demo person by phone (E.164).
func (d *Demo) PersonByPhone(phone string) (Person, bool) {
	for _, p := range d.People {
		if p.Phone == phone {
			return p, true
		}
	}
	return Person{}, false
}

// familySizes are the demo families of each city: every family has a mother
// (the applicant) and a father with phones, and one to three minor children.
var familySizes = []int{3, 4, 5}

// Fixed shelf prices of the demo stores, in tenge, by catalogue code.
var shelfPrices = map[string]int64{
	"flour-wheat-1": 320, "bread-wheat-1": 300, "pasta-horns": 520, "buckwheat": 610, "rice-round": 640,
	"potato": 250, "carrot": 240, "onion": 210, "cabbage-white": 190, "tomato": 950, "cucumber": 820,
	"apple": 700, "sugar-white": 560, "oil-sunflower": 890, "beef-bone": 3800, "beef-boneless": 4600,
	"mince-meat": 3300, "mutton": 3900, "horse-meat": 4300, "fish": 1850, "chicken-parts": 1750,
	"chicken-whole": 1550, "milk": 480, "kefir": 520, "sour-cream": 1900, "cottage-cheese": 2400,
	"butter": 5200, "eggs": 62, "salt": 120,
}

// demoStores by city id; a city the list lacks gets one store named after it.
var demoStores = map[string][]struct {
	name, address string
	discount      int     // basis points
	dlat, dlon    float64 // from the city's centre
}{
	"kokshetau": {{"Береке", "Абай, 45", 1500, 0.002, 0.001}, {"Достық маркет", "Әуелбеков, 120", 1200, -0.004, 0.006}},
	"akkol":     {{"Ақкөл азық", "Нұрлы жол, 7", 1000, 0.001, -0.002}},
	"pavlodar":  {{"Ертіс", "Торайғыров, 64", 1500, 0.003, 0.002}, {"Самал", "Естай, 39", 800, -0.005, -0.004}},
}

// CityCentres are where the demo stores are and where a shared location
// points to, by city id.
var CityCentres = map[string][2]float64{
	"kokshetau": {53.2833, 69.3833},
	"akkol":     {51.9958, 70.9436},
	"pavlodar":  {52.2873, 76.9674},
}

// telegramBase numbers the demo people's Telegram user ids: base + family
// number × 10 + place in the family.
const telegramBase = 700_000_000

// Seed loads the СЗПТ catalogue, a demo registry (three families in each of
// the programme's first three cities, each with minors), and the demo stores
// with fresh API keys, and issues the current period's vouchers. Run again on
// the same database it changes nothing but the stores' keys.
func Seed(ctx context.Context, svc *wallet.Service) (*Demo, error) {
	prog := svc.Program
	if _, bad, err := svc.ImportCatalog(ctx, data.SZPT()); err != nil || len(bad) > 0 {
		return nil, fmt.Errorf("sandbox: import the catalogue: %v %v", err, bad)
	}
	now := svc.Now()
	demo := &Demo{Prices: map[string]int64{}}
	for code, tenge := range shelfPrices {
		demo.Prices[code] = tenge * 100
	}
	gen := fixtures.NewGen()
	cities := prog.Cities[:min(3, len(prog.Cities))]
	n := 0
	for ci, city := range cities {
		for _, size := range familySizes {
			n++
			fam := gen.Family(n, city.ID, size)
			minors := 0
			for _, p := range fam {
				if iin, err := wallet.ParseIIN(p.IIN); err == nil && wallet.AgeOn(iin.BirthDate, now) < wallet.AdultAge {
					minors++
				}
			}
			for i, p := range fam {
				demo.Registry = append(demo.Registry, p)
				if p.Phone == "" {
					continue
				}
				lang := "kk"
				if (n+i)%2 == 0 {
					lang = "ru"
				}
				demo.People = append(demo.People, Person{
					TelegramID: telegramBase + int64(n)*10 + int64(i),
					Name:       p.FullName, City: p.City, FamilyID: p.FamilyID,
					Applicant: p.Role == wallet.RoleApplicant, Phone: p.Phone, IIN: p.IIN,
					FamilySize: size, Minors: minors,
					// The applicant of the last city's first family.
					PreLinked: ci == len(cities)-1 && size == familySizes[0] && i == 0,
					Lang:      lang,
				})
			}
		}
	}
	var buf bytes.Buffer
	if err := fixtures.WriteRegistry(&buf, demo.Registry); err != nil {
		return nil, err
	}
	res, err := svc.ImportRegistry(ctx, &buf, false)
	if err != nil {
		return nil, fmt.Errorf("sandbox: import the demo registry: %w", err)
	}
	if len(res.Rejected) > 0 {
		return nil, fmt.Errorf("sandbox: the demo registry was refused: %v", res.Rejected[0])
	}
	if err := seedMerchants(ctx, svc, demo, cities); err != nil {
		return nil, err
	}
	if p := prog.PeriodAt(now); prog.CheckPeriod(p) == nil {
		if _, err := svc.Issue(ctx, p); err != nil {
			return nil, fmt.Errorf("sandbox: issue %s: %w", p, err)
		}
	}
	return demo, nil
}

func seedMerchants(ctx context.Context, svc *wallet.Service, demo *Demo, cities []wallet.City) error {
	existing, err := svc.Store.ListMerchants(ctx)
	if err != nil {
		return fmt.Errorf("sandbox: list merchants: %w", err)
	}
	maxBP := svc.Program.MaxDiscountBP
	for _, city := range cities {
		stores := demoStores[city.ID]
		if len(stores) == 0 {
			stores = append(stores, struct {
				name, address string
				discount      int
				dlat, dlon    float64
			}{"Дүкен " + city.NameKK, city.NameKK, maxBP, 0, 0})
		}
		centre := CityCentres[city.ID]
		for _, s := range stores {
			m := wallet.Merchant{Name: s.name, City: city.ID, Address: s.address, DiscountBP: min(s.discount, maxBP),
				Lat: centre[0] + s.dlat, Lon: centre[1] + s.dlon}
			var id int64
			var key string
			for _, e := range existing {
				if e.Name == m.Name && e.City == m.City && e.Active() {
					id = e.ID
					m.DiscountBP = e.DiscountBP
				}
			}
			if id == 0 {
				if id, key, err = svc.AddMerchant(ctx, m); err != nil {
					return fmt.Errorf("sandbox: add merchant %s: %w", m.Name, err)
				}
			} else if key, err = svc.RotateMerchantKey(ctx, id); err != nil {
				// Only the key's hash is stored: a new key is the only way to learn one.
				return fmt.Errorf("sandbox: new key for merchant %s: %w", m.Name, err)
			}
			demo.Merchants = append(demo.Merchants, Merchant{ID: id, Name: m.Name, City: m.City, Address: m.Address,
				DiscountBP: m.DiscountBP, Key: key})
		}
	}
	return nil
}

// JumpTargets are the instants the time controls move the clock to from
// now: the last day of now's month at the reminder hour (the last reminder is
// due then), and the first day of the next month at the same hour (after
// midnight's annulment, past the quiet hours that hold notices back).
func JumpTargets(prog *wallet.Program, now time.Time) (monthEnd, nextMonth time.Time) {
	l := now.In(prog.Location)
	monthEnd = time.Date(l.Year(), l.Month()+1, 0, prog.ReminderHour, 0, 0, 0, prog.Location)
	nextMonth = time.Date(l.Year(), l.Month()+1, 1, prog.ReminderHour, 0, 0, 0, prog.Location)
	return monthEnd, nextMonth
}
