package postgres_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"socialwallet/internal/fixtures"
	"socialwallet/wallet"
)

func registryFile(lines ...string) *bytes.Buffer {
	return bytes.NewBufferString(strings.Join(wallet.RegistryHeader, ",") + "\n" + strings.Join(lines, "\n") + "\n")
}

func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportGoodAndBadRows(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-06 09:00:00"))
	g := fixtures.NewGen()
	a := g.Family(1, "kokshetau", 3)
	b := g.Family(2, "akkol", 2)
	c := g.Family(3, "pavlodar", 2)
	badIIN := c[1]
	badIIN.IIN = badIIN.IIN[:11] + string('0'+(badIIN.IIN[11]-'0'+1)%10)
	lines := []string{
		a[0].CSVLine(), a[1].CSVLine(), a[2].CSVLine(), // 2–4 good
		b[0].CSVLine(), strings.Replace(b[1].CSVLine(), ",akkol,", ",almaty,", 1), // 5 good, 6 unknown city
		c[0].CSVLine(), badIIN.CSVLine(), // 7 family of a bad line, 8 bad checksum
		"F9,kokshetau,not-an-iin,X,+77010000000,applicant,2026-01-01,", // 9
	}
	file := registryFile(lines...).String()
	res, err := e.svc.ImportRegistry(e.ctx, strings.NewReader(file), false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{5: "family_id", 6: "city", 7: "family_id", 8: "iin", 9: "iin"}
	got := map[int]string{}
	for _, r := range res.Rejected {
		got[r.Line] = r.Field
		if !strings.HasPrefix(r.Error(), "line ") || r.Reason == "" {
			t.Errorf("reject %q lacks 'line N: field: reason'", r.Error())
		}
	}
	for line, field := range want {
		if got[line] != field {
			t.Errorf("line %d rejected as %q; want %q (all %v)", line, got[line], field, res.Rejected)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rejected %v; want lines 5–9 only", res.Rejected)
	}
	if res.Families != 1 || res.Inserted != 3 || e.count(t, "members") != 3 || e.count(t, "families") != 1 {
		t.Errorf("import = %+v, %d members, %d families; want only family 1 with 3 members", res, e.count(t, "members"), e.count(t, "families"))
	}
	// The same file again changes nothing.
	res2, err := e.svc.ImportRegistry(e.ctx, strings.NewReader(file), false)
	if err != nil || res2.Inserted != 0 || res2.Updated != 0 || res2.Unchanged != 3 || len(res2.Rejected) != len(res.Rejected) {
		t.Errorf("second import = %+v, %v; want 3 unchanged and the same rejects", res2, err)
	}
	var updated int
	e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM members WHERE updated_at <> created_at`).Scan(&updated)
	if updated != 0 {
		t.Errorf("%d members were rewritten by an identical import; want 0", updated)
	}
}

func TestImportRefusesAnIINOfAnotherFamily(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-06 09:00:00"))
	g := fixtures.NewGen()
	a := g.Family(1, "kokshetau", 2)
	if res, err := e.svc.ImportRegistry(e.ctx, registryFile(a[0].CSVLine(), a[1].CSVLine()), false); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("first import = %+v, %v", res, err)
	}
	b := g.Family(2, "akkol", 2)
	moved := a[1]
	moved.FamilyID = b[0].FamilyID
	moved.City = "akkol"
	res, err := e.svc.ImportRegistry(e.ctx, registryFile(b[0].CSVLine(), b[1].CSVLine(), moved.CSVLine()), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 3 || res.Rejected[2].Field != "iin" || !strings.Contains(res.Rejected[2].Reason, a[0].FamilyID) {
		t.Errorf("rejects = %v; want line 4 (IIN of family %s) and the rest of its family", res.Rejected, a[0].FamilyID)
	}
	if e.count(t, "families") != 1 || e.count(t, "members") != 2 {
		t.Errorf("%d families, %d members; want the refused family not written", e.count(t, "families"), e.count(t, "members"))
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-06 09:00:00"))
	f := fixtures.NewGen().Family(1, "pavlodar", 4)
	var lines []string
	for _, p := range f {
		lines = append(lines, p.CSVLine())
	}
	res, err := e.svc.ImportRegistry(e.ctx, registryFile(lines...), true)
	if err != nil || res.Inserted != 4 || e.count(t, "members") != 0 {
		t.Errorf("dry run = %+v, %v, %d members written; want 4 would-be inserts and nothing written", res, err, e.count(t, "members"))
	}
}

func TestImportUpdatesAndReplacesTheApplicant(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-06 09:00:00"))
	f := fixtures.NewGen().Family(1, "akkol", 2)
	if _, err := e.svc.ImportRegistry(e.ctx, registryFile(f[0].CSVLine(), f[1].CSVLine()), false); err != nil {
		t.Fatal(err)
	}
	f[0].Role, f[1].Role = wallet.RoleMember, wallet.RoleApplicant
	f[0].EligibleTo = "2026-03-31"
	res, err := e.svc.ImportRegistry(e.ctx, registryFile(f[0].CSVLine(), f[1].CSVLine()), false)
	if err != nil || len(res.Rejected) > 0 || res.Updated != 2 {
		t.Fatalf("re-import with a new applicant = %+v, %v; want 2 updated", res, err)
	}
	fv, _ := e.store.FamilyView(e.ctx, f[0].FamilyID)
	roles := map[string]wallet.Role{}
	for _, m := range fv.Members {
		roles[m.IINLast4] = m.Role
		if m.IINLast4 == f[0].IIN[8:] && m.EligibleUntil.Format(time.DateOnly) != "2026-03-31" {
			t.Errorf("eligible_until = %v; want 2026-03-31", m.EligibleUntil)
		}
	}
	if roles[f[1].IIN[8:]] != wallet.RoleApplicant || roles[f[0].IIN[8:]] != wallet.RoleMember {
		t.Errorf("roles = %v; want the father applicant now", roles)
	}
}

func TestImportHundredThousandRows(t *testing.T) {
	if testing.Short() {
		t.Skip("large import skipped in -short")
	}
	e := newEnv(t, almaty(t, "2026-01-06 09:00:00"))
	g := fixtures.NewGen()
	var buf bytes.Buffer
	var people []fixtures.Person
	for i := 0; i < 25000; i++ {
		people = append(people, g.Family(i, []string{"kokshetau", "akkol", "pavlodar"}[i%3], 4)...)
	}
	fixtures.WriteRegistry(&buf, people)
	start := time.Now()
	res, err := e.svc.ImportRegistry(e.ctx, &buf, false)
	if err != nil || len(res.Rejected) > 0 || res.Inserted != 100000 {
		t.Fatalf("ImportRegistry(100 000 rows) = %d inserted, %d rejected, %v", res.Inserted, len(res.Rejected), err)
	}
	t.Logf("100 000 registry rows imported in %s (one COPY, set-based upsert)", time.Since(start).Round(time.Millisecond))
}
