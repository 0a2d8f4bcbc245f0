package redis_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"socialwallet/internal/redistest"
	rstore "socialwallet/store/redis"
	"socialwallet/wallet"
)

func TestSessions(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := context.Background()
	s := rstore.NewSessions(c, prefix, time.Minute)
	if b, err := s.Load(ctx, 42); err != nil || b != nil {
		t.Fatalf("Load(none) = %q, %v; want nil, nil", b, err)
	}
	if err := s.Save(ctx, 42, []byte(`{"s":"iin"}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Load(ctx, 42); err != nil || string(b) != `{"s":"iin"}` {
		t.Errorf("Load = %q, %v", b, err)
	}
	if ttl := c.TTL(ctx, prefix+"session:42").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v; want up to a minute", ttl)
	}
	if b, _ := s.Load(ctx, 43); b != nil {
		t.Errorf("another user's session = %q", b)
	}
	if err := s.Delete(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Load(ctx, 42); b != nil {
		t.Errorf("after Delete = %q", b)
	}
}

func TestLinkAttemptsLockAfterFive(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := context.Background()
	a := rstore.NewLinkAttempts(c, prefix, 5, time.Hour)
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= 4; i++ {
		left, until, err := a.Fail(ctx, 7, now)
		if err != nil || left != 5-i || !until.IsZero() {
			t.Fatalf("Fail #%d = %d, %v, %v; want %d left, no lock", i, left, until, err, 5-i)
		}
		if _, locked, _ := a.Locked(ctx, 7, now); locked {
			t.Fatalf("locked after %d failures", i)
		}
	}
	left, until, err := a.Fail(ctx, 7, now)
	if err != nil || left != 0 || !until.Equal(now.Add(time.Hour+time.Second)) {
		t.Fatalf("Fail #5 = %d, %v, %v; want locked for an hour", left, until, err)
	}
	tests := []struct {
		name   string
		user   int64
		at     time.Time
		locked bool
	}{
		{"at once", 7, now, true},
		{"59 minutes on", 7, now.Add(59 * time.Minute), true},
		{"after the hour", 7, now.Add(time.Hour + 2*time.Second), false},
		{"another user", 8, now, false},
	}
	for _, tt := range tests {
		got, locked, err := a.Locked(ctx, tt.user, tt.at)
		if err != nil || locked != tt.locked || (tt.user == 7 && !got.Equal(until)) {
			t.Errorf("Locked(%s) = %v, %v, %v; want %v until %v", tt.name, got, locked, err, tt.locked, until)
		}
	}
	if ttl := c.PTTL(ctx, prefix+"linkfail:7:lock").Val(); ttl <= 59*time.Minute {
		t.Errorf("lock TTL = %v; want about an hour", ttl)
	}
	if err := a.Reset(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, locked, _ := a.Locked(ctx, 7, now); locked {
		t.Error("locked after Reset")
	}
}

func TestDedupeClaimsOnce(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := context.Background()
	d := rstore.NewDedupe(c, prefix, 123, 24*time.Hour)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := d.Claim(ctx, 1001); err == nil && ok {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Errorf("20 concurrent claims of one update: %d first; want 1", firsts.Load())
	}
	if ok, _ := d.Claim(ctx, 1002); !ok {
		t.Error("another update was not first")
	}
	other := rstore.NewDedupe(c, prefix, 456, 24*time.Hour)
	if ok, _ := other.Claim(ctx, 1001); !ok {
		t.Error("the same update id of another bot was not first")
	}
	if ttl := c.TTL(ctx, prefix+"update:123:1001").Val(); ttl < 23*time.Hour {
		t.Errorf("claim TTL = %v; want 24 h", ttl)
	}
}

func TestCodes(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := context.Background()
	codes := rstore.NewCodes(c, prefix)
	if err := codes.Put(ctx, "12345678", "SW1.a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := codes.Put(ctx, "12345678", "SW1.b", time.Minute); !wallet.IsCode(err, wallet.CodeConflict) {
		t.Errorf("Put(taken) = %v; want conflict", err)
	}
	if err := codes.Put(ctx, "1234", "SW1.b", time.Minute); !wallet.IsCode(err, wallet.CodeInvalid) {
		t.Errorf("Put(short) = %v; want invalid", err)
	}
	if c.Exists(ctx, prefix+"qrcode:12345678").Val() != 1 {
		t.Errorf("key qrcode:<code> not under the prefix")
	}
	tests := []struct {
		name, code, want string
		err              wallet.Code
	}{
		{"stored", "12345678", "SW1.a", ""},
		{"typed with a space", "1234 5678", "SW1.a", ""},
		{"unknown", "87654321", "", wallet.CodeTokenInvalid},
		{"malformed", "12ab5678", "", wallet.CodeTokenInvalid},
	}
	for _, tt := range tests {
		got, err := codes.Lookup(ctx, tt.code)
		if got != tt.want || wallet.ErrorCode(err) != tt.err {
			t.Errorf("Lookup(%s) = %q, %v; want %q, %q", tt.name, got, err, tt.want, tt.err)
		}
	}

	// Asking again replaces the member's earlier code.
	if err := codes.Replace(ctx, 5, "11111111", "SW1.first", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := codes.Replace(ctx, 5, "22222222", "SW1.second", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := codes.Lookup(ctx, "11111111"); !wallet.IsCode(err, wallet.CodeTokenInvalid) {
		t.Errorf("Lookup(replaced) = %v; want token_invalid", err)
	}
	if got, err := codes.Lookup(ctx, "22222222"); got != "SW1.second" || err != nil {
		t.Errorf("Lookup(new) = %q, %v", got, err)
	}
	if err := codes.Replace(ctx, 6, "22222222", "SW1.other", time.Minute); !wallet.IsCode(err, wallet.CodeConflict) {
		t.Errorf("Replace(code of another member) = %v; want conflict", err)
	}
	if got, _ := codes.Lookup(ctx, "22222222"); got != "SW1.second" {
		t.Errorf("a conflicting Replace changed the code: %q", got)
	}

	// A code lives as long as its token.
	if err := codes.Put(ctx, "33333333", "SW1.short", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(120 * time.Millisecond)
	if _, err := codes.Lookup(ctx, "33333333"); !wallet.IsCode(err, wallet.CodeTokenInvalid) {
		t.Errorf("Lookup(expired) = %v; want token_invalid", err)
	}
}

func TestChatLocksExclude(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := context.Background()
	a := rstore.NewChatLocks(c, prefix, 10*time.Second)
	b := rstore.NewChatLocks(c, prefix, 10*time.Second) // another replica
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(ctx, 77)
			if err != nil {
				t.Error(err)
				return
			}
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if overlaps.Load() != 0 {
		t.Errorf("%d overlapping holders of one chat's lock; want 0", overlaps.Load())
	}
	unlock, _ := a.Lock(ctx, 77)
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := b.Lock(short, 77); err == nil {
		t.Error("a held lock was taken")
	}
	if u2, err := b.Lock(ctx, 78); err != nil {
		t.Errorf("another chat's lock = %v", err)
	} else {
		u2()
	}
	unlock()
	if u3, err := b.Lock(short, 77); err != nil && short.Err() == nil {
		t.Errorf("lock after unlock = %v", err)
	} else if u3 != nil {
		u3()
	}
}

func TestIntakeClaimsAndLoadsInOneGo(t *testing.T) {
	c, prefix := redistest.Client(t)
	ctx := context.Background()
	in := rstore.Intake{Claims: rstore.NewDedupe(c, prefix, 1, time.Hour), Sessions: rstore.NewSessions(c, prefix, time.Hour)}
	first, s, err := in.ClaimAndLoad(ctx, 10, 42)
	if err != nil || !first || s != nil {
		t.Fatalf("ClaimAndLoad(new) = %v, %q, %v; want first, no session", first, s, err)
	}
	in.Sessions.Save(ctx, 42, []byte("x"))
	first, s, err = in.ClaimAndLoad(ctx, 10, 42)
	if err != nil || first || string(s) != "x" {
		t.Errorf("ClaimAndLoad(again) = %v, %q, %v; want not first, the session", first, s, err)
	}
	if ok, _ := in.Claims.Claim(ctx, 11); !ok {
		t.Error("Claim and ClaimAndLoad disagree on keys")
	}
	if first, _, _ := in.ClaimAndLoad(ctx, 11, 42); first {
		t.Error("an update claimed by Claim was claimed again")
	}
}
