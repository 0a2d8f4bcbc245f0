package wallet

import (
	"reflect"
	"testing"
	"time"
)

func TestLineGross(t *testing.T) {
	tests := []struct {
		name  string
		qty   int64
		price Tiyn
		want  Tiyn
	}{
		{"one unit", 1000, 25000, 25000},
		{"one and a half kilos", 1500, 25000, 37500},
		{"below half a tiyn rounds down", 333, 100, 33},
		{"exactly half a tiyn rounds up", 335, 100, 34},
		{"above half a tiyn rounds up", 336, 100, 34},
		{"3.45 tiyn rounds down", 345, 10, 3},
		{"0.499 tiyn is nothing", 1, 499, 0},
		{"0.5 tiyn is one", 1, 500, 1},
		{"ten eggs", 10000, 6500, 65000},
		{"largest line", MaxQtyMilli, MaxUnitPriceTiyn, 1_000_000_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LineGross(tt.qty, tt.price); got != tt.want {
				t.Errorf("LineGross(%d, %d) = %d; want %d", tt.qty, tt.price, got, tt.want)
			}
		})
	}
}

func TestLineDiscount(t *testing.T) {
	tests := []struct {
		name  string
		gross Tiyn
		bp    int
		want  Tiyn
	}{
		{"exact 15 %", 10000, 1500, 1500},
		{"exact 15 % of 375 ₸", 37500, 1500, 5625},
		{"4.95 tiyn rounds down", 33, 1500, 4},
		{"0.9 tiyn is nothing", 6, 1500, 0},
		{"1.05 tiyn is one", 7, 1500, 1},
		{"12.5 % rounds down", 99999, 1250, 12499},
		{"no discount", 100, 0, 0},
		{"everything", 100, 10000, 100},
		{"never above the percentage", 1, 9999, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LineDiscount(tt.gross, tt.bp)
			if got != tt.want {
				t.Errorf("LineDiscount(%d, %d) = %d; want %d", tt.gross, tt.bp, got, tt.want)
			}
			if int64(got)*10000 > int64(tt.gross)*int64(tt.bp) {
				t.Errorf("LineDiscount(%d, %d) = %d exceeds %d bp", tt.gross, tt.bp, got, tt.bp)
			}
		})
	}
}

func TestEffectiveDiscountBP(t *testing.T) {
	p := &Program{MaxDiscountBP: 1500}
	tests := []struct {
		name string
		bp   int
		want int
	}{
		{"below the maximum", 1000, 1000},
		{"at the maximum", 1500, 1500},
		{"above the maximum is cut", 2000, 1500},
		{"negative is none", -5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.EffectiveDiscountBP(Merchant{DiscountBP: tt.bp}); got != tt.want {
				t.Errorf("EffectiveDiscountBP(%d) = %d; want %d", tt.bp, got, tt.want)
			}
		})
	}
}

// basket: 1.5 kg potatoes at 250 ₸, 1 l milk at 480 ₸, 10 eggs at 65 ₸.
var basket = []LineInput{
	{Product: "potato", QtyMilli: 1500, UnitPrice: 25000},
	{Product: "milk", QtyMilli: 1000, UnitPrice: 48000},
	{Product: "eggs", QtyMilli: 10000, UnitPrice: 6500},
}

