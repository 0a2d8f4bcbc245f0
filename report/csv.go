package report

import (
	"encoding/csv"
	"io"
	"strconv"

	"socialwallet/wallet"
)

// csvHeader names the CSV columns; money is in tenge with two decimals, rates
// are fractions (0.8333) and empty when nothing was there to divide.
var csvHeader = []string{
	"period", "city", "city_name", "month_closed",
	"families", "members", "linked", "consented",
	"issued", "issued_kzt", "activated", "activated_kzt", "activation_rate",
	"annulled", "annulled_kzt", "annulment_rate",
	"redeemed_kzt", "redeemed_share", "discount_saved_kzt", "purchases", "active_merchants",
	"reminders_sent", "reminded_members", "reminded_activated_48h", "reminded_activation_rate",
	"bot_blocked",
}

// CSV writes one row per city and month, months in order.
func CSV(w io.Writer, r *wallet.Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, x := range r.Rows {
		rec := []string{
			x.Period.String(), x.City, cityName(r, x.City), strconv.FormatBool(r.Closed(x.Period)),
			itoa(x.Families), itoa(x.Members), itoa(x.Linked), itoa(x.Consented),
			itoa(x.Issued), tenge(x.IssuedValue), itoa(x.Activated), tenge(x.ActivatedValue), fraction(x.ActivationRate()),
			itoa(x.Annulled), tenge(x.AnnulledValue), fraction(x.AnnulmentRate()),
			tenge(x.Redeemed), fraction(x.RedeemedShare()), tenge(x.DiscountSaved), itoa(x.Purchases), itoa(x.ActiveMerchants),
			itoa(x.RemindersSent), itoa(x.RemindedMembers), itoa(x.RemindedActivated), fraction(x.ReminderConversion()),
			itoa(x.BotBlocked),
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// tenge is tiyn as a plain decimal number of tenge: "25950.00".
func tenge(t wallet.Tiyn) string {
	n := int64(t)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	return sign + strconv.FormatInt(n/100, 10) + "." + frac
}

func fraction(r wallet.Ratio) string {
	v, ok := r.Value()
	if !ok {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
