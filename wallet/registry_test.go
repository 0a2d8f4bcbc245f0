package wallet

import (
	"strings"
	"testing"
)

var testSecret = []byte("test-secret-0123456789")

const goodApplicant = "F1,kokshetau,850415300012,Нұрланова Айгүл,8 701 234 56 78,applicant,2026-01-01,"

func TestParseRegistryRecord(t *testing.T) {
	p := testProgram(t)
	tests := []struct {
		name  string
		line  string
		field string // "" = valid
	}{
		{"applicant", goodApplicant, ""},
		{"member without phone", "F1,kokshetau,150601500014,Нұрланов Данияр,,member,2026-01-01,2026-12-31", ""},
		{"bad checksum", "F1,kokshetau,850415300013,X Y,+77012345678,applicant,2026-01-01,", "iin"},
		{"short IIN", "F1,kokshetau,85041530001,X Y,+77012345678,applicant,2026-01-01,", "iin"},
		{"unknown city", "F1,almaty,850415300012,X Y,+77012345678,applicant,2026-01-01,", "city"},
		{"malformed phone", "F1,kokshetau,850415300012,X Y,12345,applicant,2026-01-01,", "phone"},
		{"applicant without phone", "F1,kokshetau,850415300012,X Y,,applicant,2026-01-01,", "phone"},
		{"bad role", "F1,kokshetau,850415300012,X Y,+77012345678,head,2026-01-01,", "role"},
		{"bad date", "F1,kokshetau,850415300012,X Y,+77012345678,applicant,01.01.2026,", "eligible_from"},
		{"until before from", "F1,kokshetau,850415300012,X Y,+77012345678,applicant,2026-02-01,2026-01-01", "eligible_until"},
		{"bad until", "F1,kokshetau,850415300012,X Y,+77012345678,applicant,2026-02-01,soon", "eligible_until"},
		{"empty name", "F1,kokshetau,850415300012,  ,+77012345678,applicant,2026-01-01,", "full_name"},
		{"empty family", ",kokshetau,850415300012,X Y,+77012345678,applicant,2026-01-01,", "family_id"},
		{"family with a space", "F 1,kokshetau,850415300012,X Y,+77012345678,applicant,2026-01-01,", "family_id"},
		{"too few fields", "F1,kokshetau,850415300012", "row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := ParseRegistryRecord(strings.Split(tt.line, ","), 7, p, testSecret)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ParseRegistryRecord(%q) = %v; want valid", tt.line, err)
				}
				if len(row.IINHash) != 32 || row.IINLast4 == "" || row.BirthDate.IsZero() {
					t.Errorf("ParseRegistryRecord(%q) = %+v; want hash, last four and birth date", tt.line, row)
				}
				return
			}
			if err == nil || err.Field != tt.field || err.Line != 7 {
				t.Errorf("ParseRegistryRecord(%q) = %v; want line 7 field %s", tt.line, err, tt.field)
			}
		})
	}
}

