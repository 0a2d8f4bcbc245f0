package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"socialwallet/sandbox"
)

// runningSandbox is `socialwallet sandbox` run in this process.
type runningSandbox struct {
	t    *testing.T
	url  string // what it printed, e.g. http://127.0.0.1:41234/
	addr string
	out  *syncBuffer
	log  string // its log file
	stop func()
}

// startSandbox runs the sandbox with vars over a base of SW_ENV=sandbox and a
// free port, and waits for the URL it prints.
func startSandbox(t *testing.T, vars map[string]string) *runningSandbox {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"SW_ENV": "sandbox", "HTTP_ADDR": "127.0.0.1:0", "PATH": os.Getenv("PATH")}
	for k, v := range vars {
		env[k] = v
	}
	s := &runningSandbox{t: t, out: &syncBuffer{}, log: filepath.Join(dir, "sandbox.log")}
	errs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"socialwallet", "sandbox", "--data", dir}, func(k string) string { return env[k] }, s.out, errs)
	}()
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sandbox = %v; stderr %q", err, errs.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the sandbox did not stop within a minute of its context ending")
		}
		if s.addr != "" {
			if ln, err := net.Listen("tcp", s.addr); err != nil {
				t.Errorf("after the sandbox stopped, %s is still taken: %v", s.addr, err)
			} else {
				ln.Close()
			}
		}
	}
	t.Cleanup(s.stop)
	for end := time.Now().Add(90 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if line, _, ok := strings.Cut(s.out.String(), "\n"); ok {
			s.url = line
			break
		}
		select {
		case err := <-done:
			stopped = true
			log, _ := os.ReadFile(s.log)
			t.Fatalf("the sandbox ended before printing its URL: %v; stderr %q; log:\n%s", err, errs.String(), log)
		default:
		}
		if time.Now().After(end) {
			log, _ := os.ReadFile(s.log)
			t.Fatalf("the sandbox printed no URL in 90 s; log:\n%s", log)
		}
	}
	s.addr = strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/")
	return s
}

// getJSON fetches a sandbox API.
func (s *runningSandbox) getJSON(path string, v any) {
	s.t.Helper()
	res, err := http.Get(strings.TrimSuffix(s.url, "/") + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		s.t.Fatalf("GET %s = %d %s", path, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
}

// needPostgres finds PostgreSQL's server programs; under CI=true their
// absence fails the test.
func needPostgres(t *testing.T) string {
	t.Helper()
	bin, err := sandbox.FindPostgres(context.Background(), os.Getenv)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL's server programs are required under CI=true: %v", err)
		}
		t.Skipf("PostgreSQL's server programs not found; set CI=true to make this a failure: %v", err)
	}
	return bin
}

// buildBinary builds bin/socialwallet as `make build` does, into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	exe := filepath.Join(dir, "socialwallet")
	cmd := exec.Command(goTool, "build", "-o", exe, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// procStart is a process's start time (field 22 of /proc/PID/stat), empty
// when it is gone.
func procStart(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i > 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 19 {
			return f[19]
		}
	}
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The built binary with nothing set starts a private PostgreSQL and an
// embedded Redis, prints exactly one line — the URL — and serves the chat and
// the cashier page there; Ctrl-C (SIGINT) stops it all: no PostgreSQL process
// is left and the ports are free.
func TestSandboxBinaryStopsEverythingOnInterrupt(t *testing.T) {
	needPostgres(t)
	exe := buildBinary(t, t.TempDir())
	// A directory the postgres OS user can reach when the test runs as root.
	data, err := os.MkdirTemp("", "sw-sandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	if err := os.Chmod(data, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "DATABASE_URL", "REDIS_URL", "SW_SECRET", "SW_FAKE_NOW", "TELEGRAM_TOKEN", "SW_PROGRAM":
		default:
			env = append(env, kv)
		}
	}
	cmd := exec.Command(exe, "sandbox", "--data", data)
	cmd.Env = append(env, "HTTP_ADDR="+addr, "SW_ENV=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	logOf := func() string { b, _ := os.ReadFile(filepath.Join(data, "sandbox.log")); return string(b) }

	want := "http://" + addr + "/"
	select {
	case line := <-lines:
		if line != want {
			t.Fatalf("the sandbox printed %q; want %q", line, want)
		}
	case <-time.After(120 * time.Second):
		t.Fatalf("no URL within two minutes; stderr %q; log:\n%s", stderr.String(), logOf())
	}
	for path, want := range map[string]string{"/": `id="wall"`, "/cashier": `id="pay-btn"`, "/healthz": "ok", "/assets/jsQR.js": "jsQR"} {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d; want 200 with %q", path, res.StatusCode, want)
		}
	}

	pgDir := filepath.Join(data, "pg")
	pid, err := os.ReadFile(filepath.Join(pgDir, "postmaster.pid"))
	if err != nil {
		t.Fatalf("no private PostgreSQL in %s: %v", pgDir, err)
	}
	pidLines := strings.Split(string(pid), "\n")
	pgPort := pidLines[3]
	servers := map[int]string{} // pid → start time, so that a reused pid is not taken for a survivor
	for _, p := range sandbox.ServerPIDs(pgDir) {
		servers[p] = procStart(p)
	}
	if len(servers) < 2 {
		t.Fatalf("PostgreSQL processes of %s = %v; want the postmaster and its workers", pgDir, servers)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGINT the sandbox exited with %v; stderr %q", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the sandbox did not exit within a minute of SIGINT; log:\n%s", logOf())
	}
	for line := range lines {
		t.Errorf("the sandbox printed more than the URL: %q", line)
	}
	if stderr.String() != "" {
		t.Errorf("stderr = %q; want nothing", stderr.String())
	}
	for p, start := range servers {
		if err := syscall.Kill(p, 0); !errors.Is(err, syscall.ESRCH) && procStart(p) == start {
			st, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "stat"))
			t.Errorf("PostgreSQL process %d is still running after SIGINT: %s", p, st)
		}
	}
	if left := sandbox.ServerPIDs(pgDir); len(left) > 0 {
		t.Errorf("processes of %s left running: %v", pgDir, left)
	}
	if _, err := os.Stat(filepath.Join(pgDir, "postmaster.pid")); err == nil {
		t.Error("postmaster.pid is still there: the server was not shut down cleanly")
	}
	for _, a := range []string{addr, "127.0.0.1:" + pgPort} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("port %s is still taken after SIGINT: %v", a, err)
			continue
		}
		ln.Close()
	}
	if log := logOf(); !strings.Contains(log, "server stopped") {
		t.Errorf("the log does not show PostgreSQL stopping:\n%s", log)
	}
}

