package wallet

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// RegistryHeader is the header of an АСП registry file, in this order.
var RegistryHeader = []string{"family_id", "city", "iin", "full_name", "phone", "role", "eligible_from", "eligible_until"}

// RegistryRow is one validated line of a registry file. The IIN itself is
// already reduced to its hash, last four digits and birth date.
type RegistryRow struct {
	Line          int
	FamilyID      string
	City          string
	IINHash       []byte
	IINLast4      string
	BirthDate     time.Time
	Female        bool
	FullName      string
	Phone         string
	Role          Role
	EligibleFrom  time.Time
	EligibleUntil time.Time
}

// RowError reports one rejected line of an input file.
type RowError struct {
	Line   int
	Field  string
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason) }

// ParseRegistryRecord validates the fields of one CSV record (already split).
func ParseRegistryRecord(rec []string, line int, prog *Program, secret []byte) (RegistryRow, *RowError) {
	fail := func(field, format string, args ...any) (RegistryRow, *RowError) {
		return RegistryRow{}, &RowError{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if len(rec) != len(RegistryHeader) {
		return fail("row", "want %d fields, got %d", len(RegistryHeader), len(rec))
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	r := RegistryRow{Line: line}
	r.FamilyID = rec[0]
	if r.FamilyID == "" || len(r.FamilyID) > 64 || strings.ContainsFunc(r.FamilyID, func(c rune) bool {
		return !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_')
	}) {
		return fail("family_id", "must be 1–64 letters, digits, '-' or '_'")
	}
	if _, ok := prog.City(rec[1]); !ok {
		return fail("city", "unknown city %q", rec[1])
	}
	r.City = rec[1]
	iin, err := ParseIIN(rec[2])
	if err != nil {
		return fail("iin", "%s", strings.TrimPrefix(errMessage(err), "iin: "))
	}
	r.IINHash, r.IINLast4, r.BirthDate, r.Female = iin.Hash(secret), iin.Last4(), iin.BirthDate, iin.Female
	r.FullName = strings.Join(strings.Fields(rec[3]), " ")
	if r.FullName == "" || len([]rune(r.FullName)) > 200 {
		return fail("full_name", "must be 1–200 characters")
	}
	if rec[4] != "" {
		p, err := NormalizePhone(rec[4])
		if err != nil {
			return fail("phone", "%s", strings.TrimPrefix(errMessage(err), "phone: "))
		}
		r.Phone = p
	}
	switch Role(rec[5]) {
	case RoleApplicant, RoleMember:
		r.Role = Role(rec[5])
	default:
		return fail("role", "must be %q or %q, not %q", RoleApplicant, RoleMember, rec[5])
	}
	if r.Role == RoleApplicant && r.Phone == "" {
		return fail("phone", "the applicant needs a phone")
	}
	from, err := time.Parse(time.DateOnly, rec[6])
	if err != nil {
		return fail("eligible_from", "want YYYY-MM-DD, got %q", rec[6])
	}
	r.EligibleFrom = from
	if rec[7] != "" {
		until, err := time.Parse(time.DateOnly, rec[7])
		if err != nil {
			return fail("eligible_until", "want YYYY-MM-DD or empty, got %q", rec[7])
		}
		if until.Before(from) {
			return fail("eligible_until", "%s is before eligible_from %s", rec[7], rec[6])
		}
		r.EligibleUntil = until
	}
	if r.BirthDate.After(r.EligibleFrom.AddDate(1, 0, 0)) {
		return fail("eligible_from", "is more than a year before the birth date in the IIN")
	}
	return r, nil
}

func errMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// ParseRegistryCSV reads a whole registry file. It returns the rows that may be
// written and every rejected line. A family is written whole or not at all: when
// one of its lines is bad, its other lines are reported too. err is only for a
// file that cannot be read as CSV with the right header.
func ParseRegistryCSV(in io.Reader, prog *Program, secret []byte) ([]RegistryRow, []RowError, error) {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("registry: read header: %w", err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	if strings.Join(head, ",") != strings.Join(RegistryHeader, ",") {
		return nil, nil, fmt.Errorf("registry: header must be %q", strings.Join(RegistryHeader, ","))
	}
	var (
		rows    []RegistryRow
		rejects []RowError
		badFam  = map[string]int{} // family id → first bad line
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Broken quoting can swallow the lines after it, so nothing read
			// from this file can be trusted to belong to the right family.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, []RowError{{Line: pe.StartLine, Field: "row", Reason: pe.Err.Error() + "; the file is not imported"}}, nil
			}
			return nil, nil, fmt.Errorf("registry: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		r, rerr := ParseRegistryRecord(rec, line, prog, secret)
		if rerr != nil {
			rejects = append(rejects, *rerr)
			if len(rec) > 0 {
				if fid := strings.TrimSpace(rec[0]); fid != "" {
					if _, ok := badFam[fid]; !ok {
						badFam[fid] = line
					}
				}
			}
			continue
		}
		rows = append(rows, r)
	}
	rows, more := CheckFamilies(rows, badFam)
	rejects = append(rejects, more...)
	sortRowErrors(rejects)
	return rows, rejects, nil
}

// CheckFamilies applies the rules that span lines: one IIN appears once, a
// family has exactly one applicant and one city, and a family with any bad line
// (badFam: family id → its first bad line) is left out whole.
func CheckFamilies(rows []RegistryRow, badFam map[string]int) ([]RegistryRow, []RowError) {
	var rejects []RowError
	rejectFam := func(fid string, line int) {
		if _, ok := badFam[fid]; !ok {
			badFam[fid] = line
		}
	}
	seenIIN := map[string]RegistryRow{}
	applicants := map[string]int{}
	city := map[string]string{}
	for _, r := range rows {
		k := string(r.IINHash)
		if first, ok := seenIIN[k]; ok {
			rejects = append(rejects, RowError{Line: r.Line, Field: "iin", Reason: fmt.Sprintf("same IIN as line %d", first.Line)})
			rejectFam(r.FamilyID, r.Line)
			rejectFam(first.FamilyID, first.Line)
			continue
		}
		seenIIN[k] = r
		if r.Role == RoleApplicant {
			applicants[r.FamilyID]++
		}
		if c, ok := city[r.FamilyID]; ok && c != r.City {
			rejects = append(rejects, RowError{Line: r.Line, Field: "city", Reason: fmt.Sprintf("family %s is in %s on an earlier line", r.FamilyID, c)})
			rejectFam(r.FamilyID, r.Line)
		}
		city[r.FamilyID] = r.City
	}
	reported := map[string]bool{}
	for _, r := range rows {
		if n := applicants[r.FamilyID]; n != 1 && !reported[r.FamilyID] {
			reported[r.FamilyID] = true
			if _, bad := badFam[r.FamilyID]; !bad {
				rejects = append(rejects, RowError{Line: r.Line, Field: "role", Reason: fmt.Sprintf("family %s has %d applicants; exactly one is needed", r.FamilyID, n)})
				rejectFam(r.FamilyID, r.Line)
			}
		}
	}
	var good []RegistryRow
	reportedLine := map[int]bool{}
	for _, e := range rejects {
		reportedLine[e.Line] = true
	}
	for _, r := range rows {
		first, bad := badFam[r.FamilyID]
		if !bad {
			good = append(good, r)
			continue
		}
		if first != r.Line && !reportedLine[r.Line] {
			rejects = append(rejects, RowError{Line: r.Line, Field: "family_id", Reason: fmt.Sprintf("family %s is not imported: line %d is rejected", r.FamilyID, first)})
		}
	}
	return good, rejects
}

// ImportResult says what an import did.
type ImportResult struct {
	Families, Inserted, Updated, Unchanged int
	Rejected                               []RowError
}

func sortRowErrors(errs []RowError) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
}
