package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/clock"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"

	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
)

// cli runs the binary's run() as an operator would, with its own environment.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T, fakeNow string) *cli {
	return &cli{t: t, env: map[string]string{
		"DATABASE_URL": pgtest.URL(t),
		"SW_SECRET":    "cli-test-secret-0123456789",
		"SW_ENV":       "test",
		"SW_FAKE_NOW":  fakeNow,
	}}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"socialwallet"}, args...), func(k string) string { return c.env[k] }, &out, &errb)
	if err != nil {
		code = exitCode(err)
		if code == 0 {
			c.t.Fatalf("run(%v) = %v with exit code 0", args, err)
		}
	}
	return out.String(), errb.String(), code
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIOperatorDay(t *testing.T) {
	c := newCLI(t, "2026-02-01T00:05:00+05:00")
	if out, errs, code := c.run("migrate"); code != 0 || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate = %q %q %d", out, errs, code)
	}
	g := fixtures.NewGen()
	var buf bytes.Buffer
	people := append(g.Family(1, "kokshetau", 4), g.Family(2, "akkol", 2)...)
	fixtures.WriteRegistry(&buf, people)
	buf.WriteString("F9,kokshetau,123456789012,Қате Адам,+77010000009,applicant,2026-01-01,\n")
	reg := writeFile(t, "registry.csv", buf.String())

	out, errs, code := c.run("import-registry", "--dry-run", reg)
	if code != 1 || !strings.Contains(out, "nothing written") || !strings.Contains(errs, "line 8: iin:") {
		t.Errorf("import-registry --dry-run = %q %q exit %d; want the bad line reported, exit 1", out, errs, code)
	}
	out, errs, code = c.run("import-registry", reg)
	if code != 1 || !strings.Contains(out, "2 families; members new 6") || !regexp.MustCompile(`(?m)^line 8: iin: `).MatchString(errs) {
		t.Errorf("import-registry = %q %q exit %d; want 6 members in, line 8 rejected, exit 1", out, errs, code)
	}
	out, _, _ = c.run("import-registry", reg)
	if !strings.Contains(out, "members new 0, changed 0, unchanged 6") {
		t.Errorf("import-registry again = %q; want nothing changed", out)
	}
	if out, errs, code := c.run("import-catalog"); code != 0 || !strings.Contains(out, "products changed") {
		t.Errorf("import-catalog = %q %q %d", out, errs, code)
	}
	if out, errs, code := c.run("issue", "--period", "2026-02"); code != 0 || !strings.Contains(out, "6 vouchers issued now, 4\u00a0325\u00a0₸ each") {
		t.Errorf("issue = %q %q %d", out, errs, code)
	}
	if out, _, _ := c.run("issue", "--period", "2026-02"); !strings.Contains(out, "0 vouchers issued now") {
		t.Errorf("issue again = %q; want 0", out)
	}
	if _, errs, code := c.run("annul", "--period", "2026-02"); code == 0 || !strings.Contains(errs, "may be annulled from 2026-03-01") {
		t.Errorf("annul before the deadline = %q exit %d; want refused", errs, code)
	}
	out, errs, code = c.run("family", "show", "F0000001")
	if code != 0 || !strings.Contains(out, "remaining value: 0\u00a0₸") || strings.Count(out, "2026-02") < 4 {
		t.Errorf("family show = %q %q %d", out, errs, code)
	}
	for _, p := range people {
		if strings.Contains(out, p.IIN) {
			t.Errorf("family show prints a full IIN")
		}
		if p.FamilyID == "F0000001" && !strings.Contains(out, "••••••••"+p.IIN[8:]) {
			t.Errorf("family show lacks the masked IIN of %s", p.FullName)
		}
	}
	// The applicant activates for herself and the children: family show then
	// has the value and one activation row per voucher in its ledger.
	activated := activateAsApplicant(t, c, "F0000001", wallet.Period{Year: 2026, Month: time.February})
	out, errs, code = c.run("family", "show", "F0000001")
	want := "remaining value: " + (wallet.Tiyn(len(activated)) * 432500).String()
	if code != 0 || len(activated) < 2 || !strings.Contains(out, want) {
		t.Errorf("family show after %d activations = %q %q %d; want %q", len(activated), out, errs, code, want)
	}
	for _, v := range activated {
		row := regexp.MustCompile(`(?m)^ +\d+ +` + strconv.FormatInt(v.ID, 10) + ` +activation +4\x{a0}325\x{a0}₸ +2026-02-01 00:05:00$`)
		if !row.MatchString(out) {
			t.Errorf("family show = %q; want the activation row of voucher %d", out, v.ID)
		}
	}
	if _, errs, code := c.run("family", "show", "F404"); code != 1 || !strings.Contains(errs, "family F404") {
		t.Errorf("family show F404 = %q exit %d; want not found", errs, code)
	}
}

