package redis_test

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"socialwallet/internal/redistest"
	rstore "socialwallet/store/redis"
)

// sendReplicas gives n limiters that share one Redis and key prefix, each on its
// own connection pool, as n serve processes would.
func sendReplicas(t testing.TB, n int, cfg rstore.SendLimiterConfig) []*rstore.SendLimiter {
	t.Helper()
	_, prefix := redistest.Client(t)
	cfg.Prefix = prefix
	out := make([]*rstore.SendLimiter, n)
	for i := range out {
		opt, _ := goredis.ParseURL(redistest.URL())
		c := goredis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		out[i] = rstore.NewSendLimiter(c, cfg)
	}
	return out
}

// sendPeak is the most grants in any window of length w.
func sendPeak(at []time.Time, w time.Duration) int {
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	best, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func TestSendLimiterHoldsTheRateAcrossReplicas(t *testing.T) {
	const rate = 50
	ls := sendReplicas(t, 3, rstore.SendLimiterConfig{Rate: rate})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var grants []time.Time
	var wg sync.WaitGroup
	// 30 workers over three replicas, each to its own chats, 5 messages each:
	// 150 messages, three seconds at 50/s.
	for w := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 5 {
				if err := ls[w%3].Wait(ctx, int64(w*100+k)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				grants = append(grants, time.Now())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(grants) != 150 {
		t.Fatalf("granted %d; want 150", len(grants))
	}
	if p := sendPeak(grants, time.Second); p > rate {
		t.Errorf("peak over one second = %d; want at most %d", p, rate)
	}
}

func TestSendLimiterOneMessageASecondPerChat(t *testing.T) {
	ls := sendReplicas(t, 2, rstore.SendLimiterConfig{Rate: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var grants []time.Time
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ls[w%2].Wait(ctx, 42); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			grants = append(grants, time.Now())
			mu.Unlock()
		}()
	}
	// Another chat is not held up by chat 42.
	start := time.Now()
	if err := ls[0].Wait(ctx, 43); err != nil {
		t.Fatal(err)
	}
	other := time.Since(start)
	wg.Wait()
	if p := sendPeak(grants, time.Second); p != 1 {
		t.Errorf("chat 42: %d messages within one second; want 1", p)
	}
	if other >= time.Second {
		t.Errorf("chat 43 waited %v behind chat 42; want less than a second", other)
	}
}

func TestSendLimiterPauseStopsEveryReplica(t *testing.T) {
	ls := sendReplicas(t, 2, rstore.SendLimiterConfig{Rate: 100})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if err := ls[0].Pause(ctx, 700*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := ls[0].Pause(ctx, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if left, err := ls[1].Paused(ctx); err != nil || left < 500*time.Millisecond {
		t.Errorf("Paused() = %v, %v; want the longer pause to stand (~700ms)", left, err)
	}
	start := time.Now()
	if err := ls[1].Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 550*time.Millisecond {
		t.Errorf("the other replica sent after %v; want after the pause (~700ms)", waited)
	}

	// A pause set while a worker waits for its slot holds that worker too.
	for i := range 50 { // book the grid 0.5 s ahead
		go ls[0].Wait(ctx, int64(9000+i))
	}
	time.Sleep(50 * time.Millisecond)
	done := make(chan time.Duration, 1)
	start = time.Now()
	go func() {
		ls[1].Wait(ctx, 2)
		done <- time.Since(start)
	}()
	time.Sleep(100 * time.Millisecond)
	if err := ls[0].Pause(ctx, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if waited := <-done; waited < 1500*time.Millisecond {
		t.Errorf("a worker waiting when the pause came sent after %v; want after the pause (≥1.6s)", waited)
	}

	cctx, ccancel := context.WithCancel(ctx)
	ls[0].Pause(ctx, 5*time.Second)
	ccancel()
	if err := ls[1].Wait(cctx, 3); err == nil {
		t.Errorf("Wait(cancelled) = nil; want the context's error")
	}
}

// BenchmarkSendLimiterRate reports the grant rate of three replicas with 16
// workers each as a fraction of the configured rate.
func BenchmarkSendLimiterRate(b *testing.B) {
	for _, rate := range []int{25, 200} {
		b.Run("rate="+strconv.Itoa(rate), func(b *testing.B) {
			ls := sendReplicas(b, 3, rstore.SendLimiterConfig{Rate: rate})
			ctx := context.Background()
			n := rate * 4
			var mu sync.Mutex
			var grants []time.Time
			b.ResetTimer()
			for range b.N {
				grants = grants[:0]
				var wg sync.WaitGroup
				work := make(chan int64)
				for w := range 48 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for chat := range work {
							ls[w%3].Wait(ctx, chat)
							mu.Lock()
							grants = append(grants, time.Now())
							mu.Unlock()
						}
					}()
				}
				for i := range n {
					work <- int64(i)
				}
				close(work)
				wg.Wait()
			}
			b.StopTimer()
			sort.Slice(grants, func(i, j int) bool { return grants[i].Before(grants[j]) })
			span := grants[len(grants)-1].Sub(grants[0]).Seconds()
			achieved := float64(len(grants)-1) / span
			b.ReportMetric(achieved, "msgs/s")
			b.ReportMetric(achieved/float64(rate), "of-limit")
			b.ReportMetric(float64(sendPeak(grants, time.Second)), "peak/s")
		})
	}
}
