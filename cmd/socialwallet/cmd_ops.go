package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "", `Applies every pending database migration (the wallet's tables and River's
job tables) to DATABASE_URL. Safe to run again; run it before serve after
every upgrade.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	pool, _, err := openStore(ctx, e, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "migrations applied: %d\n", n)
	return nil
}

func cmdImportRegistry(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import-registry", "[--dry-run] FILE.csv", `Loads the АСП registry: a UTF-8 CSV file with the header
  family_id,city,iin,full_name,phone,role,eligible_from,eligible_until
role is applicant or member; dates are YYYY-MM-DD; eligible_until may be empty.
Valid families are upserted (importing the same file again changes nothing);
each rejected line is printed as "line N: field: reason" and a family with a
rejected line is not written at all. Exit status 1 when any line was rejected.
IINs are stored only as a keyed hash (SW_SECRET), their last four digits and
the birth date.`)
	dry := fs.Bool("dry-run", false, "validate against the file and the database, write nothing")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	if err := e.cfg.requireSecret(); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := e.service(st)
	if err != nil {
		return err
	}
	res, err := svc.ImportRegistry(ctx, f, *dry)
	if err != nil {
		return err
	}
	for _, r := range res.Rejected {
		fmt.Fprintln(e.stderr, r.Error())
	}
	verb := "imported"
	if *dry {
		verb = "dry run, nothing written; would import"
	}
	fmt.Fprintf(e.stdout, "%s: %d families; members new %d, changed %d, unchanged %d; lines rejected %d\n",
		verb, res.Families, res.Inserted, res.Updated, res.Unchanged, len(res.Rejected))
	if len(res.Rejected) > 0 {
		return exitError{1, errSilent}
	}
	return nil
}

func cmdImportCatalog(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import-catalog", "[FILE.csv]", `Loads the list of socially significant food products (СЗПТ): a CSV file with
the header code,name_kk,name_ru,unit (unit kg, l or pcs; further columns are
ignored). The catalogue becomes exactly the file: products no longer listed are
deactivated. Without FILE the shipped list (data/szpt-2026.csv) is loaded. Any
bad line rejects the whole file (exit status 1).`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	var in interface {
		Read([]byte) (int, error)
	}
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else {
		in = shippedCatalog()
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := e.service(st)
	if err != nil {
		return err
	}
	n, bad, err := svc.ImportCatalog(ctx, in)
	if err != nil {
		return err
	}
	for _, r := range bad {
		fmt.Fprintln(e.stderr, r.Error())
	}
	if len(bad) > 0 {
		fmt.Fprintf(e.stdout, "catalogue not changed: %d lines rejected\n", len(bad))
		return exitError{1, errSilent}
	}
	fmt.Fprintf(e.stdout, "catalogue loaded: %d products changed\n", n)
	return nil
}

func cmdIssue(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "issue", "--period YYYY-MM", `Issues one voucher per member of every family eligible on the period's first
day (or on the programme's start in its first month), worth the vouchers per
member times that year's MRP. Idempotent: running it again issues nothing new.`)
	period := fs.String("period", "", "the month to issue, YYYY-MM (required)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	svc, done, err := e.periodCommand(ctx, fs, *period)
	if err != nil {
		return err
	}
	defer done()
	p, _ := wallet.ParsePeriod(*period)
	n, err := svc.Issue(ctx, p)
	if err != nil {
		return userError(err)
	}
	amount, _ := svc.Program.VoucherAmount(p)
	fmt.Fprintf(e.stdout, "period %s: %d vouchers issued now, %s each; activation deadline %s\n",
		p, n, amount, svc.Program.Deadline(p).Format("2006-01-02 15:04 -07:00"))
	return nil
}

func cmdAnnul(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "annul", "--period YYYY-MM", `Annuls the period's vouchers that were not activated by its deadline (the first
instant of the next month, programme time). Refuses before the deadline. The
jobs of serve do this on time; the command is for an operator catching up.`)
	period := fs.String("period", "", "the month to annul, YYYY-MM (required)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	svc, done, err := e.periodCommand(ctx, fs, *period)
	if err != nil {
		return err
	}
	defer done()
	p, _ := wallet.ParsePeriod(*period)
	n, err := svc.Annul(ctx, p)
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "period %s: %d vouchers annulled\n", p, n)
	return nil
}

