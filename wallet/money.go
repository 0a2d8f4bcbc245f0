package wallet

import (
	"strconv"
	"strings"
)

// Tiyn is money in tiyn: 1 ₸ = 100 tiyn. Money is never a float.
type Tiyn int64

// TengeToTiyn converts whole tenge.
func TengeToTiyn(tenge int64) Tiyn { return Tiyn(tenge * 100) }

const nbsp = "\u00a0"

// String shows the amount as people read it: "17 300 ₸", "4 325,50 ₸", with
// no-break spaces between groups of three and before the sign.
func (t Tiyn) String() string { return FormatTenge(t) }

// FormatTenge formats like String; a decimal comma appears only for part-tenge.
func FormatTenge(t Tiyn) string {
	neg := t < 0
	if neg {
		t = -t
	}
	whole := int64(t) / 100
	frac := int64(t) % 100
	s := groupThousands(strconv.FormatInt(whole, 10))
	if frac != 0 {
		s += "," + twoDigits(frac)
	}
	if neg {
		s = "−" + s
	}
	return s + nbsp + "₸"
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(nbsp)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
