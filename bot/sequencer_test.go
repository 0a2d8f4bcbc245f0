package bot

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSequencerKeepsEachKeyInOrder(t *testing.T) {
	s := newSequencer(4)
	const keys, per = 10, 200
	var mu sync.Mutex
	got := map[int64][]int{}
	var wg sync.WaitGroup
	for i := 0; i < per; i++ {
		for k := int64(0); k < keys; k++ {
			wg.Add(1)
			s.Go(k, func() {
				defer wg.Done()
				mu.Lock()
				got[k] = append(got[k], i)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for k := int64(0); k < keys; k++ {
		if len(got[k]) != per {
			t.Fatalf("key %d ran %d tasks; want %d", k, len(got[k]), per)
		}
		for i, v := range got[k] {
			if v != i {
				t.Fatalf("key %d ran task %d at position %d; want in order", k, v, i)
			}
		}
	}
}

func TestSequencerBoundsConcurrency(t *testing.T) {
	s := newSequencer(3)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for k := int64(0); k < 30; k++ {
		wg.Add(1)
		s.Go(k, func() {
			defer wg.Done()
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d; want up to 3 (and more than 1)", p)
	}
}

// A task of one key that waits for a task of another must not deadlock:
// different keys run side by side.
func TestSequencerRunsKeysConcurrently(t *testing.T) {
	s := newSequencer(2)
	release := make(chan struct{})
	done := make(chan struct{})
	s.Go(1, func() { <-release; close(done) })
	s.Go(2, func() { close(release) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("key 1 waited on key 2 for ever: keys do not run concurrently")
	}
}
