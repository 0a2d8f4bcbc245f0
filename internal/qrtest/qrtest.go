// Package qrtest reads the bot's QR photos back in tests, as a cashier's
// scanner would.
package qrtest

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Decode returns the text of the QR code in a PNG. gozxing's finder-pattern
// detector misses some valid codes on its quick pass (as one scanner app
// may where another reads at once), so it tries again harder before giving up.
func Decode(b []byte) (string, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("qrtest: not a PNG: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("qrtest: %w", err)
	}
	var last error
	for _, hints := range []map[gozxing.DecodeHintType]any{
		nil,
		{gozxing.DecodeHintType_TRY_HARDER: true},
		{gozxing.DecodeHintType_PURE_BARCODE: true},
	} {
		res, err := gzqr.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return res.GetText(), nil
		}
		last = err
	}
	return "", fmt.Errorf("qrtest: no QR code found: %w", last)
}