// Without DATABASE_URL and without PostgreSQL's programs the sandbox says
// how to get either, and starts nothing.
func TestSandboxWithoutPostgresSaysWhatToDo(t *testing.T) {
	addr := freeAddr(t)
	vars := map[string]string{"PATH": t.TempDir(), "HTTP_ADDR": addr}
	var out, errs syncBuffer
	err := run(context.Background(), []string{"socialwallet", "sandbox", "--data", t.TempDir()},
		func(k string) string { return vars[k] }, &out, &errs)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("sandbox without PostgreSQL = %v (exit %d); want exit 1", err, exitCode(err))
	}
	for _, want := range []string{"apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("stderr = %q; want it to say %q", errs.String(), want)
		}
	}
	if out.String() != "" {
		t.Errorf("stdout = %q; want no URL", out.String())
	}
	if ln, err := net.Listen("tcp", addr); err != nil {
		t.Errorf("%s taken after a refused start: %v", addr, err)
	} else {
		ln.Close()
	}
}

// A taken HTTP_ADDR is refused before anything is started, with a hint.
func TestSandboxRefusesATakenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	vars := map[string]string{"HTTP_ADDR": ln.Addr().String(), "PATH": os.Getenv("PATH")}
	var out, errs syncBuffer
	start := time.Now()
	err = run(context.Background(), []string{"socialwallet", "sandbox", "--data", t.TempDir()},
		func(k string) string { return vars[k] }, &out, &errs)
	if err == nil || !strings.Contains(errs.String(), "HTTP_ADDR") {
		t.Fatalf("sandbox on a taken address = %v, stderr %q; want a refusal naming HTTP_ADDR", err, errs.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the refusal took %v: something was started first", d)
	}
}

func TestURLHost(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{":8080", "127.0.0.1:8080"},
		{"0.0.0.0:9000", "127.0.0.1:9000"},
		{"[::]:8080", "127.0.0.1:8080"},
		{"[::1]:8080", "[::1]:8080"},
		{"localhost:8081", "localhost:8081"},
	} {
		if got := urlHost(tc.addr); got != tc.want {
			t.Errorf("urlHost(%q) = %q; want %q", tc.addr, got, tc.want)
		}
	}
}

func TestSandboxHelp(t *testing.T) {
	var out, errs syncBuffer
	if err := run(context.Background(), []string{"socialwallet", "sandbox", "--help"}, func(string) string { return "" }, &out, &errs); err != nil {
		t.Fatalf("sandbox --help = %v", err)
	}
	for _, want := range []string{"/cashier", "DATABASE_URL", "REDIS_URL", "--data", "Ctrl-C"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sandbox --help does not mention %q:\n%s", want, out.String())
		}
	}
}
