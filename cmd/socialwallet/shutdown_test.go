package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"socialwallet/bot/telegramtest"
)

// SIGTERM in the middle of a burst of 500 updates (50 people, ten messages
// each, Telegram slow to answer): the process stops taking updates, finishes
// those in hand and exits; the ones it had not handled come again to the next
// process, which handles them. Every update is handled exactly once across
// the two (the log's "update" lines, by update id), and every person gets
// exactly one answer to each message.
func TestSIGTERMDuringABurstOf500Updates(t *testing.T) {
	s := newBotServe(t)
	exe := buildBinary(t, t.TempDir())
	const people, each = 50, 10
	users := make([]*telegramtest.User, people)
	first := time.Now().UnixNano()%1_000_000_000 + 1
	for i := range users {
		users[i] = s.tg.NewUser(first+int64(i), "ru")
	}
	sent := map[int]bool{}
	for range each {
		for _, u := range users {
			sent[u.Send("/help")] = true
		}
	}
	// Each answer takes 40 ms, so the burst lasts a few seconds.
	s.tg.InjectFault(telegramtest.Fault{Method: "sendMessage", Delay: 40 * time.Millisecond})

	start := func() (*exec.Cmd, *syncBuffer, chan error) {
		t.Helper()
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
		for k, v := range s.vars {
			env = append(env, k+"="+v)
		}
		cmd := exec.Command(exe, "serve")
		cmd.Env = env
		log := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
			}
		})
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, log, done
	}
	stopWith := func(cmd *exec.Cmd, done chan error, log *syncBuffer) time.Duration {
		t.Helper()
		t0 := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after SIGTERM = %v; want exit status 0; log:\n%s", err, log.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("serve did not stop within a minute of SIGTERM; log:\n%s", log.String())
		}
		return time.Since(t0)
	}

	cmd, log1, done := start()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Telegram hands out 100 updates a poll: SIGTERM comes in the middle of
	// the second batch, with answers in flight.
	if _, err := s.tg.WaitCalls(ctx, "sendMessage", 130); err != nil {
		t.Fatalf("the burst did not start: %v; log:\n%s", err, log1.String())
	}
	atSignal := s.tg.Count("sendMessage")
	took := stopWith(cmd, done, log1)
	answered := s.tg.Count("sendMessage")
	t.Logf("SIGTERM after %d answers; the process finished %d more in hand and stopped in %v",
		atSignal, answered-atSignal, took.Round(time.Millisecond))
	if answered >= people*each {
		t.Fatalf("all %d updates were answered before SIGTERM; the burst must be cut", answered)
	}
	if took > 15*time.Second {
		t.Errorf("serve took %v to stop; updates in hand get 10 s", took)
	}

	cmd, log2, done := start()
	for _, u := range users {
		if _, err := s.tg.WaitMessages(ctx, u.ID(), each); err != nil {
			t.Fatalf("after the restart: %v; log:\n%s", err, log2.String())
		}
	}
	s.tg.Sync(t)
	stopWith(cmd, done, log2)

	for _, u := range users {
		if n := len(u.Messages()); n != each {
			t.Errorf("user %d got %d answers to %d messages", u.ID(), n, each)
		}
	}
	handled := map[int][]string{}
	for _, log := range []string{log1.String(), log2.String()} {
		sc := bufio.NewScanner(strings.NewReader(log))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line struct {
				Msg     string
				Update  int
				Outcome string
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "update" && line.Outcome != "duplicate" {
				handled[line.Update] = append(handled[line.Update], line.Outcome)
			}
		}
	}
	lost, twice := 0, 0
	for id := range sent {
		switch h := handled[id]; {
		case len(h) == 0:
			lost++
		case len(h) > 1:
			twice++
			t.Errorf("update %d handled %d times: %v", id, len(h), h)
		case h[0] != "ok":
			t.Errorf("update %d handled with outcome %q; want ok", id, h[0])
		}
	}
	if lost > 0 || twice > 0 {
		t.Errorf("of %d updates, %d were lost and %d handled twice; want none", len(sent), lost, twice)
	}
}
