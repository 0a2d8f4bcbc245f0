package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres says what to do when neither DATABASE_URL nor PostgreSQL's
// server programs are there.
var ErrNoPostgres = errors.New(`the sandbox needs PostgreSQL: no DATABASE_URL is set and no PostgreSQL server programs (initdb, pg_ctl) were found.
Either install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; the sandbox then starts a private server of its own),
or point DATABASE_URL at a database it may fill with demo data, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/sandbox?sslmode=disable`)

// FindPostgres finds the directory of PostgreSQL's server programs: what
// `pg_config --bindir` says, else the directory of an initdb on PATH. PATH is
// read through getenv so that a test can take it away.
func FindPostgres(ctx context.Context, getenv func(string) string) (string, error) {
	path := getenv("PATH")
	if pgc := lookPath(path, "pg_config"); pgc != "" {
		out, err := exec.CommandContext(ctx, pgc, "--bindir").Output()
		if dir := strings.TrimSpace(string(out)); err == nil && isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	if initdb := lookPath(path, "initdb"); initdb != "" {
		// Debian links initdb into PATH; the other programs sit beside the target.
		if real, err := filepath.EvalSymlinks(initdb); err == nil {
			initdb = real
		}
		dir := filepath.Dir(initdb)
		if isExecutable(filepath.Join(dir, "pg_ctl")) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

func lookPath(path, name string) string {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Postgres is a private PostgreSQL server: a cluster of its own in a
// directory, listening on 127.0.0.1 only, on a free port, with trust
// authentication (it holds demo data only, and only this machine reaches it).
type Postgres struct {
	BinDir string
	Dir    string // the cluster's data directory
	Port   int
	PID    int        // the postmaster's
	owner  *user.User // the OS user the server runs as when we are root; nil otherwise
	log    io.Writer
}

// StartPostgres starts the cluster in dataDir, creating it first when it is
// not there. PostgreSQL refuses to run as root: then the cluster belongs to
// the "postgres" OS user and is run as that user (runuser, else su); when
// that user cannot reach dataDir, the cluster goes to a directory under the
// system's temporary directory instead. A server left running by a sandbox
// that was killed is stopped first. Output of the PostgreSQL programs goes to
// log.
func StartPostgres(ctx context.Context, binDir, dataDir string, log io.Writer) (*Postgres, error) {
	if log == nil {
		log = io.Discard
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	p := &Postgres{BinDir: binDir, Dir: abs, log: log}
	if os.Geteuid() == 0 {
		if p.owner, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no \"postgres\" OS user to run it as: run the sandbox as a normal user, or set DATABASE_URL (%v)", err)
		}
		if err := p.prepareForOwner(ctx); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("postgres: data directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "PG_VERSION")); err != nil {
		if err := p.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "postmaster.pid")); err == nil {
		// A sandbox killed without its cleanup left its server running (or
		// a stale pid file): stop it, so the port and the files are ours.
		_ = p.pgctl(ctx, "stop", "-D", p.Dir, "-m", "fast", "-w", "-t", "30")
	}
	adoptOrphans()
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p.Port = port
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k '' -c synchronous_commit=off -c max_connections=100", port)
		last = p.pgctl(ctx, "start", "-D", p.Dir, "-w", "-t", "60", "-l", filepath.Join(p.Dir, "server.log"), "-o", opts)
		if last == nil {
			if b, err := os.ReadFile(filepath.Join(p.Dir, "postmaster.pid")); err == nil {
				p.PID, _ = strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
			}
			return p, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("postgres: start the private server in %s (its log: %s): %w", p.Dir, filepath.Join(p.Dir, "server.log"), last)
}

// prepareForOwner makes the data directory belong to the postgres user, or
// moves it somewhere that user can reach.
func (p *Postgres) prepareForOwner(ctx context.Context) error {
	uid, _ := strconv.Atoi(p.owner.Uid)
	gid, _ := strconv.Atoi(p.owner.Gid)
	own := func(dir string) error {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("postgres: data directory: %w", err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("postgres: give %s to the postgres user: %w", dir, err)
		}
		return os.Chmod(dir, 0o700)
	}
	if err := own(p.Dir); err != nil {
		return err
	}
	if p.asOwner(ctx, "test", "-w", p.Dir) == nil {
		return nil
	}
	// An ancestor of the directory is closed to the postgres user (a home
	// directory, a test's temporary directory): use one it can reach, named
	// after the requested one so that each project keeps its own cluster.
	sum := sha256.Sum256([]byte(p.Dir))
	parent := filepath.Join(os.TempDir(), "socialwallet-sandbox-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("postgres: data directory: %w", err)
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		return err
	}
	p.Dir = filepath.Join(parent, "pg")
	if err := own(p.Dir); err != nil {
		return err
	}
	if err := p.asOwner(ctx, "test", "-w", p.Dir); err != nil {
		return fmt.Errorf("postgres: the postgres user cannot write %s: %w", p.Dir, err)
	}
	return nil
}

func (p *Postgres) initdb(ctx context.Context) error {
	err := p.asOwner(ctx, filepath.Join(p.BinDir, "initdb"), "-D", p.Dir, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-instructions")
	if err != nil {
		return fmt.Errorf("postgres: initdb %s: %w", p.Dir, err)
	}
	return nil
}

func (p *Postgres) pgctl(ctx context.Context, args ...string) error {
	return p.asOwner(ctx, append([]string{filepath.Join(p.BinDir, "pg_ctl")}, args...)...)
}

// asOwner runs a program as the cluster's owner (ourselves unless we are
// root), its output going to the log.
func (p *Postgres) asOwner(ctx context.Context, argv ...string) error {
	if p.owner != nil {
		if runuser, err := exec.LookPath("runuser"); err == nil {
			argv = append([]string{runuser, "-u", p.owner.Username, "--"}, argv...)
		} else {
			quoted := make([]string, len(argv))
			for i, a := range argv {
				quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
			}
			argv = []string{"su", p.owner.Username, "-s", "/bin/sh", "-c", strings.Join(quoted, " ")}
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = "/" // the owner may not be allowed into our working directory
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.WaitDelay = 5 * time.Second
	return cmd.Run()
}

// URL is the connection URL of database db on this server.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// FreshDatabase drops database name if it exists and creates it empty: each
// sandbox run starts from the seeded state, matching the fake Telegram and the
// embedded Redis, which start empty too.
func (p *Postgres) FreshDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("postgres: connect to the private server: %w", err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("postgres: drop %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", fmt.Errorf("postgres: create %s: %w", name, err)
	}
	return p.URL(name), nil
}

// Stop stops the server (fast shutdown: open sessions are ended) and waits
// for it to exit. It runs even after the caller's context has ended.
func (p *Postgres) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.pgctl(ctx, "stop", "-D", p.Dir, "-m", "fast", "-w", "-t", "50"); err != nil {
		return fmt.Errorf("postgres: stop the private server: %w", err)
	}
	reap(p.PID, 5*time.Second)
	return nil
}

// ServerPIDs lists the processes of a server whose data directory is dir:
// those whose command line names it (the postmaster) and their children
// (which rename themselves "postgres: checkpointer" and so on). Tests use it
// to check that nothing was left running.
func ServerPIDs(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	var roots []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid …": comm may hold spaces and parentheses.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
				parent[pid], _ = strconv.Atoi(f[1])
			}
		}
		if cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && strings.Contains(string(cmd), dir) {
			roots = append(roots, pid)
		}
	}
	seen := map[int]bool{}
	for _, r := range roots {
		seen[r] = true
	}
	for pid, pp := range parent {
		if seen[pp] {
			seen[pid] = true
		}
	}
	out := make([]int, 0, len(seen))
	for pid := range seen {
		out = append(out, pid)
	}
	sort.Ints(out)
	return out
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
