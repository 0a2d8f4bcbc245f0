package wallet

import (
	"fmt"
	"slices"
	"time"
)

// Codes of the purchase errors a cashier sees.
const (
	CodeNotSZPT             Code = "not_szpt"             // a product is not in the active СЗПТ catalogue
	CodeIdempotencyConflict Code = "idempotency_conflict" // an Idempotency-Key reused with another request
	CodeVoidWindowPassed    Code = "void_window_passed"   // a purchase is voided only shortly after it
)

// Limits of one purchase line. They keep every product and sum far inside
// int64 (10⁷ × 10⁸ × 100 lines < 2⁶³) and catch a scanner typing a barcode
// into the quantity.
const (
	MaxLines         = 100
	MaxQtyMilli      = 10_000_000  // 10 000 kg, l or pieces
	MaxUnitPriceTiyn = 100_000_000 // 1 000 000 ₸ per kg, l or piece
)

// LineInput is one purchase line as the till sends it.
type LineInput struct {
	Product   string `json:"product"`
	QtyMilli  int64  `json:"qty_milli"`
	UnitPrice Tiyn   `json:"unit_price_tiyn"`
}

// PricedLine is a line with the programme's rounding applied.
type PricedLine struct {
	No        int    `json:"line_no"`
	Product   string `json:"product"`
	QtyMilli  int64  `json:"qty_milli"`
	UnitPrice Tiyn   `json:"unit_price_tiyn"`
	Gross     Tiyn   `json:"gross"`    // round_half_up(qty_milli × unit_price / 1000)
	Discount  Tiyn   `json:"discount"` // floor(gross × bp / 10000), or less when a discount-mode cap bites
	Net       Tiyn   `json:"net"`      // gross − discount
}

// Quote is what a purchase costs and who pays it.
type Quote struct {
	Mode       VoucherMode  `json:"mode"`
	DiscountBP int          `json:"discount_bp"`
	Lines      []PricedLine `json:"lines"`
	Gross      Tiyn         `json:"gross"`
	Discount   Tiyn         `json:"discount"`
	Net        Tiyn         `json:"net"`
	// Covered is the value taken from the family's vouchers: the discounted
	// total (or as much of it as the family has) in spend mode; the discount
	// granted in discount mode.
	Covered Tiyn `json:"covered"`
	// ToPay is what the customer pays by other means.
	ToPay Tiyn `json:"to_pay"`
}

// EffectiveDiscountBP is the discount a merchant grants: its own, never above
// the programme's maximum.
func (p *Program) EffectiveDiscountBP(m Merchant) int {
	return max(0, min(m.DiscountBP, p.MaxDiscountBP))
}

// LineGross is round_half_up(qtyMilli × unitPrice / 1000): the price of a
// measured quantity, rounded to the tiyn, half a tiyn up.
func LineGross(qtyMilli int64, unitPrice Tiyn) Tiyn {
	return Tiyn((qtyMilli*int64(unitPrice) + 500) / 1000)
}

// LineDiscount is floor(gross × bp / 10000): rounding down, so the discount
// never exceeds the stated percentage of the line.
func LineDiscount(gross Tiyn, bp int) Tiyn {
	return Tiyn(int64(gross) * int64(bp) / 10000)
}

// ValidateLines checks a basket's shape (not the catalogue): every field in
// range. Each problem is named by its field, e.g. "lines[2].qty_milli".
func ValidateLines(lines []LineInput) []FieldError {
	var bad []FieldError
	if len(lines) == 0 {
		return []FieldError{{Field: "lines", Reason: "at least one line is needed"}}
	}
	if len(lines) > MaxLines {
		return []FieldError{{Field: "lines", Reason: fmt.Sprintf("at most %d lines", MaxLines)}}
	}
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		if l.Product == "" || len(l.Product) > 64 {
			bad = append(bad, FieldError{Field: f + ".product", Reason: "must be a catalogue code of 1–64 characters"})
		}
		if l.QtyMilli < 1 || l.QtyMilli > MaxQtyMilli {
			bad = append(bad, FieldError{Field: f + ".qty_milli", Reason: fmt.Sprintf("must be between 1 and %d (thousandths of the unit)", MaxQtyMilli)})
		}
		if l.UnitPrice < 1 || l.UnitPrice > MaxUnitPriceTiyn {
			bad = append(bad, FieldError{Field: f + ".unit_price_tiyn", Reason: fmt.Sprintf("must be between 1 and %d tiyn", MaxUnitPriceTiyn)})
		}
	}
	return bad
}

