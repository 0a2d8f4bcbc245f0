package pos_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"socialwallet/internal/fixtures"
	"socialwallet/wallet"
)

// TestThousandTillsOneToken: the same QR token rung up by 1 000 requests at
// once pays exactly once; every other request is told token_used.
func TestThousandTillsOneToken(t *testing.T) {
	if testing.Short() {
		t.Skip("1 000 concurrent requests")
	}
	w := newWorld(t)
	tok := w.qr(w.members[0])
	const n = 1000
	replies := make([]reply, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			// Each till has its own idempotency key: these are different purchases.
			var err error
			replies[i], err = w.send("POST", "/v1/redemptions", purchase{Token: tok, ReceiptNo: fmt.Sprint(i), Lines: basket},
				map[string]string{"Idempotency-Key": fmt.Sprintf("till-%d", i)})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	var ok, used int
	for _, r := range replies {
		switch {
		case r.status == http.StatusCreated:
			ok++
		case r.status == http.StatusConflict && bytes.Contains(r.body, []byte(`"code":"token_used"`)):
			used++
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	if ok != 1 || used != n-1 {
		t.Errorf("%d succeeded and %d got token_used; want 1 and %d", ok, used, n-1)
	}
	var purchases, debits int
	w.pool.QueryRow(w.ctx, `SELECT (SELECT count(*) FROM redemptions), (SELECT count(*) FROM ledger WHERE kind = 'redemption')`).Scan(&purchases, &debits)
	if purchases != 1 || debits != 1 || w.remaining(w.family) != 1_730_000-72675 {
		t.Errorf("%d purchases, %d debits, %d left; want 1, 1, %d", purchases, debits, w.remaining(w.family), 1_730_000-72675)
	}
	w.checkBooks()
}

// bigFamily imports a family of size adults, each consenting and activating
// their own January voucher, through the service as the bot would.
func (w *world) bigFamily(n, size int) (string, []int64) {
	w.t.Helper()
	g := fixtures.NewGen()
	fid := fmt.Sprintf("F%07d", n)
	var people []fixtures.Person
	for i := range size {
		birth := time.Date(1960+i%40, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
		p := fixtures.Person{FamilyID: fid, City: "pavlodar", IIN: g.IIN(birth, i%2 == 0, 100+i),
			FullName: fmt.Sprintf("Жұмабаев%s Адам%d", map[bool]string{true: "а"}[i%2 == 0], i), Role: wallet.RoleMember, EligibleFrom: "2025-12-01"}
		if i == 0 {
			p.Role, p.Phone = wallet.RoleApplicant, "+77051234567"
		}
		people = append(people, p)
	}
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, people)
	if res, err := w.svc.ImportRegistry(w.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		w.t.Fatalf("ImportRegistry() = %d rejected (first %v), %v", len(res.Rejected), res.Rejected[:min(1, len(res.Rejected))], err)
	}
	if _, err := w.svc.Issue(w.ctx, january); err != nil {
		w.t.Fatal(err)
	}
	rows, _ := w.pool.Query(w.ctx, `SELECT id FROM members WHERE family_id = $1 ORDER BY id`, fid)
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := w.svc.GiveConsent(w.ctx, id); err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.svc.Activate(w.ctx, id, january); err != nil {
			w.t.Fatalf("Activate(%d) = %v", id, err)
		}
	}
	return fid, ids
}

// TestTwoHundredTokensOneFamily: 200 members of one family each show their
// own token at once, asking for more than the family has in total. The
// family never goes below zero, what was covered adds up to exactly what it
// had, and every voucher's remaining value equals its ledger sum.
func TestTwoHundredTokensOneFamily(t *testing.T) {
	if testing.Short() {
		t.Skip("200 concurrent purchases")
	}
	w := newWorld(t)
	const n = 200
	fid, members := w.bigFamily(7, n)
	total := w.remaining(fid)
	if total != n*432500 {
		t.Fatalf("family holds %d; want %d", total, n*432500)
	}
	tokens := make([]string, n)
	for i, m := range members {
		tokens[i] = w.qr(m)
	}
	// 1.5 kg of beef at 4 000 ₸ a kilo each: 5 100 ₸ net, 200 × 5 100 ₸ =
	// 1 020 000 ₸ asked of 865 000 ₸.
	lines := []line{{"beef-boneless", 1500, 400000}}
	replies := make([]reply, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			var err error
			replies[i], err = w.send("POST", "/v1/redemptions", purchase{Token: tokens[i], ReceiptNo: fmt.Sprint(i), Lines: lines},
				map[string]string{"Idempotency-Key": fmt.Sprintf("member-%d", i)})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	var covered, lastRemaining int64
	var paid, partial, refused int
	for _, r := range replies {
		switch r.status {
		case http.StatusCreated:
			var red redemption
			json.Unmarshal(r.body, &red)
			covered += red.CoveredTiyn
			if red.FamilyRemainingTiyn < 0 {
				t.Errorf("family remaining %d below zero", red.FamilyRemainingTiyn)
			}
			if red.ToPayTiyn > 0 {
				partial++
				lastRemaining = red.FamilyRemainingTiyn
			}
			paid++
		case http.StatusUnprocessableEntity:
			if !bytes.Contains(r.body, []byte(`"code":"insufficient_funds"`)) {
				t.Errorf("unexpected 422 %s", r)
			}
			refused++
		default:
			t.Errorf("unexpected answer %s", r)
		}
	}
	if covered != total || w.remaining(fid) != 0 {
		t.Errorf("covered %d of %d, %d left; want all of it, 0 left", covered, total, w.remaining(fid))
	}
	if partial != 1 || lastRemaining != 0 {
		t.Errorf("%d partial covers (remaining %d); want exactly one, leaving 0", partial, lastRemaining)
	}
	t.Logf("%d paid in full, 1 in part, %d refused for want of funds", paid-partial, refused)
	var sum int64
	w.pool.QueryRow(w.ctx, `SELECT coalesce(-sum(l.amount), 0) FROM ledger l JOIN vouchers v ON v.id = l.voucher_id
		JOIN members m ON m.id = v.member_id WHERE m.family_id = $1 AND l.kind = 'redemption'`, fid).Scan(&sum)
	if sum != total {
		t.Errorf("ledger debits %d; want %d", sum, total)
	}
	w.checkBooks()
}
