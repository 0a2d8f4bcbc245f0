package jobs_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"socialwallet/jobs"
	"socialwallet/wallet"
)

// BenchmarkWave100k plans and enqueues the D-7 reminder wave for 100 000
// recipients (50 000 families of two adults, all linked): the tick that
// counts the audience and writes its notifications at their slots, then the
// dispatch that turns all of them into send jobs. For scale, the same run
// inserts 100 000 plain River jobs with one InsertMany. Run with
// -benchtime=1x: one wave per database. JOBS_BENCH_FAMILIES changes the size
// (two recipients a family).
func BenchmarkWave100k(b *testing.B) {
	families := 50000
	if v := os.Getenv("JOBS_BENCH_FAMILIES"); v != "" {
		fmt.Sscan(v, &families)
	}
	w := newWorld(b)
	w.clock.Set(w.at(time.January, 10, 12, 0, 0))
	start := time.Now()
	w.families(b, families, 2)
	w.link(b, `true`)
	if _, err := w.svc.Issue(w.ctx, w.jan); err != nil {
		b.Fatal(err)
	}
	if err := w.store.SaveStep(w.ctx, wallet.ScheduleStep{Period: w.jan, Step: "issue", PlannedAt: w.clock.Now(), DoneAt: w.clock.Now()}); err != nil {
		b.Fatal(err)
	}
	b.Logf("set up %d recipients in %v", 2*families, time.Since(start).Round(time.Millisecond))
	j := w.client(b, clientOpts{id: "bench"})
	var plan, enqueue, plain time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		w.exec(b, `DELETE FROM notifications`)
		w.exec(b, `DELETE FROM job_steps WHERE step LIKE 'remind-%'`)
		w.exec(b, `DELETE FROM river_job`)
		w.exec(b, `VACUUM ANALYZE notifications`)
		w.clock.Set(w.at(time.January, 25, 10, 0, 0))
		b.StartTimer()

		t0 := time.Now()
		if err := j.Tick(w.ctx); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		// Past the wave's last slot (100 000 at 22.5/s: 74 minutes).
		w.clock.Set(w.at(time.January, 25, 12, 0, 0))
		n, err := j.Dispatch(w.ctx)
		if err != nil || n != 2*families {
			b.Fatalf("Dispatch() = %d, %v; want %d", n, err, 2*families)
		}
		t2 := time.Now()
		plan += t1.Sub(t0)
		enqueue += t2.Sub(t1)

		b.StopTimer()
		params := make([]river.InsertManyParams, 2*families)
		for i := range params {
			params[i] = river.InsertManyParams{Args: jobs.SendArgs{NotificationID: int64(i + 1), NoticeKind: "reminder"},
				InsertOpts: &river.InsertOpts{Queue: "sw_bench"}}
		}
		t3 := time.Now()
		if _, err := j.Client().InsertMany(context.Background(), params); err != nil {
			b.Fatal(err)
		}
		plain += time.Since(t3)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(per(plan), "plan-s")
	b.ReportMetric(per(enqueue), "enqueue-s")
	b.ReportMetric(per(plan+enqueue), "wave-s")
	b.ReportMetric(per(plain), "insertmany-s")
	b.ReportMetric((plan+enqueue).Seconds()/plain.Seconds(), "x-insertmany")
}

// BenchmarkSendRate sends a reminder wave from three job clients through the
// shared limiter to the fake Bot API and reports the rate Telegram saw, as a
// fraction of the configured limit. The wave is planned at twice the limit,
// so only the limiter paces it.
func BenchmarkSendRate(b *testing.B) {
	for _, tc := range []struct{ rate, families int }{{25, 300}, {200, 1000}} {
		b.Run(fmt.Sprintf("limit=%d", tc.rate), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				w := newWorld(b)
				w.families(b, tc.families, 2)
				w.link(b, `true`)
				var cs []*jobs.Jobs
				for i := range 3 {
					cs = append(cs, w.client(b, clientOpts{id: fmt.Sprintf("r%d", i), rate: tc.rate, planRate: float64(2 * tc.rate), workers: 16}))
				}
				n := w.reminderWave(b, cs[0])
				base := w.finished(b)
				b.StartTimer()
				for _, c := range cs {
					run(b, c)
				}
				w.waitFinished(b, base+n, 5*time.Minute)
				b.StopTimer()
				var first, last time.Time
				sent := 0
				for _, c := range w.tg.CallsTo("sendMessage") {
					if c.Status != 200 {
						continue
					}
					if first.IsZero() || c.At.Before(first) {
						first = c.At
					}
					if c.At.After(last) {
						last = c.At
					}
					sent++
				}
				achieved := float64(sent-1) / last.Sub(first).Seconds()
				b.ReportMetric(achieved, "msgs/s")
				b.ReportMetric(achieved/float64(tc.rate), "of-limit")
				b.ReportMetric(float64(w.tg.PeakRate("sendMessage", time.Second)), "peak/s")
			}
		})
	}
}
