package jobs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/clock"
	"socialwallet/data"
	"socialwallet/internal/redistest"
	"socialwallet/jobs"
	"socialwallet/locales"
	"socialwallet/program"
	"socialwallet/store/postgres"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

// reminderWave issues January for everyone and writes the D-7 reminder wave
// at 25 January 10:00 with a tick of j; it returns the number of reminders.
// Issue notices are recorded as sent so that only the wave goes out.
func (w *world) reminderWave(t testing.TB, j *jobs.Jobs) int {
	t.Helper()
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.exec(t, `UPDATE notifications SET queued_at = now(), sent_at = now()`)
	w.clock.Set(w.at(time.January, 25, 10, 0, 0))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	return w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'reminder'`)
}

// finished counts the notifications sent or given up, to wait on.
func (w *world) finished(t testing.TB) int {
	return w.count(t, `SELECT count(*) FROM notifications WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL`)
}

func TestAWaveOf2000FromThreeClientsEachOnceUnderTheLimit(t *testing.T) {
	// The default limit is 25/s (80 s for 2 000 messages); 200/s keeps the
	// test to about ten seconds and the one-second window is checked the same.
	const rate = 200
	w := newWorld(t)
	w.families(t, 1000, 2)
	w.link(t, `true`)
	// Past its cap the fake answers 429, as Telegram does.
	w.tg.LimitRate(rate)
	// The wave is planned at twice the limit, so the limiter, not the plan,
	// paces it.
	var clients []*jobs.Jobs
	for i := range 3 {
		clients = append(clients, w.client(t, clientOpts{id: fmt.Sprintf("replica-%d", i), rate: rate, planRate: 2 * rate, workers: 24}))
	}
	n := w.reminderWave(t, clients[0])
	if n != 2000 {
		t.Fatalf("wave of %d reminders; want 2000", n)
	}
	base := w.finished(t)
	for _, j := range clients {
		run(t, j)
	}
	w.waitFinished(t, base+n, 90*time.Second)

	got := w.deliveredTo()
	if len(got) != 2000 {
		t.Errorf("%d chats got a reminder; want 2000", len(got))
	}
	for chat, k := range got {
		if k != 1 {
			t.Errorf("chat %d got %d reminders; want exactly one", chat, k)
		}
	}
	if sent := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'reminder' AND sent_at IS NOT NULL`); sent != 2000 {
		t.Errorf("%d reminders recorded sent; want 2000", sent)
	}
	p := w.tg.PeakRate("sendMessage", time.Second)
	if p > rate {
		t.Errorf("peak %d messages in one second; want at most %d", p, rate)
	}
	t.Logf("peak over any one-second window: %d messages (limit %d)", p, rate)
	throttled := 0
	for _, c := range w.tg.CallsTo("sendMessage") {
		if c.Status == 429 {
			throttled++
		}
	}
	if throttled > 0 {
		t.Errorf("the fake Bot API answered 429 %d times; the limiter should keep below its cap", throttled)
	}
	// Every replica took part.
	for i := range 3 {
		id := fmt.Sprintf("replica-%d", i)
		if k := w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sw_notice' AND $1 = ANY(attempted_by)`, id); k == 0 {
			t.Errorf("%s sent nothing; want the wave shared", id)
		}
	}
}

// childEnv marks the test binary re-executed as a serve process that only
// runs jobs: TestJobsChildProcess reads its settings from the environment.
const childEnv = "SW_JOBS_CHILD"