// Price applies the discount and the voucher mode to a basket, given what the
// family may spend now (available). It is the one place the money of a
// purchase is computed; the store calls it with the family's vouchers locked.
//
//   - spend: the voucher pays the discounted total; when the family has less,
//     it pays what it can and ToPay is the rest.
//   - discount: the customer pays gross − discount and the voucher's value is
//     used up by the discount; when the family has less than the full
//     discount, the discount is cut to what it has, taken from the lines in
//     order (earlier lines keep their full discount).
//
// A family with nothing available gets insufficient_funds; a basket whose
// total (or discount, in discount mode) rounds to nothing is invalid.
func Price(lines []LineInput, bp int, mode VoucherMode, available Tiyn) (Quote, error) {
	if bad := ValidateLines(lines); len(bad) > 0 {
		return Quote{}, Errorf(CodeInvalid, "%s", bad[0].Error())
	}
	if bp < 0 || bp > 10000 {
		return Quote{}, Errorf(CodeInvalid, "discount %d bp out of range", bp)
	}
	q := Quote{Mode: mode, DiscountBP: bp, Lines: make([]PricedLine, len(lines))}
	for i, l := range lines {
		g := LineGross(l.QtyMilli, l.UnitPrice)
		d := LineDiscount(g, bp)
		q.Lines[i] = PricedLine{No: i + 1, Product: l.Product, QtyMilli: l.QtyMilli, UnitPrice: l.UnitPrice, Gross: g, Discount: d, Net: g - d}
		q.Gross += g
		q.Discount += d
	}
	if q.Gross == 0 {
		return Quote{}, Errorf(CodeInvalid, "the purchase totals 0 ₸")
	}
	if available <= 0 {
		return Quote{}, Errorf(CodeInsufficientFunds, "the family has no value to spend")
	}
	switch mode {
	case ModeSpend:
		q.Net = q.Gross - q.Discount
		q.Covered = min(q.Net, available)
		q.ToPay = q.Net - q.Covered
	case ModeDiscount:
		if q.Discount == 0 {
			return Quote{}, Errorf(CodeInvalid, "the discount on this purchase rounds to 0 ₸")
		}
		if q.Discount > available {
			left := available
			for i := range q.Lines {
				l := &q.Lines[i]
				l.Discount = min(l.Discount, left)
				l.Net = l.Gross - l.Discount
				left -= l.Discount
			}
			q.Discount = available
		}
		q.Net = q.Gross - q.Discount
		q.Covered = q.Discount
		q.ToPay = q.Net
	default:
		return Quote{}, Errorf(CodeInvalid, "unknown voucher mode %q", mode)
	}
	return q, nil
}

// Debit is value taken from (or, for a void, returned to) one voucher.
type Debit struct {
	VoucherID int64 `json:"voucher_id"`
	Amount    Tiyn  `json:"amount"`
}

// SpendOrder sorts vouchers the way they pay: earliest-expiring first, then by
// id, so value that would lapse soonest is used first and the order is total.
func SpendOrder(vs []Voucher) {
	slices.SortStableFunc(vs, func(a, b Voucher) int {
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}

// Available is what the vouchers may pay at now: the balance of activated
// vouchers not yet past their expiry (the expiry job may not have run yet).
func Available(vs []Voucher, now time.Time) Tiyn {
	var t Tiyn
	for _, v := range vs {
		if v.State == StateActivated && now.Before(v.ExpiresAt) {
			t += v.Balance
		}
	}
	return t
}

// Allocate takes amount from the vouchers in spend order, changing them in
// place (Voucher.Debit: a voucher spent to zero becomes spent), and returns
// the debits. It refuses when the vouchers hold less than amount.
func Allocate(vs []Voucher, amount Tiyn, now time.Time) ([]Debit, error) {
	if amount <= 0 {
		return nil, Errorf(CodeInvalid, "nothing to debit")
	}
	if have := Available(vs, now); have < amount {
		return nil, Errorf(CodeInsufficientFunds, "vouchers hold %d of the %d tiyn asked", have, amount)
	}
	SpendOrder(vs)
	var out []Debit
	left := amount
	for i := range vs {
		v := &vs[i]
		if left == 0 {
			break
		}
		if v.State != StateActivated || !now.Before(v.ExpiresAt) || v.Balance == 0 {
			continue
		}
		took, err := v.Debit(left, now)
		if err != nil {
			return nil, err
		}
		out = append(out, Debit{VoucherID: v.ID, Amount: took})
		left -= took
	}
	return out, nil
}