// activateAsApplicant gives the consent of the family's applicant and
// activates what she may of period p, as the bot would, on the CLI's database
// at the CLI's clock.
func activateAsApplicant(t *testing.T, c *cli, family string, p wallet.Period) []wallet.Voucher {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, c.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	now, err := time.Parse(time.RFC3339, c.env["SW_FAKE_NOW"])
	if err != nil {
		t.Fatal(err)
	}
	svc := wallet.NewService(program.Default(), clock.Frozen(now), []byte(c.env["SW_SECRET"]), postgres.New(pool))
	var applicant int64
	if err := pool.QueryRow(ctx, `SELECT id FROM members WHERE family_id = $1 AND role = 'applicant'`, family).Scan(&applicant); err != nil {
		t.Fatal(err)
	}
	if err := svc.GiveConsent(ctx, applicant); err != nil {
		t.Fatalf("GiveConsent(%d) = %v", applicant, err)
	}
	got, err := svc.Activate(ctx, applicant, p)
	if err != nil {
		t.Fatalf("Activate(%d, %s) = %v", applicant, p, err)
	}
	return got
}

func TestCLIMerchants(t *testing.T) {
	c := newCLI(t, "2026-01-10T10:00:00+05:00")
	c.run("migrate")
	if _, errs, code := c.run("merchant", "add", "--name", "Магнум", "--city", "kokshetau", "--discount", "16"); code != 1 || !strings.Contains(errs, "above the programme's maximum 15.00 %") {
		t.Errorf("merchant add 16 %% = %q exit %d; want refused", errs, code)
	}
	if _, errs, code := c.run("merchant", "add", "--name", "X", "--city", "almaty", "--discount", "10"); code != 1 || !strings.Contains(errs, "unknown city") {
		t.Errorf("merchant add in an unknown city = %q exit %d", errs, code)
	}
	out, _, code := c.run("merchant", "add", "--name", "Дәмді", "--city", "akkol", "--address", "Абай 1", "--lat", "51.99", "--lon", "70.94", "--discount", "12.5")
	key := regexp.MustCompile(`swk_[A-Za-z0-9_-]{43}`).FindString(out)
	if code != 0 || !strings.Contains(out, "merchant 1 added") || key == "" {
		t.Fatalf("merchant add = %q exit %d; want id and key", out, code)
	}
	out, _, _ = c.run("merchant", "list")
	if !strings.Contains(out, "Дәмді") || !strings.Contains(out, "12.50 %") || strings.Contains(out, key) {
		t.Errorf("merchant list = %q; want the merchant without its key", out)
	}
	out, _, code = c.run("merchant", "rotate-key", "1")
	if newKey := regexp.MustCompile(`swk_[A-Za-z0-9_-]{43}`).FindString(out); code != 0 || newKey == "" || newKey == key {
		t.Errorf("rotate-key = %q exit %d; want a new key", out, code)
	}
	if out, _, code := c.run("merchant", "disable", "1"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("disable = %q exit %d", out, code)
	}
	if out, _, _ := c.run("merchant", "list"); !strings.Contains(out, "disabled") {
		t.Errorf("merchant list after disable = %q", out)
	}
	if _, errs, code := c.run("merchant", "rotate-key", "1"); code != 1 || !strings.Contains(errs, "no active merchant 1") {
		t.Errorf("rotate-key of a disabled merchant = %q exit %d", errs, code)
	}
}

func TestCLIUsage(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	for _, cmd := range []string{"migrate", "import-registry", "import-catalog", "issue", "annul", "expire", "family", "merchant",
		"merchant add", "merchant list", "merchant rotate-key", "merchant disable", "family show", "family unfreeze",
		"serve", "sandbox", "report", "health", "program"} {
		out, _, code := c.run(append(strings.Fields(cmd), "--help")...)
		if code != 0 || !strings.Contains(out, "usage: socialwallet "+cmd) {
			t.Errorf("%s --help = %q exit %d; want its usage on stdout", cmd, out, code)
		}
	}
	if _, errs, code := c.run("frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown command = %q exit %d; want exit 2", errs, code)
	}
	if _, _, code := c.run("issue", "--period", "2026-13"); code != 2 {
		t.Errorf("issue --period 2026-13 exit %d; want 2", code)
	}
	c.env["SW_FAKE_NOW"] = "2026-01-01T00:00:00+05:00"
	if _, errs, code := c.run("migrate"); code != 2 || !strings.Contains(errs, "SW_FAKE_NOW: refused when SW_ENV=production") {
		t.Errorf("SW_FAKE_NOW in production: %q exit %d; want refused with exit 2", errs, code)
	}
	c.env = map[string]string{"SW_ENV": "test"}
	if _, _, code := c.run("import-registry", "x.csv"); code != 1 {
		t.Errorf("import-registry without SW_SECRET exit %d; want 1", code)
	}
}
