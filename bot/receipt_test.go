package bot

import (
	"strings"
	"testing"
	"time"

	"socialwallet/locales"
	"socialwallet/wallet"
)

func TestRenderReceipt(t *testing.T) {
	b := locales.MustLoad()
	almaty, _ := time.LoadLocation("Asia/Almaty")
	at := time.Date(2026, 1, 20, 12, 7, 0, 0, almaty)
	potato := wallet.Product{Code: "potato", NameKK: "Картоп", NameRU: "Картофель", Unit: wallet.UnitKg}
	milk := wallet.Product{Code: "milk", NameKK: "Сүт", NameRU: "Молоко", Unit: wallet.UnitL}
	eggs := wallet.Product{Code: "eggs", NameKK: "Жұмыртқа", NameRU: "Яйца", Unit: wallet.UnitPcs}
	spend := wallet.Receipt{
		RedemptionID: 42, Store: "Дәмді", At: at, Mode: wallet.ModeSpend,
		Lines: []wallet.ReceiptLine{
			{Product: potato, QtyMilli: 1500, UnitPrice: 25000, Gross: 37500, Discount: 5625, Net: 31875},
			{Product: milk, QtyMilli: 1000, UnitPrice: 48000, Gross: 48000, Discount: 7200, Net: 40800},
		},
		Gross: 85500, Discount: 12825, PaidByVoucher: 72675, FamilyRemaining: 1657325,
	}
	partial := spend
	partial.Lines = []wallet.ReceiptLine{{Product: eggs, QtyMilli: 30000, UnitPrice: 6500, Gross: 195000, Discount: 29250, Net: 165750}}
	partial.Gross, partial.Discount, partial.PaidByVoucher, partial.ToPay, partial.FamilyRemaining = 195000, 29250, 100000, 65750, 0
	discount := spend
	discount.Mode, discount.PaidByVoucher, discount.ToPay = wallet.ModeDiscount, 12825, 72675
	voided := spend
	voided.Voided, voided.VoidedAt, voided.Returned, voided.FamilyRemaining = true, at.Add(3*time.Minute), 50000, 1680000

	tests := []struct {
		name, lang string
		r          wallet.Receipt
		want       string
	}{
		{"spend, ru", "ru", spend, `🧾 Покупка в магазине «Дәмді», 20 января, 12:07

• Картофель, 1,5 кг — 318,75 ₸
• Молоко, 1 л — 408 ₸

Сумма без скидки: 855 ₸
Скидка магазина: 128,25 ₸
Оплачено ваучером: 726,75 ₸
Осталось в кошельке семьи: 16 573,25 ₸

Если эту покупку не делали ни вы, ни члены вашей семьи, нажмите «Это не я» — кошелёк семьи будет заморожен до проверки.`},
		{"spend, kk", "kk", spend, `🧾 «Дәмді» дүкеніндегі сатып алу, 20 қаңтар, 12:07

• Картоп, 1,5 кг — 318,75 ₸
• Сүт, 1 л — 408 ₸

Жеңілдіксіз сомасы: 855 ₸
Дүкен жеңілдігі: 128,25 ₸
Ваучермен төленді: 726,75 ₸
Отбасы әмиянында қалды: 16 573,25 ₸

Егер бұл сатып алуды сіз де, отбасы мүшелеріңіз де жасамаған болсаңыз, «Бұл мен емеспін» түймесін басыңыз — тексеру аяқталғанша отбасы әмияны бұғатталады.`},
		{"partial cover, kk", "kk", partial, `🧾 «Дәмді» дүкеніндегі сатып алу, 20 қаңтар, 12:07

• Жұмыртқа, 30 дана — 1 657,50 ₸

Жеңілдіксіз сомасы: 1 950 ₸
Дүкен жеңілдігі: 292,50 ₸
Ваучермен төленді: 1 000 ₸
Басқа тәсілмен қосымша төленді: 657,50 ₸
Отбасы әмиянында қалды: 0 ₸

Егер бұл сатып алуды сіз де, отбасы мүшелеріңіз де жасамаған болсаңыз, «Бұл мен емеспін» түймесін басыңыз — тексеру аяқталғанша отбасы әмияны бұғатталады.`},
		{"discount mode, ru", "ru", discount, `🧾 Покупка в магазине «Дәмді», 20 января, 12:07

• Картофель, 1,5 кг — 318,75 ₸
• Молоко, 1 л — 408 ₸

Сумма без скидки: 855 ₸
Скидка за счёт ваучера: 128,25 ₸
Оплачено вами: 726,75 ₸
Осталось в кошельке семьи: 16 573,25 ₸

Если эту покупку не делали ни вы, ни члены вашей семьи, нажмите «Это не я» — кошелёк семьи будет заморожен до проверки.`},
		{"voided with a lapsed part, ru", "ru", voided, `↩️ Магазин «Дәмді» отменил покупку от 20 января, 12:07.

• Картофель, 1,5 кг — 318,75 ₸
• Молоко, 1 л — 408 ₸

Сумма без скидки: 855 ₸
Скидка магазина: 128,25 ₸
Оплачено ваучером: 726,75 ₸

Возвращено на ваучеры: 500 ₸
Не возвращено, потому что срок ваучера истёк: 226,75 ₸
Осталось в кошельке семьи: 16 800 ₸

Если эту покупку не делали ни вы, ни члены вашей семьи, нажмите «Это не я» — кошелёк семьи будет заморожен до проверки.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, kb := RenderReceipt(b, tt.lang, tt.r)
			// Written here with plain spaces; amounts and quantities must not
			// break across lines, so they carry no-break spaces.
			if got := strings.ReplaceAll(text, "\u00a0", " "); got != tt.want {
				t.Errorf("RenderReceipt(%s) =\n%s\nwant\n%s", tt.name, got, tt.want)
			}
			for _, glued := range []string{"855\u00a0₸", "\u00a0кг", "\u00a0₸\n"} {
				if tt.r.Gross == 85500 && !strings.Contains(text, glued) {
					t.Errorf("RenderReceipt(%s) lacks %q", tt.name, glued)
				}
			}
			if len(kb.InlineKeyboard) != 1 || len(kb.InlineKeyboard[0]) != 1 {
				t.Fatalf("keyboard = %+v; want one button", kb)
			}
			btn := kb.InlineKeyboard[0][0]
			wantBtn := map[string]string{"kk": "Бұл мен емеспін", "ru": "Это не я"}[tt.lang]
			if btn.Text != wantBtn || btn.CallbackData == nil || *btn.CallbackData != "notme:42" {
				t.Errorf("button = %q %v; want %q notme:42", btn.Text, btn.CallbackData, wantBtn)
			}
		})
	}
}

func TestQuantity(t *testing.T) {
	tests := []struct {
		milli int64
		want  string
	}{
		{1500, "1,5"}, {1000, "1"}, {10000, "10"}, {250, "0,25"}, {1, "0,001"}, {1010, "1,01"}, {123456, "123,456"},
	}
	for _, tt := range tests {
		if got := quantity(tt.milli); got != tt.want {
			t.Errorf("quantity(%d) = %q; want %q", tt.milli, got, tt.want)
		}
	}
}