// TestJobsChildProcess is not a test: it is the job process the SIGKILL test
// starts (and kills).
func TestJobsChildProcess(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("helper process for TestSIGKILLMidWave")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	start, err := time.Parse(time.RFC3339Nano, os.Getenv("SW_JOBS_CLOCK"))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, os.Getenv("SW_JOBS_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	api, err := bot.NewAPI(ctx, os.Getenv("SW_JOBS_TOKEN"), os.Getenv("SW_JOBS_ENDPOINT"), nil)
	if err != nil {
		t.Fatal(err)
	}
	opt, _ := goredis.ParseURL(redistest.URL())
	rc := goredis.NewClient(opt)
	defer rc.Close()
	prog := program.Default()
	clk := clock.StartingAt(start)
	st := postgres.New(pool)
	svc := wallet.NewService(prog, clk, secret, st)
	var rate int
	fmt.Sscan(os.Getenv("SW_JOBS_RATE"), &rate)
	j, err := jobs.New(pool, jobs.Config{
		Program: prog, Clock: clk, Wallet: svc, Store: st,
		Sender:  bot.NewSender(api, locales.MustLoad(), prog, svc, nil),
		Limiter: rstore.NewSendLimiter(rc, rstore.SendLimiterConfig{Rate: rate, Prefix: os.Getenv("SW_JOBS_PREFIX")}),
		Log:     testLog(), Rate: rate, Workers: 8, NoSchedule: true, ID: os.Getenv("SW_JOBS_ID"),
		JobTimeout: 5 * time.Second, RescueAfter: 6 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSIGKILLMidWave(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the helper process")
	}
	const rate = 100
	w := newWorld(t)
	w.families(t, 300, 2)
	w.link(t, `true`)
	n := w.reminderWave(t, w.client(t, clientOpts{rate: rate, planRate: 2 * rate}))
	if n != 600 {
		t.Fatalf("wave of %d; want 600", n)
	}
	base := w.finished(t)
	procs := make([]*exec.Cmd, 3)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJobsChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1",
			"SW_JOBS_DB="+w.url, "SW_JOBS_PREFIX="+w.prefix, "SW_JOBS_TOKEN="+w.tg.Token(),
			"SW_JOBS_ENDPOINT="+w.tg.Endpoint(), "SW_JOBS_CLOCK="+w.clock.Now().Format(time.RFC3339Nano),
			fmt.Sprintf("SW_JOBS_RATE=%d", rate), fmt.Sprintf("SW_JOBS_ID=proc-%d", i))
		if os.Getenv("SW_TEST_LOG") != "" {
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = cmd
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
	}
	// A third of the way through, the first process dies without a word.
	for w.tg.Count("sendMessage") < n/3 {
		time.Sleep(20 * time.Millisecond)
	}
	if err := procs[0].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	procs[0].Wait()
	killedAt := w.tg.Count("sendMessage")
	t.Logf("killed proc-0 after %d messages", killedAt)
	// The others finish the wave, with the killed process's jobs rescued.
	w.waitFinished(t, base+n, 90*time.Second)

	got := w.deliveredTo()
	for _, m := range w.ids(t, `SELECT member_id FROM notifications WHERE kind = 'reminder'`) {
		if got[chatOf(m)] == 0 {
			t.Errorf("member %d got no reminder", m)
		}
	}
	if sent := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'reminder' AND sent_at IS NOT NULL`); sent != n {
		t.Errorf("%d reminders recorded sent; want %d", sent, n)
	}
	// A duplicate is only possible for a job the killed process was running
	// (Telegram answered, the commit never came): at most its 8 workers, each
	// a job it attempted that another process then ran again.
	var dups []int64
	for chat, k := range got {
		if k > 1 {
			dups = append(dups, chat)
		}
	}
	sort.Slice(dups, func(i, j int) bool { return dups[i] < dups[j] })
	t.Logf("%d duplicate(s) after the SIGKILL: %v", len(dups), dups)
	if len(dups) > 8 {
		t.Errorf("%d chats got the reminder twice; want at most the killed process's 8 in-flight sends", len(dups))
	}
	for _, chat := range dups {
		var attempted []string
		var attempt int
		err := w.pool.QueryRow(w.ctx, `SELECT j.attempted_by, j.attempt FROM river_job j JOIN notifications n
			ON n.id = (j.args->>'notification_id')::bigint WHERE n.member_id = $1 AND n.kind = 'reminder'`, chat-1000000).Scan(&attempted, &attempt)
		if err != nil {
			t.Fatal(err)
		}
		if attempt < 2 || len(attempted) == 0 || attempted[0] != "proc-0" {
			t.Errorf("chat %d got two reminders from a job attempted by %v (%d attempts); want first by the killed proc-0", chat, attempted, attempt)
		}
	}
	rescued := w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sw_notice' AND attempted_by[1] = 'proc-0' AND attempt > 1`)
	t.Logf("%d jobs of the killed process were rescued and finished by the others", rescued)
}

func TestTelegramFaults(t *testing.T) {
	t.Run("429 pauses every sender for retry_after", func(t *testing.T) {
		w := newWorld(t)
		w.families(t, 20, 2)
		w.link(t, `true`)
		a := w.client(t, clientOpts{id: "a", rate: 50, planRate: 100})
		n := w.reminderWave(t, a)
		base := w.finished(t)
		w.tg.TooManyRequests(2, 1)
		run(t, a)
		run(t, w.client(t, clientOpts{id: "b", rate: 50}))
		w.waitFinished(t, base+n, 30*time.Second)
		calls := w.tg.CallsTo("sendMessage")
		var at time.Time
		for _, c := range calls {
			if c.Status == 429 {
				at = c.At
				break
			}
		}
		if at.IsZero() {
			t.Fatal("no 429 answered")
		}
		// Requests already on the wire when the 429 came may land just after
		// it; after that nothing for the 2 seconds Telegram asked for.
		for _, c := range calls {
			if c.At.After(at.Add(100*time.Millisecond)) && c.At.Before(at.Add(1900*time.Millisecond)) {
				t.Errorf("a message reached Telegram %v after its 429 with retry_after 2", c.At.Sub(at))
			}
		}
		for chat, k := range w.deliveredTo() {
			if k != 1 {
				t.Errorf("chat %d got %d reminders; want one", chat, k)
			}
		}
		if sent := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'reminder' AND sent_at IS NOT NULL`); sent != n {
			t.Errorf("%d of %d reminders sent after the pause", sent, n)
		}
	})

	t.Run("5xx and timeouts are retried", func(t *testing.T) {
		w := newWorld(t)
		w.families(t, 10, 2)
		w.link(t, `true`)
		a := w.client(t, clientOpts{id: "a", rate: 50, planRate: 100})
		n := w.reminderWave(t, a)
		base := w.finished(t)
		w.tg.ServerError("sendMessage", 502, 2)
		w.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Code: 503, HTML: true, Times: 1})
		// Longer than the 5 s a send may take: the job gives up and retries.
		w.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Delay: 7 * time.Second, Times: 1})
		run(t, a)
		w.waitFinished(t, base+n, 60*time.Second)
		for chat, k := range w.deliveredTo() {
			if k != 1 {
				t.Errorf("chat %d got %d reminders; want one", chat, k)
			}
		}
		if sent := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'reminder' AND sent_at IS NOT NULL`); sent != n {
			t.Errorf("%d of %d reminders sent", sent, n)
		}
		if retried := w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sw_notice' AND attempt > 1`); retried != 4 {
			t.Errorf("%d send jobs retried; want 4 (502, 502, 503 page, timeout)", retried)
		}
	})

	t.Run("403 marks the link blocked and nothing more goes to it", func(t *testing.T) {
		w := newWorld(t)
		w.families(t, 5, 2)
		w.link(t, `true`)
		a := w.client(t, clientOpts{id: "a", rate: 50})
		n := w.reminderWave(t, a)
		base := w.finished(t)
		blocked := w.ids(t, `SELECT min(id) FROM members`)[0]
		w.tg.Block(chatOf(blocked))
		run(t, a)
		w.waitFinished(t, base+n, 30*time.Second)
		if k := w.count(t, `SELECT count(*) FROM telegram_links WHERE member_id = $1 AND blocked_at IS NOT NULL`, blocked); k != 1 {
			t.Fatalf("link of the member who blocked the bot not marked blocked")
		}
		if k := w.count(t, `SELECT count(*) FROM notifications WHERE member_id = $1 AND kind = 'reminder'
			AND sent_at IS NULL AND error = 'bot blocked by the member'`, blocked); k != 1 {
			t.Errorf("blocked reminder recorded %d times as blocked; want 1", k)
		}
		calls := len(w.tg.CallsTo("sendMessage"))
		// The next wave leaves the member out; a notice written anyway (a
		// freeze) is dropped without a call.
		w.exec(t, `INSERT INTO notifications (member_id, kind, ref_id, created_at) VALUES ($1, 'frozen', 1, now())`, blocked)
		w.clock.Set(w.at(time.January, 29, 10, 0, 0))
		if err := a.Tick(w.ctx); err != nil {
			t.Fatal(err)
		}
		if w.notified(t, w.jan, wallet.NoticeReminder, 3)[blocked] {
			t.Errorf("the D-3 wave includes the member who blocked the bot")
		}
		w.waitFinished(t, w.count(t, `SELECT count(*) FROM notifications`), 30*time.Second)
		for _, c := range w.tg.CallsTo("sendMessage")[calls:] {
			if c.ChatID == chatOf(blocked) {
				t.Errorf("a message went to the blocked chat after its 403")
			}
		}
		if k := w.count(t, `SELECT count(*) FROM notifications WHERE member_id = $1 AND kind = 'frozen'
			AND error = 'skipped: bot blocked by the member'`, blocked); k != 1 {
			t.Errorf("notice to a blocked member not skipped")
		}
	})
}

