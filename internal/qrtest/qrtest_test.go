package qrtest_test

import (
	"testing"
	"time"

	"socialwallet/bot"
	"socialwallet/internal/qrtest"
	"socialwallet/wallet"
)

// Every token the bot may show decodes: the tokens are random, so a decoder
// that misses one shape of code in a few hundred would make tests flaky.
func TestDecodeReadsEveryToken(t *testing.T) {
	secret := []byte("qrtest-secret-0123456789")
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	for i := range 400 {
		signed := wallet.NewQRToken(int64(i+1), now, 5*time.Minute).Sign(secret)
		img, err := bot.QRPNG(signed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := qrtest.Decode(img)
		if err != nil || got != signed {
			t.Fatalf("Decode(QR of token %d) = %q, %v; want %q", i, got, err, signed)
		}
	}
}
