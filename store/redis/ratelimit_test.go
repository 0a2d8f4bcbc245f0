package redis

import (
	"context"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"socialwallet/internal/redistest"
)

func TestCodeLimiterTenWrongCodesThenRefused(t *testing.T) {
	c, prefix := redistest.Client(t)
	l := NewCodeLimiter(c, prefix)
	ctx := context.Background()
	for i := 1; i <= WrongCodesPerMinute; i++ {
		ok, _, err := l.Reserve(ctx, 1)
		if err != nil || !ok {
			t.Fatalf("Reserve #%d = %v, %v; want allowed", i, ok, err)
		}
	}
	ok, retry, err := l.Reserve(ctx, 1)
	if err != nil || ok {
		t.Fatalf("Reserve #%d = %v, %v; want refused", WrongCodesPerMinute+1, ok, err)
	}
	if retry <= 0 || retry > time.Minute/WrongCodesPerMinute+time.Second {
		t.Errorf("retryAfter = %v; want within one emission interval (%v)", retry, time.Minute/WrongCodesPerMinute)
	}
	// Another merchant is not affected.
	if ok, _, err := l.Reserve(ctx, 2); err != nil || !ok {
		t.Errorf("Reserve(merchant 2) = %v, %v; want allowed", ok, err)
	}
}

func TestCodeLimiterRightCodesDoNotCount(t *testing.T) {
	tests := []struct {
		name        string
		wrongBefore int // wrong codes before the right ones
		right       int // reserved and released
	}{
		{"one right code on a full bucket", 0, 1},
		{"many right codes", 0, 25},
		{"right codes between wrong ones", 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, prefix := redistest.Client(t)
			l := NewCodeLimiter(c, prefix)
			ctx := context.Background()
			wrong := 0
			for ; wrong < tt.wrongBefore; wrong++ {
				if ok, _, err := l.Reserve(ctx, 7); err != nil || !ok {
					t.Fatalf("wrong #%d refused: %v", wrong+1, err)
				}
			}
			for i := 0; i < tt.right; i++ {
				ok, _, err := l.Reserve(ctx, 7)
				if err != nil || !ok {
					t.Fatalf("right code #%d refused: %v, %v", i+1, ok, err)
				}
				if err := l.Release(ctx, 7); err != nil {
					t.Fatalf("Release: %v", err)
				}
			}
			for ; wrong < WrongCodesPerMinute; wrong++ {
				if ok, _, err := l.Reserve(ctx, 7); err != nil || !ok {
					t.Fatalf("wrong code #%d after %d right ones = %v, %v; want allowed", wrong+1, tt.right, ok, err)
				}
			}
			if ok, _, _ := l.Reserve(ctx, 7); ok {
				t.Errorf("wrong code #%d allowed; want refused", WrongCodesPerMinute+1)
			}
		})
	}
}

func TestCodeLimiterRecovers(t *testing.T) {
	c, prefix := redistest.Client(t)
	l := NewCodeLimiterWith(c, prefix, redis_rate.Limit{Rate: 2, Burst: 2, Period: 400 * time.Millisecond})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if ok, _, _ := l.Reserve(ctx, 3); !ok {
			t.Fatalf("Reserve #%d refused", i+1)
		}
	}
	ok, retry, _ := l.Reserve(ctx, 3)
	if ok {
		t.Fatal("third Reserve allowed; want refused")
	}
	time.Sleep(250 * time.Millisecond) // one emission interval is 200 ms
	if ok, _, err := l.Reserve(ctx, 3); !ok {
		t.Errorf("Reserve after %v = refused, %v; want allowed again", retry, err)
	}
}
