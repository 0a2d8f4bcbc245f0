package bot_test

import (
	"strings"
	"testing"
	"time"

	"socialwallet/bot"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/wallet"
)

func TestRenderNotice(t *testing.T) {
	b := locales.MustLoad()
	prog := program.Default()
	jan := wallet.Period{Year: 2026, Month: time.January}
	apr := wallet.Period{Year: 2026, Month: time.April}
	amount := wallet.TengeToTiyn(4325)
	lines := []wallet.NoticeLine{{MemberID: 1, Name: "Айгүл Н.", Self: true, Amount: amount}, {MemberID: 3, Name: "Динара Н.", Amount: amount}}
	base := wallet.Notice{Lines: lines, Period: jan, Deadline: prog.Deadline(jan), City: "kokshetau"}
	with := func(k wallet.NoticeKind, f func(*wallet.Notice)) wallet.Notice {
		n := base
		n.Kind = k
		if f != nil {
			f(&n)
		}
		return n
	}
	tests := []struct {
		name   string
		n      wallet.Notice
		lang   string
		want   []string
		button bool
	}{
		{"issued kk", with(wallet.NoticeIssued, nil), "kk",
			[]string{"2026 жылғы қаңтар", "31 қаңтар, 23:59", "• Сіз: 4\u00a0325\u00a0₸", "• Динара Н.: 4\u00a0325\u00a0₸", "Барлығы: 8\u00a0650\u00a0₸"}, false},
		{"issued ru", with(wallet.NoticeIssued, nil), "ru",
			[]string{"январь 2026", "31 января, 23:59", "• Вы: 4\u00a0325\u00a0₸", "Всего: 8\u00a0650\u00a0₸"}, false},
		{"reminder D-3 kk", with(wallet.NoticeReminder, func(n *wallet.Notice) {
			n.DaysBefore, n.Now = 3, prog.ReminderAt(jan, 3)
		}), "kk", []string{"8\u00a0650\u00a0₸", "31 қаңтар, 23:59", "қалды: 3 күн"}, true},
		{"reminder D-3 ru", with(wallet.NoticeReminder, func(n *wallet.Notice) {
			n.DaysBefore, n.Now = 3, prog.ReminderAt(jan, 3)
		}), "ru", []string{"ваучеры на 8\u00a0650\u00a0₸", "до 31 января, 23:59", "осталось: 3 дня"}, true},
		{"reminder D-1 ru", with(wallet.NoticeReminder, func(n *wallet.Notice) {
			n.DaysBefore, n.Now = 1, prog.ReminderAt(jan, 1)
		}), "ru", []string{"осталось: 1 день"}, true},
		{"annulled kk", with(wallet.NoticeAnnulled, func(n *wallet.Notice) { n.NextIssue = prog.IssueAt(jan.Next()) }), "kk",
			[]string{"күші жойылды", "Келесі ваучерлер берілетін күн: 1 ақпан."}, false},
		{"annulled ru", with(wallet.NoticeAnnulled, func(n *wallet.Notice) { n.NextIssue = prog.IssueAt(jan.Next()) }), "ru",
			[]string{"аннулированы: январь 2026", "Следующие ваучеры выдаются: 1 февраля."}, false},
		{"annulled in the last period ru", with(wallet.NoticeAnnulled, func(n *wallet.Notice) { n.Period = apr }), "ru",
			[]string{"апрель 2026", "Программа завершена"}, false},
		{"expired kk", with(wallet.NoticeExpired, func(n *wallet.Notice) { n.ExpiredAt = prog.End }), "kk",
			[]string{"8\u00a0650\u00a0₸", "соңғы күн: 30 сәуір"}, false},
		{"expired ru", with(wallet.NoticeExpired, func(n *wallet.Notice) { n.ExpiredAt = prog.End }), "ru",
			[]string{"сгорел: 8\u00a0650\u00a0₸", "30 апреля"}, false},
		{"frozen kk names the city's department", with(wallet.NoticeFrozen, nil), "kk",
			[]string{"бұғатталды", "Көкшетау қаласының жұмыспен қамту"}, false},
		{"frozen ru, unknown city", with(wallet.NoticeFrozen, func(n *wallet.Notice) { n.City = "atlantis" }), "ru",
			[]string{"заморожен", "местный отдел занятости"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.n.Lang = tt.lang
			text, kb, err := bot.RenderNotice(b, prog, tt.n)
			if err != nil {
				t.Fatalf("RenderNotice(%s, %s) = %v", tt.n.Kind, tt.lang, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("RenderNotice(%s, %s) = %q; want %q in it", tt.n.Kind, tt.lang, text, w)
				}
			}
			if (kb != nil) != tt.button {
				t.Fatalf("RenderNotice(%s) keyboard = %v; want a button: %v", tt.n.Kind, kb, tt.button)
			}
			if kb != nil {
				btn := kb.InlineKeyboard[0][0]
				if btn.CallbackData == nil || *btn.CallbackData != "act:2026-01" || btn.Text != b.T(tt.lang, "notice_activate_button", nil) {
					t.Errorf("reminder button = %+v; want %q with act:2026-01", btn, b.T(tt.lang, "notice_activate_button", nil))
				}
			}
		})
	}
	if _, _, err := bot.RenderNotice(b, prog, with(wallet.NoticeReceipt, nil)); err == nil {
		t.Errorf("RenderNotice(receipt) = nil error; want receipts left to RenderReceipt")
	}
}