func TestActivationInTheLastSecondRacingAnnulment(t *testing.T) {
	w := newWorld(t)
	w.families(t, 100, 3)
	w.link(t, `true`)
	j := w.client(t, clientOpts{})
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	if err := j.Tick(w.ctx); err != nil {
		t.Fatal(err)
	}
	// Every fifth family's adults never press: their vouchers must be annulled
	// whatever the race does.
	adults := w.ids(t, `SELECT m.id FROM members m JOIN families f ON f.id = m.family_id
		WHERE m.birth_date < '2000-01-01' AND hashtext(f.id) % 5 <> 0 ORDER BY m.id`)
	for _, id := range adults {
		if err := w.svc.GiveConsent(w.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	deadline := w.prog.Deadline(w.jan)
	// The recipients press Activate at 23:59:59.999; the annulment job's
	// clock says 00:00:00. Both run at once.
	last := wallet.NewService(w.prog, clock.Frozen(deadline.Add(-time.Millisecond)), secret, w.store)
	w.clock.Set(deadline)
	start := make(chan struct{})
	var mu sync.Mutex
	results := map[int64]error{}
	var wg sync.WaitGroup
	for _, id := range adults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := last.Activate(w.ctx, id, w.jan)
			mu.Lock()
			results[id] = err
			mu.Unlock()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		// The annulment starts once a sixth of the presses have gone
		// through, so the rest are still in flight when it runs.
		for w.count(t, `SELECT count(DISTINCT activated_by) FROM vouchers WHERE activated_by IS NOT NULL`) < len(adults)/6 {
			time.Sleep(time.Millisecond)
		}
		if err := j.Tick(w.ctx); err != nil {
			t.Error(err)
		}
	}()
	close(start)
	wg.Wait()

	type row struct {
		id, member  int64
		state       string
		activations int
		balance     int64
	}
	rows, err := w.pool.Query(w.ctx, `SELECT v.id, v.member_id, v.state, v.balance,
		(SELECT count(*) FROM ledger l WHERE l.voucher_id = v.id AND l.kind = 'activation')
		FROM vouchers v WHERE v.period = '2026-01-01'`)
	if err != nil {
		t.Fatal(err)
	}
	var vs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.member, &r.state, &r.balance, &r.activations); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, r)
	}
	activated, annulled := 0, 0
	for _, v := range vs {
		switch {
		case v.state == "activated" && v.activations == 1 && v.balance == int64(wallet.TengeToTiyn(4325)):
			activated++
		case v.state == "annulled" && v.activations == 0 && v.balance == 0:
			annulled++
		default:
			t.Errorf("voucher %d: %s with %d activation rows and balance %d; want activated (one row) or annulled (none)",
				v.id, v.state, v.activations, v.balance)
		}
	}
	// Each adult's press either activated their own voucher (and, for the
	// applicant, the child's) or was refused because the deadline had passed.
	for id, err := range results {
		if err != nil && !wallet.IsCode(err, wallet.CodeDeadlinePassed) {
			t.Errorf("Activate(%d) = %v; want success or %s", id, err, wallet.CodeDeadlinePassed)
		}
		var state string
		w.pool.QueryRow(w.ctx, `SELECT state FROM vouchers WHERE member_id = $1 AND period = '2026-01-01'`, id).Scan(&state)
		if (err == nil) != (state == "activated") {
			t.Errorf("Activate(%d) = %v but the voucher is %s", id, err, state)
		}
	}
	refused := 0
	for _, err := range results {
		if err != nil {
			refused++
		}
	}
	t.Logf("racing the annulment: %d vouchers activated, %d annulled; %d of %d presses refused", activated, annulled, refused, len(adults))
	if activated == 0 || annulled == 0 {
		t.Errorf("racing the annulment: %d vouchers activated, %d annulled; want both outcomes", activated, annulled)
	}
	sameSet(t, "annulment notices", w.notified(t, w.jan, wallet.NoticeAnnulled, 0), w.audience(t, w.jan, wallet.NoticeAnnulled))
}