func TestPrice(t *testing.T) {
	line := func(no int, in LineInput, gross, disc Tiyn) PricedLine {
		return PricedLine{No: no, Product: in.Product, QtyMilli: in.QtyMilli, UnitPrice: in.UnitPrice, Gross: gross, Discount: disc, Net: gross - disc}
	}
	full := []PricedLine{
		line(1, basket[0], 37500, 5625),
		line(2, basket[1], 48000, 7200),
		line(3, basket[2], 65000, 9750),
	}
	tests := []struct {
		name      string
		lines     []LineInput
		bp        int
		mode      VoucherMode
		available Tiyn
		want      Quote
		code      Code
	}{
		{
			name: "spend, fully covered", lines: basket, bp: 1500, mode: ModeSpend, available: 1_730_000,
			want: Quote{Mode: ModeSpend, DiscountBP: 1500, Lines: full, Gross: 150500, Discount: 22575, Net: 127925, Covered: 127925, ToPay: 0},
		},
		{
			name: "spend, exactly covered", lines: basket, bp: 1500, mode: ModeSpend, available: 127925,
			want: Quote{Mode: ModeSpend, DiscountBP: 1500, Lines: full, Gross: 150500, Discount: 22575, Net: 127925, Covered: 127925, ToPay: 0},
		},
		{
			name: "spend, partial cover leaves the rest to pay", lines: basket, bp: 1500, mode: ModeSpend, available: 100000,
			want: Quote{Mode: ModeSpend, DiscountBP: 1500, Lines: full, Gross: 150500, Discount: 22575, Net: 127925, Covered: 100000, ToPay: 27925},
		},
		{
			name: "spend, merchant without discount", lines: basket[:1], bp: 0, mode: ModeSpend, available: 1_000_000,
			want: Quote{Mode: ModeSpend, DiscountBP: 0, Lines: []PricedLine{line(1, basket[0], 37500, 0)}, Gross: 37500, Discount: 0, Net: 37500, Covered: 37500},
		},
		{
			name: "spend, nothing available", lines: basket, bp: 1500, mode: ModeSpend, available: 0,
			code: CodeInsufficientFunds,
		},
		{
			name: "discount, full discount within the cap", lines: basket, bp: 1500, mode: ModeDiscount, available: 432500,
			want: Quote{Mode: ModeDiscount, DiscountBP: 1500, Lines: full, Gross: 150500, Discount: 22575, Net: 127925, Covered: 22575, ToPay: 127925},
		},
		{
			name: "discount, capped by the voucher: earlier lines first", lines: basket, bp: 1500, mode: ModeDiscount, available: 10000,
			want: Quote{Mode: ModeDiscount, DiscountBP: 1500, Lines: []PricedLine{
				line(1, basket[0], 37500, 5625),
				line(2, basket[1], 48000, 4375),
				line(3, basket[2], 65000, 0),
			}, Gross: 150500, Discount: 10000, Net: 140500, Covered: 10000, ToPay: 140500},
		},
		{
			name: "discount, nothing available", lines: basket, bp: 1500, mode: ModeDiscount, available: 0,
			code: CodeInsufficientFunds,
		},
		{
			name: "discount that rounds to nothing", lines: []LineInput{{Product: "salt", QtyMilli: 1000, UnitPrice: 6}}, bp: 1500, mode: ModeDiscount, available: 1000,
			code: CodeInvalid,
		},
		{
			name: "total that rounds to nothing", lines: []LineInput{{Product: "salt", QtyMilli: 1, UnitPrice: 1}}, bp: 1500, mode: ModeSpend, available: 1000,
			code: CodeInvalid,
		},
		{
			name: "no lines", lines: nil, bp: 1500, mode: ModeSpend, available: 1000,
			code: CodeInvalid,
		},
		{
			name: "unknown mode", lines: basket, bp: 1500, mode: "cash", available: 1000,
			code: CodeInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Price(tt.lines, tt.bp, tt.mode, tt.available)
			if tt.code != "" {
				if !IsCode(err, tt.code) {
					t.Fatalf("Price(%s) = %+v, %v; want code %s", tt.name, got, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Price(%s) error %v", tt.name, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Price(%s) =\n %+v\nwant\n %+v", tt.name, got, tt.want)
			}
			// Invariants every quote keeps.
			var g, d Tiyn
			for _, l := range got.Lines {
				g += l.Gross
				d += l.Discount
				if l.Net != l.Gross-l.Discount || l.Discount < 0 || int64(l.Discount)*10000 > int64(l.Gross)*int64(tt.bp) {
					t.Errorf("line %d breaks the discount rule: %+v", l.No, l)
				}
			}
			if g != got.Gross || d != got.Discount || got.Net != got.Gross-got.Discount {
				t.Errorf("totals do not add up: %+v", got)
			}
			if got.Covered > tt.available {
				t.Errorf("covered %d > available %d", got.Covered, tt.available)
			}
		})
	}
}

