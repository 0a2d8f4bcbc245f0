package sandbox

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"socialwallet/program"
)

func almaty(t *testing.T, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Almaty")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestProgramme(t *testing.T) {
	base := program.Default()
	tests := []struct {
		name        string
		now         string
		start, end  string
		mrpFrom     map[int]int // year → the pilot's year whose MRP it takes
		periodsWant int
	}{
		{"inside the pilot", "2026-02-10 12:00", "2026-02-01", "2026-06-01", map[int]int{2026: 2026}, 4},
		{"into a year the pilot has no MRP for", "2026-12-04 01:00", "2026-12-01", "2027-04-01", map[int]int{2026: 2026, 2027: 2026}, 4},
		{"before the pilot's years", "2024-11-30 23:59", "2024-11-01", "2025-03-01", map[int]int{2024: 2025, 2025: 2025}, 4},
		{"the last instant of a month in Kazakhstan", "2026-03-31 23:59", "2026-03-01", "2026-07-01", map[int]int{2026: 2026}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Programme(base, almaty(t, tt.now))
			if err != nil {
				t.Fatalf("Programme(%s) = %v", tt.now, err)
			}
			if got := p.Start.Format("2006-01-02"); got != tt.start {
				t.Errorf("Programme(%s).Start = %s; want %s", tt.now, got, tt.start)
			}
			if got := p.End.Format("2006-01-02"); got != tt.end {
				t.Errorf("Programme(%s).End = %s; want %s", tt.now, got, tt.end)
			}
			if n := len(p.Periods()); n != tt.periodsWant {
				t.Errorf("Programme(%s) has %d periods; want %d", tt.now, n, tt.periodsWant)
			}
			for y, from := range tt.mrpFrom {
				if p.MRP[y] != base.MRP[from] {
					t.Errorf("Programme(%s).MRP[%d] = %v; want the pilot's %d MRP %v", tt.now, y, p.MRP[y], from, base.MRP[from])
				}
			}
			if len(p.Cities) != len(base.Cities) || p.MaxDiscountBP != base.MaxDiscountBP || p.ConsentVersion != base.ConsentVersion {
				t.Errorf("Programme(%s) changed more than the dates: %+v", tt.now, p)
			}
			if err := p.CheckPeriod(p.PeriodAt(almaty(t, tt.now))); err != nil {
				t.Errorf("Programme(%s) does not cover now: %v", tt.now, err)
			}
		})
	}
	if !base.Start.Equal(program.Default().Start) || len(base.MRP) != len(program.Default().MRP) {
		t.Error("Programme changed the programme it was given")
	}
}

func TestJumpTargets(t *testing.T) {
	prog := program.Default()
	tests := []struct{ now, monthEnd, nextMonth string }{
		{"2026-02-10 12:00", "2026-02-28 10:00", "2026-03-01 10:00"},
		{"2028-02-01 00:00", "2028-02-29 10:00", "2028-03-01 10:00"},
		{"2026-12-31 23:59", "2026-12-31 10:00", "2027-01-01 10:00"},
	}
	for _, tt := range tests {
		end, next := JumpTargets(prog, almaty(t, tt.now))
		if !end.Equal(almaty(t, tt.monthEnd)) || !next.Equal(almaty(t, tt.nextMonth)) {
			t.Errorf("JumpTargets(%s) = %v, %v; want %s, %s", tt.now, end, next, tt.monthEnd, tt.nextMonth)
		}
		// The month's last reminder is due at the first target.
		if p := prog.PeriodAt(almaty(t, tt.now)); !end.Equal(prog.ReminderAt(p, 1)) {
			t.Errorf("JumpTargets(%s) month end %v is not the D-1 reminder %v", tt.now, end, prog.ReminderAt(p, 1))
		}
	}
}

func writeExe(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindPostgres(t *testing.T) {
	ctx := context.Background()
	server := t.TempDir() // where the server programs are
	writeExe(t, filepath.Join(server, "initdb"), "exit 0")
	writeExe(t, filepath.Join(server, "pg_ctl"), "exit 0")

	withPgConfig := t.TempDir()
	writeExe(t, filepath.Join(withPgConfig, "pg_config"), "echo "+server)
	withInitdb := t.TempDir()
	if err := os.Symlink(filepath.Join(server, "initdb"), filepath.Join(withInitdb, "initdb")); err != nil {
		t.Fatal(err)
	}
	brokenPgConfig := t.TempDir()
	writeExe(t, filepath.Join(brokenPgConfig, "pg_config"), "echo "+t.TempDir())

	tests := []struct {
		name, path, want string
		err              error
	}{
		{"pg_config --bindir", withPgConfig, server, nil},
		{"initdb linked into PATH", withInitdb, server, nil},
		{"pg_config naming a directory without them", brokenPgConfig, "", ErrNoPostgres},
		{"nothing", t.TempDir(), "", ErrNoPostgres},
		{"empty PATH", "", "", ErrNoPostgres},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindPostgres(ctx, func(k string) string {
				if k == "PATH" {
					return tt.path
				}
				return ""
			})
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("FindPostgres(PATH=%s) = %q, %v; want %q, %v", tt.path, got, err, tt.want, tt.err)
			}
		})
	}
	for _, want := range []string{"apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(ErrNoPostgres.Error(), want) {
			t.Errorf("ErrNoPostgres does not say %q: %v", want, ErrNoPostgres)
		}
	}
}