func TestParseRegistryCSV(t *testing.T) {
	p := testProgram(t)
	file := strings.Join([]string{
		strings.Join(RegistryHeader, ","),
		goodApplicant, // 2
		"F1,kokshetau,150601500014,Нұрланов Данияр,,member,2026-01-01,",            // 3
		"F2,akkol,900101400013,Омарова Жанар,+77011112233,applicant,2026-01-01,",   // 4: family F2 ok
		"F3,akkol,991231100010,Исаев Асхат,+77011112234,member,2026-01-01,",        // 5: F3 has no applicant
		"F4,akkol,120229600019,Ахметова Динара,+77011112235,applicant,2026-01-01,", // 6
		"F4,akkol,850415300013,Ахметов Ерлан,,member,2026-01-01,",                  // 7: bad checksum → F4 out
		"F5,akkol,850415300302,Бекенова Сәуле,+77011112236,applicant,2026-01-01,",  // 8
		"F5,akkol,850415300302,Бекенова Сәуле,+77011112236,member,2026-01-01,",     // 9: same IIN twice
		"F6,kokshetau,850415300012,X,+77011112237,applicant,2026-01-01,,extra",     // 10: field count
		"F7,kokshetau,150601500014,Y,,applicant,2026-01-01,",                       // 11: applicant without phone
	}, "\n") + "\n"
	rows, rejects, err := ParseRegistryCSV(strings.NewReader(file), p, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	fams := map[string]int{}
	for _, r := range rows {
		fams[r.FamilyID]++
	}
	if len(fams) != 2 || fams["F1"] != 2 || fams["F2"] != 1 {
		t.Errorf("good families = %v; want F1 (2 members) and F2 (1)", fams)
	}
	want := map[int]string{5: "role", 6: "family_id", 7: "iin", 9: "iin", 10: "row", 11: "phone"}
	got := map[int]string{}
	for _, r := range rejects {
		if _, dup := got[r.Line]; dup {
			t.Errorf("line %d reported twice", r.Line)
		}
		got[r.Line] = r.Field
	}
	for line, field := range want {
		if got[line] != field {
			t.Errorf("line %d rejected as %q; want %q (all: %v)", line, got[line], field, rejects)
		}
	}
	if _, ok := got[8]; !ok {
		t.Errorf("line 8 (family F5 with a duplicated IIN) not reported: %v", rejects)
	}
	if len(got) != len(want)+1 {
		t.Errorf("rejects = %v; want exactly lines 5–11", rejects)
	}
}

func TestParseRegistryCSVHeader(t *testing.T) {
	p := testProgram(t)
	for _, head := range []string{"", "family_id,city,iin", "id,city,iin,full_name,phone,role,eligible_from,eligible_until"} {
		if _, _, err := ParseRegistryCSV(strings.NewReader(head+"\n"), p, testSecret); err == nil {
			t.Errorf("ParseRegistryCSV(header %q) = nil error; want refused", head)
		}
	}
	// A BOM from spreadsheet exports is accepted.
	if _, _, err := ParseRegistryCSV(strings.NewReader("\ufeff"+strings.Join(RegistryHeader, ",")+"\n"), p, testSecret); err != nil {
		t.Errorf("ParseRegistryCSV(BOM header) = %v", err)
	}
}

func FuzzParseRegistryRecord(f *testing.F) {
	p := testProgram(f)
	f.Add(goodApplicant)
	f.Add("F1,akkol,150601500014,X,,member,2026-01-01,2026-02-01")
	f.Add(",,,,,,,")
	f.Fuzz(func(t *testing.T, line string) {
		rec := strings.Split(line, ",")
		row, err := ParseRegistryRecord(rec, 2, p, testSecret)
		if err != nil {
			if err.Line != 2 || err.Field == "" || err.Reason == "" {
				t.Fatalf("ParseRegistryRecord(%q) error %+v lacks line, field or reason", line, err)
			}
			return
		}
		if _, err := ParseIIN(strings.TrimSpace(rec[2])); err != nil {
			t.Fatalf("ParseRegistryRecord(%q) accepted an invalid IIN", line)
		}
		if row.Role != RoleApplicant && row.Role != RoleMember {
			t.Fatalf("ParseRegistryRecord(%q) role %q", line, row.Role)
		}
	})
}

func FuzzParseRegistryCSV(f *testing.F) {
	p := testProgram(f)
	head := strings.Join(RegistryHeader, ",") + "\n"
	f.Add(head + goodApplicant + "\n")
	f.Add(head + "\"unterminated\n")
	f.Add(head + "a,b\n\n" + goodApplicant)
	f.Fuzz(func(t *testing.T, body string) {
		rows, rejects, err := ParseRegistryCSV(strings.NewReader(head+body), p, testSecret)
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, r := range rejects {
			seen[r.Line] = true
		}
		for _, r := range rows {
			if seen[r.Line] {
				t.Fatalf("line %d both imported and rejected", r.Line)
			}
		}
	})
}

func TestParseRegistryCSVBrokenQuoting(t *testing.T) {
	p := testProgram(t)
	file := strings.Join(RegistryHeader, ",") + "\n" + goodApplicant + "\n" +
		"F2,akkol,\"900101400013,Омарова,+77011112233,applicant,2026-01-01,\n" +
		"F3,akkol,991231100010,Исаев,+77011112234,applicant,2026-01-01,\n"
	rows, rejects, err := ParseRegistryCSV(strings.NewReader(file), p, testSecret)
	if err != nil || len(rows) != 0 || len(rejects) != 1 || rejects[0].Line != 3 {
		t.Errorf("ParseRegistryCSV(broken quote on line 3) = %d rows, %v, %v; want no rows and line 3 reported", len(rows), rejects, err)
	}
}

func TestParseCatalogCSV(t *testing.T) {
	file := "code,name_kk,name_ru,unit,source\n" +
		"potato,Картоп,Картофель,kg,order 2026\n" +
		"milk,Сүт,Молоко,l,order 2026\n" +
		"eggs,Жұмыртқа,Яйца,pcs,x\n" +
		"potato,Картоп,Картофель,kg,dup\n" +
		"salt,Тұз,Соль,pack,x\n" +
		"bad code,Х,Х,kg,x\n" +
		"onion,,Лук,kg,x\n"
	products, bad, err := ParseCatalogCSV(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != 3 {
		t.Errorf("ParseCatalogCSV = %d products; want 3", len(products))
	}
	want := map[int]string{5: "code", 6: "unit", 7: "code", 8: "name_kk"}
	if len(bad) != len(want) {
		t.Fatalf("ParseCatalogCSV rejects = %v; want lines 5–8", bad)
	}
	for _, b := range bad {
		if want[b.Line] != b.Field {
			t.Errorf("line %d rejected as %s; want %s", b.Line, b.Field, want[b.Line])
		}
	}
	if products[0].Name("kk") != "Картоп" || products[0].Name("ru") != "Картофель" {
		t.Errorf("Name() = %q/%q", products[0].Name("kk"), products[0].Name("ru"))
	}
}