func cmdExpire(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "expire", "", `Lapses activated but unspent value whose expiry has come (the programme's
activated_funds_expire setting). The jobs of serve do this on time.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := e.service(st)
	if err != nil {
		return err
	}
	n, lapsed, err := svc.ExpireFunds(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d vouchers expired, %s lapsed\n", n, lapsed)
	return nil
}

func (e *env) periodCommand(ctx context.Context, fs *flag.FlagSet, period string) (*wallet.Service, func(), error) {
	if period == "" {
		fs.Usage()
		return nil, nil, exitError{2, errSilent}
	}
	if _, err := wallet.ParsePeriod(period); err != nil {
		return nil, nil, exitError{2, userError(err)}
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return nil, nil, err
	}
	svc, err := e.service(st)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return svc, pool.Close, nil
}

func cmdFamily(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "unfreeze" {
		return familyUnfreeze(ctx, e, args[1:])
	}
	if len(args) == 0 || (args[0] != "show" && args[0] != "-h" && args[0] != "--help") {
		fmt.Fprintln(e.stderr, "usage: socialwallet family show|unfreeze FAMILY_ID")
		return exitError{2, errSilent}
	}
	fs := newFlags(e, "family show", "FAMILY_ID", `Shows a family: its members (IINs masked), whether each is linked to Telegram
and has consented, the vouchers by period and state, the remaining value and
every ledger row.`)
	if args[0] != "show" {
		args = append([]string{"show"}, args...)
	}
	if err := parse(e, fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	fv, err := st.FamilyView(ctx, fs.Arg(0))
	if err != nil {
		return userError(err)
	}
	prog, err := e.cfg.program()
	if err != nil {
		return err
	}
	printFamily(e, prog, fv)
	return nil
}

// familyUnfreeze lifts the freeze a recipient's "Not me" put on a family.
func familyUnfreeze(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "family unfreeze", "FAMILY_ID", `Lifts the freeze a recipient's "Not me" put on a family's wallet, once the
purchase has been looked into: QR codes and purchases work again, and the
family's open freeze rows are closed (they stay for the record). Exit status
1 when the family is unknown or not frozen.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc, err := e.service(st)
	if err != nil {
		return err
	}
	if err := svc.UnfreezeFamily(ctx, fs.Arg(0)); err != nil {
		return userError(err)
	}
	fmt.Fprintf(e.stdout, "family %s unfrozen: codes and purchases work again\n", fs.Arg(0))
	return nil
}

func printFamily(e *env, prog *wallet.Program, fv wallet.FamilyView) {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	city := fv.City
	if c, ok := prog.City(fv.City); ok {
		city = c.NameRU
	}
	fmt.Fprintf(w, "family %s, %s", fv.ID, city)
	if fv.Frozen() {
		fmt.Fprintf(w, " — FROZEN since %s", fv.FrozenAt.In(prog.Location).Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(w, "\nremaining value: %s\n\nmembers\n", fv.Remaining())
	fmt.Fprintln(w, "id\tname\tIIN\tborn\trole\teligible\ttelegram\tconsent")
	for _, m := range fv.Members {
		tg := "no"
		if m.Linked {
			tg = "linked"
			if m.Blocked {
				tg = "blocked"
			}
		}
		consent := "none"
		if m.Consent.Active() {
			consent = "given " + m.Consent.Version
		} else if !m.Consent.GivenAt.IsZero() {
			consent = "revoked"
		}
		until := "…"
		if !m.EligibleUntil.IsZero() {
			until = m.EligibleUntil.Format(time.DateOnly)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s–%s\t%s\t%s\n", m.ID, m.FullName, wallet.MaskIIN(m.IINLast4),
			m.BirthDate.Format(time.DateOnly), m.Role, m.EligibleFrom.Format(time.DateOnly), until, tg, consent)
	}
	fmt.Fprintln(w, "\nvouchers\nid\tperiod\tmember\tamount\tremaining\tstate\texpires")
	for _, v := range fv.Vouchers {
		fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", v.ID, v.Period, v.MemberID, v.Amount, v.Balance, v.State,
			v.ExpiresAt.In(prog.Location).Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(w, "\nledger\tid\tvoucher\tkind\tamount\tpurchase\tat")
	for _, l := range fv.Ledger {
		red := ""
		if l.RedemptionID != 0 {
			red = strconv.FormatInt(l.RedemptionID, 10)
		}
		fmt.Fprintf(w, "\t%d\t%d\t%s\t%s\t%s\t%s\n", l.ID, l.VoucherID, l.Kind, l.Amount, red,
			l.At.In(prog.Location).Format("2006-01-02 15:04:05"))
	}
	w.Flush()
}

func cmdProgram(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "program", "", `Prints the embedded default programme file (the 2026 pilot). Copy it, change
it, and point SW_PROGRAM at the copy; serve refuses an invalid file at start,
naming the field and the reason.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if e.cfg.ProgramPath != "" {
		if _, err := program.Load(e.cfg.ProgramPath); err != nil {
			return err
		}
		b, err := os.ReadFile(e.cfg.ProgramPath)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(b)
		return err
	}
	_, err := e.stdout.Write(program.DefaultTOML())
	return err
}