func machinePostgres(t *testing.T) string {
	t.Helper()
	bin, err := FindPostgres(context.Background(), os.Getenv)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL's server programs are required under CI=true: %v", err)
		}
		t.Skipf("no PostgreSQL server programs (%v); set CI=true to make this a failure", err)
	}
	return bin
}

func portFree(t *testing.T, port int) bool {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// The private cluster: created once, started on a free port, a fresh
// database each time, stopped with nothing left; a server left running by a
// killed sandbox is stopped and replaced on the next start. As root it runs
// as the postgres user, moving to a directory that user can reach when the
// requested one is closed to it (a test's temporary directory is).
func TestPrivatePostgres(t *testing.T) {
	bin := machinePostgres(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pg")
	var logBuf strings.Builder
	pg, err := StartPostgres(ctx, bin, dir, &logBuf)
	if err != nil {
		t.Fatalf("StartPostgres = %v; log:\n%s", err, logBuf.String())
	}
	if pg.Dir != dir {
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(pg.Dir)) })
		if os.Geteuid() != 0 {
			t.Errorf("as a normal user the cluster moved to %s; want %s", pg.Dir, dir)
		}
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			pg.Stop()
		}
	})

	url, err := pg.FreshDatabase(ctx, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE left_over (x int)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if _, err := pg.FreshDatabase(ctx, "sandbox"); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'left_over'").Scan(&n); err != nil || n != 0 {
		t.Errorf("after FreshDatabase the old table is there (%d, %v)", n, err)
	}
	conn.Close(ctx)

	// A sandbox killed without its cleanup leaves its server running: the
	// next start stops it and starts its own.
	killed := pg.PID
	pg2, err := StartPostgres(ctx, bin, dir, &logBuf)
	if err != nil {
		t.Fatalf("StartPostgres over a server left running = %v; log:\n%s", err, logBuf.String())
	}
	if pg2.PID == killed || pg2.PID == 0 {
		t.Errorf("second start: postmaster %d; want a new one (the first was %d)", pg2.PID, killed)
	}
	if !portFree(t, pg.Port) && pg.Port != pg2.Port {
		t.Errorf("the first server's port %d is still taken", pg.Port)
	}
	stopped = true
	if err := pg2.Stop(); err != nil {
		t.Fatalf("Stop = %v; log:\n%s", err, logBuf.String())
	}
	if left := ServerPIDs(pg2.Dir); len(left) > 0 {
		t.Errorf("processes left after Stop: %v", left)
	}
	if !portFree(t, pg2.Port) {
		t.Errorf("port %d still taken after Stop", pg2.Port)
	}
	if _, err := os.Stat(filepath.Join(pg2.Dir, "postmaster.pid")); err == nil {
		t.Error("postmaster.pid left after Stop")
	}
	if !strings.Contains(logBuf.String(), "server stopped") {
		t.Errorf("the log does not show the server stopping:\n%s", logBuf.String())
	}
}

// The embedded Redis answers on its own port, ages keys in real time as Redis
// does (miniredis alone would keep them forever) and frees the port on Close.
func TestEmbeddedRedis(t *testing.T) {
	r, err := StartRedis()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := goredis.ParseURL(r.URL())
	if err != nil {
		t.Fatalf("URL %q: %v", r.URL(), err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "short", "x", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "long", "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.Exists(ctx, "short").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("a key with a 300 ms TTL is still there after 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.Exists(ctx, "long").Val() != 1 {
		t.Error("a key with an hour to live is gone")
	}
	addr := r.Addr()
	r.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("%s still taken after Close: %v", addr, err)
	} else {
		ln.Close()
	}
}

func TestTimeline(t *testing.T) {
	real0 := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	fake0 := time.Date(2026, 2, 10, 7, 0, 0, 0, time.UTC)
	tl := &timeline{segs: []segment{{offset: fake0.Sub(real0)}}}
	jump := real0.Add(10 * time.Minute)
	to := time.Date(2026, 2, 28, 5, 0, 0, 0, time.UTC)
	tl.jumped(jump, to)
	tests := []struct {
		at   time.Time
		want time.Time
	}{
		{real0, fake0},
		{real0.Add(9 * time.Minute), fake0.Add(9 * time.Minute)},
		{jump, to},
		{jump.Add(time.Minute), to.Add(time.Minute)},
	}
	for _, tt := range tests {
		if got := tl.fake(tt.at); !got.Equal(tt.want) {
			t.Errorf("fake(%v) = %v; want %v", tt.at, got, tt.want)
		}
	}
}
