package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"socialwallet/clock"
	"socialwallet/internal/fixtures"
	"socialwallet/internal/pgtest"
	"socialwallet/program"
	"socialwallet/store/postgres"
	"socialwallet/wallet"
)

// The report's seeded pilot: two cities, two months, every column exercised.
// Vouchers are 4 325 ₸ = 432 500 tiyn (1 MRP of 2026). Times are Kazakhstan
// time (UTC+5). The expected figures below are worked out by hand from the
// story told in seedReport; each is explained where it is asserted.
//
// Families (fixtures: applicant mother 1985, father 1983, children 2012+):
//
//	K1 kokshetau: K1m (applicant), K1f, K1c1, K1c2 (K1c2 eligible until 2026-01-31)
//	K2 kokshetau: K2m (applicant), K2f
//	A1 akkol:     A1m (applicant), A1f, A1c
//	A2 akkol:     A2m (applicant), A2f — eligible from 2026-02-01
//
// Pavlodar has nobody: its rows must be there, and zero.
const tiyn = 432_500

type pilot struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	store *postgres.Store
	svc   *wallet.Service
	clk   *clock.Offset
	loc   *time.Location
	// members by nickname
	m map[string]int64
	// merchants M1, M2 (Kokshetau), M3 (Akkol)
	merchant map[string]int64
	fam      map[string]string
}

func (s *pilot) at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, s.loc)
}

