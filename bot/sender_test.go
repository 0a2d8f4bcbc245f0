package bot_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/wallet"
)

func TestSenderClassifiesTelegramsAnswers(t *testing.T) {
	srv := telegramtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	api, err := bot.NewAPI(ctx, srv.Token(), srv.Endpoint(), nil)
	if err != nil {
		t.Fatal(err)
	}
	prog := program.Default()
	s := bot.NewSender(api, locales.MustLoad(), prog, nil, nil)
	jan := wallet.Period{Year: 2026, Month: time.January}
	notice := func(chat int64, k wallet.NoticeKind) wallet.Notice {
		return wallet.Notice{Kind: k, ChatID: chat, Lang: "kk", Period: jan, Deadline: prog.Deadline(jan), Now: prog.ReminderAt(jan, 7),
			Lines: []wallet.NoticeLine{{MemberID: 1, Name: "Айгүл Н.", Self: true, Amount: wallet.TengeToTiyn(4325)}}}
	}
	tests := []struct {
		name    string
		fault   *telegramtest.Fault
		kind    wallet.NoticeKind
		failure wallet.DeliveryFailure
		retry   time.Duration
		ok      bool
	}{
		{"delivered", nil, wallet.NoticeReminder, 0, 0, true},
		{"403 blocked", &telegramtest.Fault{Code: http.StatusForbidden}, wallet.NoticeReminder, wallet.DeliveryBlocked, 0, false},
		{"429 throttled", &telegramtest.Fault{Code: http.StatusTooManyRequests, RetryAfter: 3}, wallet.NoticeIssued, wallet.DeliveryThrottled, 3 * time.Second, false},
		{"502 temporary", &telegramtest.Fault{Code: http.StatusBadGateway}, wallet.NoticeIssued, wallet.DeliveryTemporary, 0, false},
		{"503 page from a proxy temporary", &telegramtest.Fault{Code: http.StatusServiceUnavailable, HTML: true}, wallet.NoticeIssued, wallet.DeliveryTemporary, 0, false},
		{"400 rejected", &telegramtest.Fault{Code: http.StatusBadRequest, Description: "Bad Request: chat not found"}, wallet.NoticeIssued, wallet.DeliveryRejected, 0, false},
		{"receipt without a renderer rejected", nil, wallet.NoticeReceipt, wallet.DeliveryRejected, 0, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chat := int64(100 + i)
			if tt.fault != nil {
				f := *tt.fault
				f.Chat, f.Times = chat, 1
				srv.InjectFault(f)
			}
			err := s.Send(ctx, notice(chat, tt.kind))
			if tt.ok {
				if err != nil {
					t.Fatalf("Send() = %v; want delivered", err)
				}
				msgs := srv.Messages(chat)
				if len(msgs) != 1 {
					t.Fatalf("chat %d has %d messages; want 1", chat, len(msgs))
				}
				if _, ok := msgs[0].ButtonWithData("act:2026-01"); !ok {
					t.Errorf("reminder delivered without its Activate button: %+v", msgs[0].Buttons())
				}
				return
			}
			var de *wallet.DeliveryError
			if !errors.As(err, &de) || de.Failure != tt.failure || de.RetryAfter != tt.retry {
				t.Fatalf("Send() = %v; want a %s delivery error (retry after %v)", err, tt.failure, tt.retry)
			}
			if len(srv.Messages(chat)) != 0 {
				t.Errorf("a failed send left a message in chat %d", chat)
			}
		})
	}
}