func TestValidateLines(t *testing.T) {
	tests := []struct {
		name  string
		lines []LineInput
		want  []string // fields named
	}{
		{"good", basket, nil},
		{"empty", nil, []string{"lines"}},
		{"too many", make([]LineInput, MaxLines+1), []string{"lines"}},
		{"zero quantity", []LineInput{{Product: "milk", QtyMilli: 0, UnitPrice: 1}}, []string{"lines[0].qty_milli"}},
		{"negative price", []LineInput{{Product: "milk", QtyMilli: 1, UnitPrice: -1}}, []string{"lines[0].unit_price_tiyn"}},
		{"price too high", []LineInput{{Product: "milk", QtyMilli: 1, UnitPrice: MaxUnitPriceTiyn + 1}}, []string{"lines[0].unit_price_tiyn"}},
		{"quantity too high", []LineInput{{Product: "milk", QtyMilli: MaxQtyMilli + 1, UnitPrice: 1}}, []string{"lines[0].qty_milli"}},
		{"no product, second line", []LineInput{basket[0], {QtyMilli: 1, UnitPrice: 1}}, []string{"lines[1].product"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range ValidateLines(tt.lines) {
				got = append(got, e.Field)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ValidateLines(%s) fields = %v; want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestAllocate(t *testing.T) {
	now := time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	may := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	vouchers := func() []Voucher {
		return []Voucher{
			{ID: 2, State: StateActivated, Amount: 432500, Balance: 432500, ExpiresAt: may},
			{ID: 3, State: StateActivated, Amount: 432500, Balance: 100000, ExpiresAt: feb},
			{ID: 1, State: StateActivated, Amount: 432500, Balance: 432500, ExpiresAt: feb},
			{ID: 4, State: StateActivated, Amount: 432500, Balance: 432500, ExpiresAt: now}, // lapses now; the job has not run
			{ID: 5, State: StateSpent, Amount: 432500, Balance: 0, ExpiresAt: may, ClosedAt: now.Add(-time.Hour)},
			{ID: 6, State: StateIssued, Amount: 432500, Balance: 0, ExpiresAt: may},
		}
	}
	tests := []struct {
		name     string
		amount   Tiyn
		want     []Debit
		balances map[int64]Tiyn
		spent    []int64
		code     Code
	}{
		{
			name: "earliest-expiring first, then by id", amount: 500000,
			want:     []Debit{{1, 432500}, {3, 67500}},
			balances: map[int64]Tiyn{1: 0, 3: 32500, 2: 432500, 4: 432500},
			spent:    []int64{1, 5},
		},
		{
			name: "one voucher enough", amount: 1,
			want:     []Debit{{1, 1}},
			balances: map[int64]Tiyn{1: 432499, 3: 100000, 2: 432500},
			spent:    []int64{5},
		},
		{
			name: "everything spendable", amount: 965000,
			want:     []Debit{{1, 432500}, {3, 100000}, {2, 432500}},
			balances: map[int64]Tiyn{1: 0, 2: 0, 3: 0, 4: 432500},
			spent:    []int64{1, 3, 2, 5},
		},
		{name: "more than the family has (expired value does not count)", amount: 965001, code: CodeInsufficientFunds},
		{name: "nothing", amount: 0, code: CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := vouchers()
			got, err := Allocate(vs, tt.amount, now)
			if tt.code != "" {
				if !IsCode(err, tt.code) {
					t.Fatalf("Allocate(%d) = %v, %v; want code %s", tt.amount, got, err, tt.code)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Allocate(%d) = %v, %v; want %v", tt.amount, got, err, tt.want)
			}
			var spent []int64
			for _, v := range vs {
				if b, ok := tt.balances[v.ID]; ok && v.Balance != b {
					t.Errorf("voucher %d balance %d; want %d", v.ID, v.Balance, b)
				}
				if v.State == StateSpent {
					spent = append(spent, v.ID)
					if v.ClosedAt.IsZero() {
						t.Errorf("voucher %d spent without closed_at", v.ID)
					}
				}
			}
			if !reflect.DeepEqual(spent, tt.spent) {
				t.Errorf("spent vouchers %v; want %v", spent, tt.spent)
			}
		})
	}
}

func TestAvailable(t *testing.T) {
	now := time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC)
	vs := []Voucher{
		{State: StateActivated, Balance: 100, ExpiresAt: now.Add(time.Second)},
		{State: StateActivated, Balance: 1000, ExpiresAt: now},
		{State: StateSpent, Balance: 0, ExpiresAt: now.Add(time.Hour)},
		{State: StateIssued, Balance: 0, ExpiresAt: now.Add(time.Hour)},
		{State: StateActivated, Balance: 20, ExpiresAt: now.Add(time.Hour)},
	}
	if got := Available(vs, now); got != 120 {
		t.Errorf("Available = %d; want 120", got)
	}
}