func TestReceiptsAndFreezesGoThroughTheSameSender(t *testing.T) {
	w := newWorld(t)
	w.clock.Set(w.at(time.January, 12, 15, 0, 0))
	w.families(t, 1, 2)
	w.link(t, `true`)
	j := w.client(t, clientOpts{id: "till"})
	if err := j.Tick(w.ctx); err != nil { // issues January
		t.Fatal(err)
	}
	w.exec(t, `UPDATE notifications SET queued_at = now(), sent_at = now()`)
	if _, bad, err := w.svc.ImportCatalog(w.ctx, data.SZPT()); err != nil || len(bad) > 0 {
		t.Fatalf("ImportCatalog() = %v, %v", bad, err)
	}
	_, key, err := w.svc.AddMerchant(w.ctx, wallet.Merchant{Name: "Дүкен", City: "kokshetau", Address: "Абай 1", Lat: 53.28, Lon: 69.39, DiscountBP: 1000})
	if err != nil {
		t.Fatal(err)
	}
	merchant, err := w.svc.MerchantByKey(w.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	mother := w.ids(t, `SELECT id FROM members WHERE role = 'applicant'`)[0]
	w.activate(t, fmt.Sprintf(`m.id = %d`, mother))
	_, signed, err := w.svc.IssueQR(w.ctx, mother)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := w.svc.Redeem(w.ctx, wallet.RedeemRequest{Merchant: merchant, Token: signed, IdempotencyKey: "k-1",
		RequestHash: []byte("h1"), ReceiptNo: "1", Lines: []wallet.LineInput{{Product: "flour-wheat-1", QtyMilli: 2000, UnitPrice: 50000}}})
	if err != nil {
		t.Fatalf("Redeem() = %v", err)
	}
	if _, err := w.svc.VoidRedemption(w.ctx, merchant.ID, r.ID); err != nil {
		t.Fatalf("VoidRedemption() = %v", err)
	}
	base := w.finished(t)
	if n := w.count(t, `SELECT count(*) FROM notifications WHERE kind IN ('receipt', 'void') AND ref_id = $1`, r.ID); n != 2 {
		t.Fatalf("%d receipt notifications queued by the purchase and the void; want 2", n)
	}
	run(t, j)
	w.waitFinished(t, base+2, 20*time.Second)
	msgs := w.tg.Messages(chatOf(mother))
	if len(msgs) != 2 {
		t.Fatalf("the buyer got %d messages; want the receipt and the void", len(msgs))
	}
	rc, err := w.svc.Receipt(w.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	lang := "ru"
	if mother%2 == 0 {
		lang = "kk"
	}
	want, _ := bot.RenderReceipt(w.bundle, lang, rc)
	if got := msgs[1].Body(); got != want {
		t.Errorf("void message = %q; want the receipt as rendered now: %q", got, want)
	}
	if !strings.Contains(msgs[0].Body(), "Дүкен") {
		t.Errorf("receipt = %q; want the store's name", msgs[0].Body())
	}

	// A second purchase the family reports as not theirs: the wallet is
	// frozen and each linked member is told whom to call.
	_, signed, err = w.svc.IssueQR(w.ctx, mother)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := w.svc.Redeem(w.ctx, wallet.RedeemRequest{Merchant: merchant, Token: signed, IdempotencyKey: "k-2",
		RequestHash: []byte("h2"), ReceiptNo: "2", Lines: []wallet.LineInput{{Product: "flour-wheat-1", QtyMilli: 1000, UnitPrice: 50000}}})
	if err != nil {
		t.Fatalf("Redeem() = %v", err)
	}
	base = w.finished(t) + 1 // and the second receipt
	if err := w.svc.ReportNotMe(w.ctx, mother, r2.ID); err != nil {
		t.Fatalf("ReportNotMe() = %v", err)
	}
	frozen := w.count(t, `SELECT count(*) FROM notifications WHERE kind = 'frozen'`)
	if frozen != 2 {
		t.Fatalf("%d freeze notices; want one to each of the two linked members", frozen)
	}
	w.waitFinished(t, base+frozen, 20*time.Second)
	for _, m := range w.ids(t, `SELECT member_id FROM notifications WHERE kind = 'frozen'`) {
		lang := "ru"
		if m%2 == 0 {
			lang = "kk"
		}
		city, _ := w.prog.City("kokshetau")
		help := city.HelpRU
		if lang == "kk" {
			help = city.HelpKK
		}
		told := false
		for _, x := range w.tg.Messages(chatOf(m)) {
			told = told || strings.Contains(x.Body(), help)
		}
		if !told {
			t.Errorf("member %d was not told to turn to the city's department (%q)", m, help)
		}
	}
}
