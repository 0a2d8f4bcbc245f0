// Package data ships reference data with the binary: the official list of
// socially significant food products (СЗПТ) as could be confirmed.
package data

import (
	"bytes"
	_ "embed"
	"io"
)

//go:embed szpt-2026.csv
var szpt []byte

// SZPT returns the shipped СЗПТ list as CSV (code,name_kk,name_ru,unit,source).
func SZPT() io.Reader { return bytes.NewReader(szpt) }
