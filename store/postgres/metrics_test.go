package postgres_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"socialwallet/wallet"
)

// The gauges are read from the tables at scrape time: a family of four with
// January issued and the father's voucher activated, and River jobs in two
// queues.
func TestCollectorReadsVouchersAndTheJobQueue(t *testing.T) {
	e := newEnv(t, almaty(t, "2026-01-10 12:00:00"))
	people := e.importFamilies(t, 1, 4)
	jan := wallet.Period{Year: 2026, Month: time.January}
	if _, err := e.svc.Issue(e.ctx, jan); err != nil {
		t.Fatal(err)
	}
	father := e.member(t, people[1].IIN)
	if err := e.svc.GiveConsent(e.ctx, father.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Activate(e.ctx, father.ID, jan); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Pool().Exec(e.ctx, `
		INSERT INTO river_queue (name) VALUES ('sw_notify'), ('sw_schedule');
		INSERT INTO river_job (kind, args, queue, state, scheduled_at) VALUES
			('sw_notice', '{}', 'sw_notify', 'available', now()),
			('sw_notice', '{}', 'sw_notify', 'available', now()),
			('sw_notice', '{}', 'sw_notify', 'retryable', now() + interval '1 minute');
		INSERT INTO river_job (kind, args, queue, state, finalized_at) VALUES
			('sw_notice', '{}', 'sw_notify', 'discarded', now()),
			('sw_notice', '{}', 'sw_notify', 'completed', now())`); err != nil {
		t.Fatal(err)
	}
	c := e.store.Collector(func() wallet.Period { return e.prog.PeriodAt(e.clock.Now()) }, time.Minute)
	// 4 325 ₸ = 432 500 tiyn a voucher.
	want := `
# HELP socialwallet_job_queue_jobs River jobs by queue and state: available, scheduled and retryable are the queue's depth; discarded jobs failed for good (kept 7 days).
# TYPE socialwallet_job_queue_jobs gauge
socialwallet_job_queue_jobs{queue="sw_notify",state="available"} 2
socialwallet_job_queue_jobs{queue="sw_notify",state="discarded"} 1
socialwallet_job_queue_jobs{queue="sw_notify",state="retryable"} 1
socialwallet_job_queue_jobs{queue="sw_notify",state="running"} 0
socialwallet_job_queue_jobs{queue="sw_notify",state="scheduled"} 0
socialwallet_job_queue_jobs{queue="sw_schedule",state="available"} 0
socialwallet_job_queue_jobs{queue="sw_schedule",state="discarded"} 0
socialwallet_job_queue_jobs{queue="sw_schedule",state="retryable"} 0
socialwallet_job_queue_jobs{queue="sw_schedule",state="running"} 0
socialwallet_job_queue_jobs{queue="sw_schedule",state="scheduled"} 0
# HELP socialwallet_vouchers Vouchers of the current period by state (issued, activated, spent, annulled, expired).
# TYPE socialwallet_vouchers gauge
socialwallet_vouchers{period="2026-01",state="activated"} 1
socialwallet_vouchers{period="2026-01",state="annulled"} 0
socialwallet_vouchers{period="2026-01",state="expired"} 0
socialwallet_vouchers{period="2026-01",state="issued"} 3
socialwallet_vouchers{period="2026-01",state="spent"} 0
# HELP socialwallet_vouchers_amount_tiyn Face value of the current period's vouchers by state, in tiyn.
# TYPE socialwallet_vouchers_amount_tiyn gauge
socialwallet_vouchers_amount_tiyn{period="2026-01",state="activated"} 432500
socialwallet_vouchers_amount_tiyn{period="2026-01",state="annulled"} 0
socialwallet_vouchers_amount_tiyn{period="2026-01",state="expired"} 0
socialwallet_vouchers_amount_tiyn{period="2026-01",state="issued"} 1.2975e+06
socialwallet_vouchers_amount_tiyn{period="2026-01",state="spent"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Errorf("Collector: %v", err)
	}
	// Within the cache's time to live a scrape does not query again: the
	// activation of the mother is not seen yet.
	mother := e.member(t, people[0].IIN)
	e.svc.GiveConsent(e.ctx, mother.ID)
	if _, err := e.svc.Activate(e.ctx, mother.ID, jan); err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "socialwallet_vouchers"); err != nil {
		t.Errorf("Collector within its ttl: %v", err)
	}
}
