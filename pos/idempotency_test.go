package pos_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"
)

// TestRetryAfterDroppedConnection: the till sends a purchase and the
// connection drops before the answer arrives. The purchase completes anyway;
// the retry with the same key and body gets the first answer, and the family
// is charged once.
func TestRetryAfterDroppedConnection(t *testing.T) {
	w := newWorld(t)
	p := purchase{Token: w.qr(w.members[0]), ReceiptNo: "K2-7", Lines: basket}
	body, _ := json.Marshal(p)
	key := "till-2:K2-7"

	u, _ := url.Parse(w.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/redemptions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nIdempotency-Key: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", u.Host, w.key, key, len(body), body)
	conn.Close() // gone before the answer

	// Wait until the server has finished the purchase it received.
	var id int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		err := w.pool.QueryRow(w.ctx, `SELECT id FROM redemptions WHERE idempotency_key = $1`, key).Scan(&id)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dropped purchase never completed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := w.remaining(w.family)

	// The retry, with the body re-encoded with other spacing and key order.
	var generic map[string]any
	json.Unmarshal(body, &generic)
	again, _ := json.MarshalIndent(generic, "", "   ")
	r := w.do("POST", "/v1/redemptions", string(again), map[string]string{"Idempotency-Key": key})
	red := w.created(r)
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed = %q; want true", r.header.Get("Idempotent-Replayed"))
	}
	if red.ID != id || red.CoveredTiyn != 72675 || red.FamilyRemainingTiyn != 1_730_000-72675 {
		t.Errorf("retry = %+v; want purchase %d as first answered", red, id)
	}
	// And once more: byte for byte the same answer.
	r2 := w.do("POST", "/v1/redemptions", p, map[string]string{"Idempotency-Key": key})
	if !bytes.Equal(r2.body, r.body) || r2.status != 201 {
		t.Errorf("third answer differs:\n%s\n%s", r2.body, r.body)
	}
	if got := w.remaining(w.family); got != after || got != 1_730_000-72675 {
		t.Errorf("family remaining = %d after retries; want %d (charged once)", got, 1_730_000-72675)
	}
	var n int
	w.pool.QueryRow(w.ctx, `SELECT count(*) FROM ledger WHERE kind = 'redemption'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d redemption ledger rows; want 1", n)
	}
}

// TestRetryAfterTokenExpiredOrCodeLapsed: the first answer stands even when
// the retry comes after the token expired or the typed code left Redis.
func TestRetryAfterTokenExpiredOrCodeLapsed(t *testing.T) {
	w := newWorld(t)
	tok := purchase{Token: w.qr(w.members[0]), ReceiptNo: "1", Lines: basket}
	code := purchase{Code: w.code(w.members[1]), ReceiptNo: "2", Lines: basket}
	first := map[string]redemption{}
	firstRaw := map[string]string{}
	for key, p := range map[string]purchase{"tok": tok, "code": code} {
		r := w.do("POST", "/v1/redemptions", p, map[string]string{"Idempotency-Key": key})
		first[key], firstRaw[key] = w.created(r), string(r.body)
	}
	w.clock.Advance(time.Hour)
	// The code's Redis entry lives as long as the token: gone by now.
	if err := w.redis.Del(w.ctx, w.prefix+"qrcode:"+code.Code).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.codes.Lookup(w.ctx, code.Code); err == nil {
		t.Fatal("code still known")
	}
	for key, p := range map[string]purchase{"tok": tok, "code": code} {
		r := w.do("POST", "/v1/redemptions", p, map[string]string{"Idempotency-Key": key})
		if got := w.created(r); !reflect.DeepEqual(got, first[key]) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry %s an hour later = %s; want the first answer", key, r)
		}
		if string(r.body) != firstRaw[key] {
			t.Errorf("retry %s answered\n%s\nthe first answer was\n%s", key, r.body, firstRaw[key])
		}
	}
	if got := w.remaining(w.family); got != 1_730_000-2*72675 {
		t.Errorf("remaining = %d; want two purchases charged once each", got)
	}
}

// TestSameKeyConcurrently: a till that fires the same request twice at once
// is charged once; both get the same purchase.
func TestSameKeyConcurrently(t *testing.T) {
	w := newWorld(t)
	p := purchase{Token: w.qr(w.members[0]), ReceiptNo: "dup", Lines: basket}
	const n = 20
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			replies[i], err = w.send("POST", "/v1/redemptions", p, map[string]string{"Idempotency-Key": "same"})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ids := map[int64]int{}
	for _, r := range replies {
		if r.status != 201 {
			t.Errorf("concurrent same-key answer = %s; want 201", r)
			continue
		}
		var red redemption
		json.Unmarshal(r.body, &red)
		ids[red.ID]++
	}
	if len(ids) != 1 {
		t.Errorf("purchases = %v; want one", ids)
	}
	if got := w.remaining(w.family); got != 1_730_000-72675 {
		t.Errorf("remaining = %d; want charged once", got)
	}
}