func (s *pilot) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.pool.Exec(s.ctx, sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

func (s *pilot) consent(who string, at time.Time) {
	s.t.Helper()
	s.clk.Set(at)
	if err := s.svc.GiveConsent(s.ctx, s.m[who]); err != nil {
		s.t.Fatalf("GiveConsent(%s) = %v", who, err)
	}
}

func (s *pilot) revoke(who string, at time.Time) {
	s.t.Helper()
	s.clk.Set(at)
	if err := s.svc.RevokeConsent(s.ctx, s.m[who]); err != nil {
		s.t.Fatalf("RevokeConsent(%s) = %v", who, err)
	}
}

// activate has who activate, at, the vouchers of the named members (none:
// every voucher they may), and checks how many were activated.
func (s *pilot) activate(who string, at time.Time, want int, of ...string) {
	s.t.Helper()
	s.clk.Set(at)
	p := s.svc.Program.PeriodAt(at)
	var ids []int64
	for _, o := range of {
		ids = append(ids, s.voucher(o, p))
	}
	got, err := s.svc.Activate(s.ctx, s.m[who], p, ids...)
	if err != nil || len(got) != want {
		s.t.Fatalf("Activate(%s, %s, %v) = %d vouchers, %v; want %d", who, p, of, len(got), err, want)
	}
}

func (s *pilot) voucher(who string, p wallet.Period) int64 {
	s.t.Helper()
	var id int64
	if err := s.pool.QueryRow(s.ctx, `SELECT id FROM vouchers WHERE member_id = $1 AND period = $2`, s.m[who], p.FirstDay()).Scan(&id); err != nil {
		s.t.Fatalf("voucher of %s in %s: %v", who, p, err)
	}
	return id
}

func (s *pilot) link(who string, userID int64, linked, blocked time.Time) {
	s.t.Helper()
	var b any
	if !blocked.IsZero() {
		b = blocked
	}
	s.exec(`INSERT INTO telegram_links (telegram_user_id, member_id, chat_id, lang, linked_at, blocked_at)
		VALUES ($1, $2, $1, 'kk', $3, $4)`, userID, s.m[who], linked, b)
}

// remind records a reminder of period p, days before its deadline, created an
// hour before at and sent at at (or failed at at when sent is false).
func (s *pilot) remind(who string, p wallet.Period, daysBefore int, at time.Time, sent bool) {
	s.t.Helper()
	sentAt, failedAt := any(at), any(nil)
	if !sent {
		sentAt, failedAt = nil, at
	}
	s.exec(`INSERT INTO notifications (member_id, kind, period, days_before, created_at, queued_at, sent_at, failed_at)
		VALUES ($1, 'reminder', $2, $3, $4, $4, $5, $6)`, s.m[who], p.FirstDay(), daysBefore, at.Add(-time.Hour), sentAt, failedAt)
}

type debit struct {
	who    string
	period wallet.Period
	amount int64
}

// purchase writes what the cashier API writes for a purchase paid by
// vouchers: a used QR token, the redemption, one negative ledger row per
// voucher debited, and the vouchers' balances (spent at zero).
func (s *pilot) purchase(at time.Time, buyer, merchant string, gross, discount int64, debits ...debit) int64 {
	s.t.Helper()
	var covered int64
	for _, d := range debits {
		covered += d.amount
	}
	token := make([]byte, 12)
	rand.Read(token)
	s.exec(`INSERT INTO qr_tokens (token_id, member_id, issued_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $3)`,
		token, s.m[buyer], at, at.Add(5*time.Minute))
	var id int64
	err := s.pool.QueryRow(s.ctx, `INSERT INTO redemptions (merchant_id, family_id, member_id, token_id, idempotency_key,
			request_hash, receipt_no, mode, gross, discount, covered, to_pay, response, created_at)
		VALUES ($1, (SELECT family_id FROM members WHERE id = $2), $2, $3, $4, '\x00', $4, 'spend', $5, $6, $7, $8, '{}', $9)
		RETURNING id`,
		s.merchant[merchant], s.m[buyer], token, fmt.Sprintf("r-%x", token), gross, discount, covered, gross-discount-covered, at).Scan(&id)
	if err != nil {
		s.t.Fatalf("purchase: %v", err)
	}
	for _, d := range debits {
		v := s.voucher(d.who, d.period)
		s.exec(`INSERT INTO ledger (voucher_id, kind, amount, redemption_id, created_at) VALUES ($1, 'redemption', $2, $3, $4)`, v, -d.amount, id, at)
		s.exec(`UPDATE vouchers SET balance = balance - $2,
			state = CASE WHEN balance = $2 THEN 'spent' ELSE state END,
			closed_at = CASE WHEN balance = $2 THEN $3::timestamptz END WHERE id = $1`, v, d.amount, at)
	}
	return id
}

// void cancels a purchase: the value returns to its vouchers with void rows.
func (s *pilot) void(redemption int64, at time.Time) {
	s.t.Helper()
	s.exec(`INSERT INTO ledger (voucher_id, kind, amount, redemption_id, created_at)
		SELECT voucher_id, 'void', -amount, redemption_id, $2 FROM ledger WHERE redemption_id = $1 AND kind = 'redemption'`, redemption, at)
	s.exec(`UPDATE vouchers v SET balance = v.balance - l.amount, state = 'activated', closed_at = NULL
		FROM ledger l WHERE l.redemption_id = $1 AND l.kind = 'redemption' AND l.voucher_id = v.id`, redemption)
	// The cashier API's migration records the wallet's value after a void
	// beside it; the report does not read it, but its CHECK wants it set.
	var snapshot bool
	s.pool.QueryRow(s.ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'redemptions' AND column_name = 'void_remaining')`).Scan(&snapshot)
	if !snapshot {
		s.exec(`UPDATE redemptions SET voided_at = $2 WHERE id = $1`, redemption, at)
		return
	}
	s.exec(`UPDATE redemptions r SET voided_at = $2,
		void_remaining = (SELECT sum(v.balance) FROM members m JOIN vouchers v ON v.member_id = m.id WHERE m.family_id = r.family_id) WHERE id = $1`, redemption, at)
}

func seedReport(t *testing.T) *pilot {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	prog := program.Default()
	s := &pilot{t: t, ctx: ctx, pool: pool, store: postgres.New(pool), loc: prog.Location,
		m: map[string]int64{}, merchant: map[string]int64{}, fam: map[string]string{}}
	s.clk = clock.Frozen(s.at(time.January, 4, 12, 0))
	s.svc = wallet.NewService(prog, s.clk, []byte("report-test-secret-32-bytes-long"), s.store)

	g := fixtures.NewGen()
	var people []fixtures.Person
	for _, f := range []struct {
		nick, city string
		n, size    int
		from       string
	}{{"K1", "kokshetau", 1, 4, ""}, {"K2", "kokshetau", 2, 2, ""}, {"A1", "akkol", 3, 3, ""}, {"A2", "akkol", 4, 2, "2026-02-01"}} {
		fam := g.Family(f.n, f.city, f.size)
		for i := range fam {
			if f.from != "" {
				fam[i].EligibleFrom = f.from
			}
		}
		if f.nick == "K1" {
			fam[3].EligibleTo = "2026-01-31"
		}
		s.fam[f.nick] = fam[0].FamilyID
		people = append(people, fam...)
	}
	var csv bytes.Buffer
	if err := fixtures.WriteRegistry(&csv, people); err != nil {
		t.Fatal(err)
	}
	res, err := s.svc.ImportRegistry(ctx, &csv, false)
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	// Members by birth date: father 1983, mother 1985, then the children.
	for nick, fid := range s.fam {
		rows, err := pool.Query(ctx, `SELECT id FROM members WHERE family_id = $1 ORDER BY birth_date`, fid)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		s.m[nick+"f"], s.m[nick+"m"] = ids[0], ids[1]
		switch len(ids) {
		case 3:
			s.m[nick+"c"] = ids[2]
		case 4:
			s.m[nick+"c1"], s.m[nick+"c2"] = ids[2], ids[3]
		}
	}
	for _, m := range []struct{ nick, city string }{{"M1", "kokshetau"}, {"M2", "kokshetau"}, {"M3", "akkol"}} {
		id, _, err := s.svc.AddMerchant(ctx, wallet.Merchant{Name: "Дүкен " + m.nick, City: m.city, Lat: 53.28, Lon: 69.39, DiscountBP: 1500})
		if err != nil {
			t.Fatal(err)
		}
		s.merchant[m.nick] = id
	}

	jan, feb := wallet.Period{Year: 2026, Month: time.January}, wallet.Period{Year: 2026, Month: time.February}
	issue := func(p wallet.Period, at time.Time, want int64) {
		s.clk.Set(at)
		if n, err := s.svc.Issue(ctx, p); err != nil || n != want {
			t.Fatalf("Issue(%s) = %d, %v; want %d", p, n, err, want)
		}
	}
	annul := func(p wallet.Period, at time.Time, want int64) {
		s.clk.Set(at)
		if n, err := s.svc.Annul(ctx, p); err != nil || n != want {
			t.Fatalf("Annul(%s) = %d, %v; want %d", p, n, err, want)
		}
	}

	// January: 9 vouchers (K1 ×4, K2 ×2, A1 ×3); A2 is not yet eligible.
	issue(jan, s.at(time.January, 5, 9, 0), 9)
	s.exec(`INSERT INTO notifications (member_id, kind, period, created_at, sent_at) VALUES ($1, 'issued', $2, $3, $3)`,
		s.m["K1m"], jan.FirstDay(), s.at(time.January, 5, 10, 0)) // not a reminder: counts nowhere

	s.link("K1m", 101, s.at(time.January, 5, 20, 0), time.Time{})
	s.link("K1f", 102, s.at(time.January, 20, 9, 0), time.Time{})
	s.link("K2m", 103, s.at(time.January, 10, 9, 0), s.at(time.January, 20, 9, 0))
	s.link("A1f", 104, s.at(time.January, 8, 9, 0), time.Time{})
	s.link("A1m", 105, s.at(time.February, 2, 9, 0), time.Time{})
	s.link("K2f", 106, s.at(time.February, 10, 9, 0), s.at(time.February, 25, 9, 0))
	s.link("A2m", 107, s.at(time.March, 3, 9, 0), time.Time{})

	s.consent("K1m", s.at(time.January, 6, 10, 0))
	s.activate("K1m", s.at(time.January, 6, 12, 0), 3) // own + both minors
	s.consent("A1f", s.at(time.January, 8, 10, 0))
	s.consent("K2m", s.at(time.January, 10, 10, 0))
	s.activate("K2m", s.at(time.January, 12, 10, 0), 1)
	s.revoke("K2m", s.at(time.January, 15, 10, 0))
	s.consent("K1f", s.at(time.January, 20, 10, 0))

	// January reminders go out on the 25th, 29th and 31st (7, 3, 1 days before 1 February).
	s.remind("K1f", jan, 7, s.at(time.January, 25, 10, 0), true)
	s.remind("K2f", jan, 7, s.at(time.January, 25, 10, 0), true)
	s.remind("K2f", jan, 3, s.at(time.January, 29, 10, 0), true)
	s.remind("K2f", jan, 1, s.at(time.January, 31, 10, 0), true)
	s.remind("A1f", jan, 7, s.at(time.January, 25, 10, 0), true)
	s.remind("A1f", jan, 3, s.at(time.January, 29, 10, 0), true)
	s.remind("A1m", jan, 7, s.at(time.January, 25, 10, 0), true)
	s.remind("A1m", jan, 3, s.at(time.January, 29, 10, 0), false) // failed: not sent

	s.activate("K1f", s.at(time.January, 26, 11, 0), 1) // 25 h after his first reminder
	s.activate("A1f", s.at(time.January, 30, 10, 0), 1) // 5 days after her first

	p1 := s.purchase(s.at(time.January, 10, 12, 0), "K1m", "M1", 1_000_000, 150_000,
		debit{"K1m", jan, 432_500}, debit{"K1c1", jan, 417_500})
	_ = p1
	p3 := s.purchase(s.at(time.January, 13, 12, 0), "K2m", "M1", 300_000, 45_000, debit{"K2m", jan, 255_000})
	s.void(p3, s.at(time.January, 14, 9, 0))
	s.purchase(s.at(time.January, 28, 12, 0), "K1f", "M2", 200_000, 20_000, debit{"K1f", jan, 180_000})
	s.purchase(s.at(time.January, 31, 23, 30), "A1f", "M3", 100_000, 10_000, debit{"A1f", jan, 90_000})

	// Month end: K2f, A1m and A1c never activated.
	annul(jan, s.at(time.February, 1, 0, 5), 3)

	// February: 10 vouchers (K1 ×3 without K1c2, K2 ×2, A1 ×3, A2 ×2).
	issue(feb, s.at(time.February, 1, 9, 0), 10)
	// Half an hour into February an Akkol family spends January's value at a
	// Kokshetau store: a February purchase, January's redemption.
	s.purchase(s.at(time.February, 1, 0, 30), "A1f", "M1", 50_000, 5_000, debit{"A1f", jan, 45_000})

	s.activate("K1m", s.at(time.February, 2, 10, 0), 1, "K1m") // only her own for now
	s.consent("A1m", s.at(time.February, 3, 9, 0))
	s.activate("A1m", s.at(time.February, 3, 11, 0), 2) // own + A1c
	s.consent("K2f", s.at(time.February, 14, 14, 0))
	s.activate("K2f", s.at(time.February, 14, 15, 0), 1)
	s.consent("A2m", s.at(time.February, 27, 9, 0))

	// February reminders: the 22nd, 26th and 28th.
	s.remind("K1m", feb, 7, s.at(time.February, 22, 10, 0), true) // about K1c1's voucher
	s.remind("K1f", feb, 7, s.at(time.February, 22, 10, 0), true)
	s.remind("K2m", feb, 7, s.at(time.February, 22, 10, 0), true)
	s.remind("K2m", feb, 3, s.at(time.February, 26, 10, 0), true)
	s.remind("K2m", feb, 1, s.at(time.February, 28, 10, 0), true)
	s.remind("A1f", feb, 7, s.at(time.February, 22, 10, 0), true)
	s.remind("A1f", feb, 3, s.at(time.February, 26, 10, 0), true)
	s.remind("A2m", feb, 7, s.at(time.February, 22, 10, 0), false) // failed
	s.remind("A2m", feb, 3, s.at(time.February, 26, 10, 0), true)
	s.remind("A2f", feb, 7, s.at(time.February, 22, 10, 0), true)
	s.remind("A2f", feb, 3, s.at(time.February, 26, 10, 0), true)
	s.remind("A2f", feb, 1, s.at(time.February, 28, 10, 0), true)

	s.activate("K1m", s.at(time.February, 23, 9, 0), 1, "K1c1") // 23 h after her reminder
	s.activate("K1f", s.at(time.February, 23, 12, 0), 1)        // 26 h after his
	s.activate("A1f", s.at(time.February, 27, 9, 0), 1)         // 23 h after her second, 119 h after her first
	s.activate("A2m", s.at(time.February, 28, 10, 0), 1)        // exactly 48 h after her first sent one

	s.purchase(s.at(time.February, 24, 12, 0), "K1f", "M1", 400_000, 60_000, debit{"K1f", feb, 340_000})
	p8 := s.purchase(s.at(time.February, 15, 12, 0), "K2f", "M1", 100_000, 15_000, debit{"K2f", feb, 85_000})
	s.purchase(s.at(time.February, 28, 12, 0), "A2m", "M3", 500_000, 75_000, debit{"A2m", feb, 425_000})

	// Month end: K2m (no consent) and A2f never activated.
	annul(feb, s.at(time.March, 1, 0, 5), 2)
	// March: P8 is voided after the month it was made in, and January's value
	// is still spent (activated funds expire at the programme's end).
	s.void(p8, s.at(time.March, 2, 10, 0))
	s.purchase(s.at(time.March, 3, 12, 0), "K1f", "M2", 100_000, 0, debit{"K1f", jan, 100_000})
	return s
}

func TestReportFigures(t *testing.T) {
	s := seedReport(t)
	jan, feb := wallet.Period{Year: 2026, Month: time.January}, wallet.Period{Year: 2026, Month: time.February}
	asOf := s.at(time.March, 10, 12, 0)

	// Expected rows, with the arithmetic.
	want := map[string]wallet.ReportRow{
		"2026-01 kokshetau": {
			Period: jan, City: "kokshetau",
			Families: 2, // K1, K2
			Members:  6, // K1 ×4, K2 ×2
			Linked:   3, // K1m (5 Jan), K1f (20 Jan), K2m (10 Jan); K2f only on 10 Feb
			// K1m and K1f standing; K2m's consent stood 10–15 Jan; K2f's came in February.
			Consented:   3,
			Issued:      6,
			IssuedValue: 6 * tiyn, // 2 595 000
			// K1m, K1c1, K1c2 (6 Jan), K2m (12 Jan), K1f (26 Jan).
			Activated: 5, ActivatedValue: 5 * tiyn,
			Annulled: 1, AnnulledValue: tiyn, // K2f
			// P1 432 500 + 417 500, P2 180 000, March's 100 000 from K1f's January
			// voucher; P3's 255 000 came back with its void: 1 130 000.
			Redeemed:  432_500 + 417_500 + 180_000 + 100_000 + 255_000 - 255_000,
			Purchases: 2, // P1, P2 (P3 voided)
			// P1 150 000 + P2 20 000.
			DiscountSaved:   150_000 + 20_000,
			ActiveMerchants: 2, // M1, M2
			RemindersSent:   4, // K1f ×1, K2f ×3
			RemindedMembers: 2, // K1f, K2f
			// K1f activated 25 h after his first; K2f never.
			RemindedActivated: 1,
			BotBlocked:        1, // K2m blocked on 20 Jan
		},
		"2026-01 akkol": {
			Period: jan, City: "akkol",
			Families: 1, Members: 3, // A1 only: A2 is eligible from February
			Linked:    1, // A1f; A1m linked on 2 Feb
			Consented: 1, // A1f; A1m consented on 3 Feb
			Issued:    3, IssuedValue: 3 * tiyn,
			Activated: 1, ActivatedValue: tiyn, // A1f on 30 Jan
			Annulled: 2, AnnulledValue: 2 * tiyn, // A1m, A1c
			// 90 000 on 31 Jan and 45 000 of the February purchase, both from
			// A1f's January voucher.
			Redeemed:          90_000 + 45_000,
			Purchases:         1, // the 31 Jan 23:30 one; 1 Feb 00:30 is February's
			DiscountSaved:     10_000,
			ActiveMerchants:   1, // M3
			RemindersSent:     3, // A1f ×2, A1m ×1 (her second failed)
			RemindedMembers:   2,
			RemindedActivated: 0, // A1f activated 5 days after her first; A1m never
			BotBlocked:        0,
		},
		"2026-02 kokshetau": {
			Period: feb, City: "kokshetau",
			Families: 2, Members: 5, // K1c2 is no longer eligible
			Linked:    4, // K1m, K1f, K2m, K2f (10 Feb)
			Consented: 3, // K1m, K1f, K2f (14 Feb); K2m revoked in January
			Issued:    5, IssuedValue: 5 * tiyn,
			// K1m (2 Feb), K2f (14 Feb), K1c1 and K1f (23 Feb).
			Activated: 4, ActivatedValue: 4 * tiyn,
			Annulled: 1, AnnulledValue: tiyn, // K2m
			// K1f 340 000; K2f's 85 000 returned by the void of 2 March.
			Redeemed:        340_000 + 85_000 - 85_000,
			Purchases:       1, // 24 Feb at M1; the 15 Feb one is voided
			DiscountSaved:   60_000,
			ActiveMerchants: 1, // M1
			RemindersSent:   5, // K1m, K1f, K2m ×3
			RemindedMembers: 3,
			// K1m activated K1c1's voucher 23 h after hers, K1f 26 h after his.
			RemindedActivated: 2,
			BotBlocked:        2, // K2m (20 Jan), K2f (25 Feb)
		},
		"2026-02 akkol": {
			Period: feb, City: "akkol",
			Families: 2, Members: 5, // A1 ×3, A2 ×2
			Linked:    2, // A1f, A1m (2 Feb); A2m only on 3 Mar
			Consented: 3, // A1f, A1m (3 Feb), A2m (27 Feb)
			Issued:    5, IssuedValue: 5 * tiyn,
			// A1m + A1c (3 Feb), A1f (27 Feb), A2m (28 Feb).
			Activated: 4, ActivatedValue: 4 * tiyn,
			Annulled: 1, AnnulledValue: tiyn, // A2f
			Redeemed: 425_000, // A2m at M3
			// 1 Feb 00:30 at M1 (5 000) and 28 Feb at M3 (75 000).
			Purchases: 2, DiscountSaved: 5_000 + 75_000,
			ActiveMerchants: 2,         // M1, M3
			RemindersSent:   2 + 1 + 3, // A1f ×2, A2m ×1 (one failed), A2f ×3
			RemindedMembers: 3,         // A1f, A2m, A2f
			// A2m exactly 48 h after her first sent reminder (the window is
			// inclusive); A1f 119 h after her first; A2f never.
			RemindedActivated: 1,
			BotBlocked:        0,
		},
	}

	rep, err := wallet.MakeReport(s.ctx, s.svc.Program, s.store, wallet.ReportQuery{From: jan, To: feb}, asOf)
	if err != nil {
		t.Fatalf("MakeReport = %v", err)
	}
	if got := len(rep.Rows); got != 6 {
		t.Fatalf("len(Rows) = %d; want 6 (2 months × 3 cities)", got)
	}
	for _, got := range rep.Rows {
		key := got.Period.String() + " " + got.City
		w, ok := want[key]
		if !ok {
			w = wallet.ReportRow{Period: got.Period, City: got.City} // Pavlodar: nobody
		}
		diffRow(t, key, got, w)
	}

	// Totals add the cities up, except merchants: M1 served both cities in
	// February, so February has 2 distinct merchants (M1, M3), not 1 + 2.
	for _, tc := range []struct {
		p         wallet.Period
		merchants int64
	}{{jan, 3}, {feb, 2}} {
		got := rep.Total(tc.p)
		k, a := want[tc.p.String()+" kokshetau"], want[tc.p.String()+" akkol"]
		if got.Issued != k.Issued+a.Issued || got.Redeemed != k.Redeemed+a.Redeemed ||
			got.RemindedActivated != k.RemindedActivated+a.RemindedActivated || got.BotBlocked != k.BotBlocked+a.BotBlocked {
			t.Errorf("Total(%s) = %+v; want the sum of %+v and %+v", tc.p, got, k, a)
		}
		if got.ActiveMerchants != tc.merchants {
			t.Errorf("Total(%s).ActiveMerchants = %d; want %d", tc.p, got.ActiveMerchants, tc.merchants)
		}
	}

	// Rates from the rows: January Kokshetau activated 5 of 6, annulled 1 of 6,
	// spent 1 130 000 of 2 162 500 activated, converted 1 of 2 reminded.
	r := rep.Row(jan, "kokshetau")
	for _, tc := range []struct {
		name string
		got  wallet.Ratio
		want wallet.Ratio
	}{
		{"ActivationRate", r.ActivationRate(), wallet.Ratio{Num: 5, Den: 6}},
		{"AnnulmentRate", r.AnnulmentRate(), wallet.Ratio{Num: 1, Den: 6}},
		{"RedeemedShare", r.RedeemedShare(), wallet.Ratio{Num: 1_130_000, Den: 2_162_500}},
		{"ReminderConversion", r.ReminderConversion(), wallet.Ratio{Num: 1, Den: 2}},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %+v; want %+v", tc.name, tc.got, tc.want)
		}
	}

	// Activation curves by day of month, from the ledger's activation rows.
	for _, tc := range []struct {
		p     wallet.Period
		city  string
		day   int
		want  int64
		issue int64
	}{
		{jan, "kokshetau", 5, 0, 6},
		{jan, "kokshetau", 6, 3, 6},  // K1m ×3
		{jan, "kokshetau", 12, 4, 6}, // + K2m
		{jan, "kokshetau", 26, 5, 6}, // + K1f
		{jan, "akkol", 29, 0, 3},
		{jan, "akkol", 31, 1, 3},     // A1f on the 30th
		{jan, "", 31, 6, 9},          // both cities
		{feb, "kokshetau", 2, 1, 5},  // K1m
		{feb, "kokshetau", 22, 2, 5}, // + K2f on the 14th
		{feb, "kokshetau", 23, 4, 5}, // + K1c1, K1f
		{feb, "akkol", 3, 2, 5},      // A1m + A1c
		{feb, "akkol", 27, 3, 5},     // + A1f
		{feb, "akkol", 28, 4, 5},     // + A2m
		{feb, "pavlodar", 28, 0, 0},
	} {
		var c *wallet.ActivationCurve
		for i := range rep.Curves {
			if rep.Curves[i].Period == tc.p && rep.Curves[i].City == tc.city {
				c = &rep.Curves[i]
			}
		}
		if c == nil {
			t.Errorf("no curve for %s %q", tc.p, tc.city)
			continue
		}
		if got := c.Share(tc.day); got != (wallet.Ratio{Num: tc.want, Den: tc.issue}) {
			t.Errorf("curve %s %q day %d = %+v; want %d/%d", tc.p, tc.city, tc.day, got, tc.want, tc.issue)
		}
	}
	for _, c := range rep.Curves {
		wantDays, first, n := []int{22, 26, 28}, 1, 28
		if c.Period == jan {
			wantDays, first, n = []int{25, 29, 31}, 5, 31 // the programme starts on 5 January
		}
		if fmt.Sprint(c.ReminderDays) != fmt.Sprint(wantDays) || c.FirstDay != first || c.DaysInMonth != n || c.LastDay != n {
			t.Errorf("curve %s %q: reminders %v, days %d–%d of %d; want %v, %d–%d of %d",
				c.Period, c.City, c.ReminderDays, c.FirstDay, c.LastDay, c.DaysInMonth, wantDays, first, n, n)
		}
	}

	// One city: the same Akkol rows; February's merchants are Akkol's (M1, M3).
	one, err := wallet.MakeReport(s.ctx, s.svc.Program, s.store, wallet.ReportQuery{From: jan, To: feb, City: "akkol"}, asOf)
	if err != nil {
		t.Fatalf("MakeReport(akkol) = %v", err)
	}
	if len(one.Rows) != 2 {
		t.Fatalf("akkol: len(Rows) = %d; want 2", len(one.Rows))
	}
	diffRow(t, "akkol only 2026-01", one.Rows[0], want["2026-01 akkol"])
	diffRow(t, "akkol only 2026-02", one.Rows[1], want["2026-02 akkol"])
	if got := one.Total(feb); got.ActiveMerchants != 2 || got.Issued != 5 {
		t.Errorf("akkol Total(feb) = %+v; want 2 merchants, 5 vouchers", got)
	}
}

// diffRow names each column that differs.
func diffRow(t *testing.T, key string, got, want wallet.ReportRow) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("row %s: %s = %v; want %v", key, g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface())
		}
	}
}

// A report read while the month runs shows the month so far; nothing of the
// future leaks in and the curve stops at today.
func TestReportOpenMonth(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	prog := program.Default()
	st := postgres.New(pool)
	at := func(d, h int) time.Time { return time.Date(2026, time.March, d, h, 0, 0, 0, prog.Location) }
	clk := clock.Frozen(at(1, 9))
	svc := wallet.NewService(prog, clk, []byte("report-test-secret-32-bytes-long"), st)
	var csv bytes.Buffer
	fixtures.WriteRegistry(&csv, fixtures.NewGen().Family(7, "pavlodar", 2))
	if _, err := svc.ImportRegistry(ctx, &csv, false); err != nil {
		t.Fatal(err)
	}
	mar := wallet.Period{Year: 2026, Month: time.March}
	if _, err := svc.Issue(ctx, mar); err != nil {
		t.Fatal(err)
	}
	var mother int64
	pool.QueryRow(ctx, `SELECT id FROM members WHERE role = 'applicant'`).Scan(&mother)
	clk.Set(at(3, 10))
	svc.GiveConsent(ctx, mother)
	if _, err := svc.Activate(ctx, mother, mar); err != nil {
		t.Fatal(err)
	}
	rep, err := wallet.MakeReport(ctx, prog, st, wallet.ReportQuery{From: mar, To: mar, City: "pavlodar"}, at(10, 12))
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Row(mar, "pavlodar")
	// Two vouchers, the mother's activated on the 3rd; nothing annulled yet:
	// one is pending.
	if r.Issued != 2 || r.Activated != 1 || r.Annulled != 0 || r.Pending() != 1 || r.PendingValue() != tiyn || r.Consented != 1 {
		t.Errorf("row = %+v; want 2 issued, 1 activated, 1 pending, 1 consented", r)
	}
	if rep.Closed(mar) {
		t.Errorf("Closed(%s) = true on 10 March; want false", mar)
	}
	c := rep.Curves[len(rep.Curves)-1]
	if c.LastDay != 10 || c.Share(3) != (wallet.Ratio{Num: 1, Den: 2}) {
		t.Errorf("curve: last day %d, share on the 3rd %+v; want 10, 1/2", c.LastDay, c.Share(3))
	}
}
