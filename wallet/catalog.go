package wallet

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Unit of a catalogue product; quantities are thousandths of it.
type Unit string

const (
	UnitKg  Unit = "kg"
	UnitL   Unit = "l"
	UnitPcs Unit = "pcs"
)

// Product is one item of the official list of socially significant food products (СЗПТ).
type Product struct {
	Code   string
	NameKK string
	NameRU string
	Unit   Unit
}

// Name gives the product's name in lang ("kk" or "ru").
func (p Product) Name(lang string) string {
	if lang == "kk" {
		return p.NameKK
	}
	return p.NameRU
}

// ParseCatalogCSV reads code,name_kk,name_ru,unit (further columns, such as a
// source note, are ignored). Bad lines are returned as RowErrors.
func ParseCatalogCSV(in io.Reader) ([]Product, []RowError, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: read header: %w", err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if len(head) < 4 || strings.Join(head[:4], ",") != "code,name_kk,name_ru,unit" {
		return nil, nil, errors.New("catalog: header must start with code,name_kk,name_ru,unit")
	}
	var (
		out  []Product
		bad  []RowError
		seen = map[string]int{}
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{Line: pe.StartLine, Field: "row", Reason: pe.Err.Error()})
				continue
			}
			return nil, nil, fmt.Errorf("catalog: %w", err)
		}
		line, _ := cr.FieldPos(0)
		p, rerr := ParseCatalogRecord(rec, line)
		if rerr != nil {
			bad = append(bad, *rerr)
			continue
		}
		if first, ok := seen[p.Code]; ok {
			bad = append(bad, RowError{Line: line, Field: "code", Reason: fmt.Sprintf("duplicate of line %d", first)})
			continue
		}
		seen[p.Code] = line
		out = append(out, p)
	}
	return out, bad, nil
}

// ParseCatalogRecord validates one catalogue line.
func ParseCatalogRecord(rec []string, line int) (Product, *RowError) {
	if len(rec) < 4 {
		return Product{}, &RowError{Line: line, Field: "row", Reason: fmt.Sprintf("want at least 4 fields, got %d", len(rec))}
	}
	p := Product{Code: strings.TrimSpace(rec[0]), NameKK: strings.TrimSpace(rec[1]), NameRU: strings.TrimSpace(rec[2]), Unit: Unit(strings.TrimSpace(rec[3]))}
	if p.Code == "" || len(p.Code) > 64 || strings.ContainsAny(p.Code, " ,\t") {
		return Product{}, &RowError{Line: line, Field: "code", Reason: "must be 1–64 characters without spaces or commas"}
	}
	if p.NameKK == "" {
		return Product{}, &RowError{Line: line, Field: "name_kk", Reason: "must not be empty"}
	}
	if p.NameRU == "" {
		return Product{}, &RowError{Line: line, Field: "name_ru", Reason: "must not be empty"}
	}
	switch p.Unit {
	case UnitKg, UnitL, UnitPcs:
	default:
		return Product{}, &RowError{Line: line, Field: "unit", Reason: fmt.Sprintf("must be kg, l or pcs, not %q", p.Unit)}
	}
	return p, nil
}
