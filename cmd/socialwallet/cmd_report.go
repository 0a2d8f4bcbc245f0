package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"socialwallet/report"
	"socialwallet/wallet"
)

func cmdReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "[--period YYYY-MM | --from YYYY-MM --to YYYY-MM] [--city ID] [--format text|csv|html] [--out FILE]",
		`The pilot's evaluation report, per city and month: families, members, linked
to Telegram, consented; vouchers issued, activated, annulled (count, tenge,
rate); value redeemed and its share of the value activated; discount saved;
purchases; active merchants; reminders sent and the share of reminded members
who activated within 48 hours of their first reminder; bot blocked.

Figures are read from the ledger, vouchers, purchases, Telegram links, consents
and sent notifications in one consistent snapshot; the README's "Evaluation
report" section defines each column. Without a period the report covers the
programme from its first month to the current one. The html format is a single
self-contained file with charts (activation by city, spend vs. annulled, the
activation curve over the month with the reminder days).`)
	period := fs.String("period", "", "one month, YYYY-MM")
	from := fs.String("from", "", "first month of a range, YYYY-MM (default: the programme's first)")
	to := fs.String("to", "", "last month of a range, YYYY-MM (default: the current month)")
	city := fs.String("city", "", "one city id of the programme file (default: every city)")
	format := fs.String("format", "text", "text, csv or html")
	out := fs.String("out", "", "write to FILE instead of standard output")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitError{2, errSilent}
	}
	if !slices.Contains(report.Formats, *format) {
		return exitError{2, fmt.Errorf("--format: want %s, not %q", strings.Join(report.Formats, ", "), *format)}
	}
	if *period != "" && (*from != "" || *to != "") {
		return exitError{2, fmt.Errorf("--period and --from/--to exclude each other")}
	}
	prog, err := e.cfg.program()
	if err != nil {
		return err
	}
	now := e.cfg.clock().Now()
	q, err := reportQuery(prog, now, *period, *from, *to, *city)
	if err != nil {
		return exitError{2, userError(err)}
	}
	if _, err := prog.ReportSpec(q); err != nil {
		return exitError{2, userError(err)}
	}

	pool, st, err := openStore(ctx, e, true)
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := wallet.MakeReport(ctx, prog, st, q, now)
	if err != nil {
		return userError(err)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, rep, *format); err != nil {
		return err
	}
	if *out == "" {
		_, err := e.stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(*out, buf.Bytes())
}

// reportQuery resolves the period flags: --period P is P..P; a missing end of
// a range is the programme's first month or the current one.
func reportQuery(prog *wallet.Program, now time.Time, period, from, to, city string) (wallet.ReportQuery, error) {
	q := wallet.ReportQuery{City: city}
	months := prog.Periods()
	if len(months) == 0 {
		return q, fmt.Errorf("the programme has no months")
	}
	current := prog.PeriodAt(now)
	if last := months[len(months)-1]; last.Before(current) {
		current = last
	}
	if period != "" {
		from, to = period, period
	}
	var err error
	q.From, q.To = months[0], current
	if from != "" {
		if q.From, err = wallet.ParsePeriod(from); err != nil {
			return q, err
		}
	}
	if to != "" {
		if q.To, err = wallet.ParsePeriod(to); err != nil {
			return q, err
		}
	}
	if from == "" && to == "" && current.Before(months[0]) {
		return q, fmt.Errorf("the programme starts in %s: nothing to report yet", months[0])
	}
	return q, nil
}

// writeFileAtomic writes through a temporary file in the same directory, so a
// reader never sees half a report.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
