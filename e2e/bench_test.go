package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"socialwallet/bot"
	"socialwallet/bot/telegramtest"
	"socialwallet/internal/fixtures"
	"socialwallet/wallet"

	"github.com/prometheus/client_golang/prometheus"
)

// benchUsers links n mothers of n more families (each with January
// activated) and returns their chats, each with a session in Redis.
func benchUsers(b *testing.B, h *harness, n int) []*telegramtest.User {
	b.Helper()
	g := fixtures.NewGen()
	var people []fixtures.Person
	for i := 0; i < n; i++ {
		people = append(people, g.Family(1000+i, []string{"kokshetau", "akkol", "pavlodar"}[i%3], 4)...)
	}
	var buf bytes.Buffer
	fixtures.WriteRegistry(&buf, people)
	if res, err := h.svc.ImportRegistry(h.ctx, &buf, false); err != nil || len(res.Rejected) > 0 {
		b.Fatalf("ImportRegistry = %+v, %v", res, err)
	}
	if _, err := h.svc.Issue(h.ctx, jan); err != nil {
		b.Fatal(err)
	}
	var users []*telegramtest.User
	for i := 0; i < n; i++ {
		p := people[i*4]
		id := int64(500_000 + i)
		l, err := h.svc.LinkTelegram(h.ctx, wallet.LinkRequest{TelegramUserID: id, ChatID: id, Lang: []string{"kk", "ru"}[i%2], Phone: p.Phone, IIN: p.IIN})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.svc.GiveConsent(h.ctx, l.Member.ID); err != nil {
			b.Fatal(err)
		}
		if _, err := h.svc.Activate(h.ctx, l.Member.ID, jan); err != nil {
			b.Fatal(err)
		}
		u := h.tg.NewUser(id, l.Link.Lang)
		u.Send("/balance") // builds the session, as any earlier message would have
		users = append(users, u)
	}
	h.sync()
	return users
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineBusy is the busy CPU time of the whole machine (PostgreSQL and Redis
// included, and anything else running) from /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line := string(b[:bytes.IndexByte(b, '\n')])
	var total, idle int64
	for i, f := range bytes.Fields([]byte(line))[1:] {
		v, _ := strconv.ParseInt(string(f), 10, 64)
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return time.Duration(total-idle) * 10 * time.Millisecond // USER_HZ = 100
}

// serverCPU is the CPU time used so far by every process named one of names
// whose command line holds only (PostgreSQL's backends serving this test's
// database show its name there), from /proc/<pid>/stat.
func serverCPU(only string, names ...string) time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil {
			continue
		}
		match := false
		for _, n := range names {
			match = match || string(bytes.TrimSpace(comm)) == n
		}
		if !match {
			continue
		}
		if only != "" {
			cmd, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
			if !bytes.Contains(cmd, []byte(only)) {
				continue
			}
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the ")" that closes the command: utime is the 12th, stime the 13th.
		f := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
		if len(f) > 12 {
			u, _ := strconv.ParseInt(string(f[11]), 10, 64)
			s, _ := strconv.ParseInt(string(f[12]), 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// BenchmarkBalanceEndToEnd: linked users ask for their balance through the
// whole service — the bot's go-telegram-bot-api client long-polling the fake
// Bot API over HTTP, the update claimed and the session read in Redis, the
// family read from PostgreSQL, the answer sent by HTTP — and the updates are
// handled as fast as the bot can. Reported: updates handled per second, the
// CPU of this process (bot and fake Telegram) per update, that of the
// PostgreSQL and Redis servers, and that of the whole machine (with whatever
// else runs on it) per update. The bot logs and counts each update as serve
// has it do.
func BenchmarkBalanceEndToEnd(b *testing.B) {
	workers, conns := 64, 0
	if v, err := strconv.Atoi(os.Getenv("BENCH_WORKERS")); err == nil {
		workers = v
	}
	if v, err := strconv.Atoi(os.Getenv("BENCH_PG_CONNS")); err == nil {
		conns = v
	}
	h := newHarnessConns(b, int32(conns), func(c *bot.Config) { c.Workers = workers })
	users := benchUsers(b, h, 300)
	texts := map[string]string{"kk": h.T("kk", "btn_balance", nil), "ru": h.T("ru", "btn_balance", nil)}
	h.stop()
	// As serve runs it: a JSON log line and the metrics for every update
	// and every Bot API call.
	metrics, err := bot.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	served := func(c *bot.Config) {
		c.Log = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
		c.Metrics = metrics
		c.API.Observe = metrics.ObserveAPI
	}
	for i := 0; i < b.N; i++ {
		u := users[i%len(users)]
		u.Send(texts[u.User.LanguageCode])
	}
	sent := h.tg.Count("sendMessage")
	db := " " + h.store.Pool().Config().ConnConfig.Database + " "
	b.ResetTimer()
	cpu0, busy0, pg0, rd0, t0 := cpuTime(), machineBusy(), serverCPU(db, "postgres"), serverCPU("", "redis-server"), time.Now()
	h.start(served)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := h.tg.WaitHandled(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed, cpu, busy := time.Since(t0), cpuTime()-cpu0, machineBusy()-busy0
	pg, rd := serverCPU(db, "postgres")-pg0, serverCPU("", "redis-server")-rd0
	b.StopTimer()
	if got := h.tg.Count("sendMessage") - sent; got != b.N {
		b.Fatalf("%d answers to %d balance queries", got, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")

	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "µs-cpu-process/update")
	b.ReportMetric(float64(busy.Microseconds())/float64(b.N), "µs-cpu-machine/update")
	b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "µs-cpu-postgres/update")
	b.ReportMetric(float64(rd.Microseconds())/float64(b.N), "µs-cpu-redis/update")
	b.ReportMetric(float64((cpu+pg+rd).Microseconds())/float64(b.N), "µs-cpu-total/update")
}

// BenchmarkOverview is the bot's most frequent read alone (Balance, Activate
// and Family draw on it): the family with its members and vouchers from
// PostgreSQL in one round trip, and the member's view computed.
func BenchmarkOverview(b *testing.B) {
	h := newHarness(b)
	users := benchUsers(b, h, 64)
	h.stop()
	var ids []wallet.TelegramLink
	for _, u := range users {
		l, err := h.svc.TelegramLink(h.ctx, u.ID())
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, l)
	}
	db := " " + h.store.Pool().Config().ConnConfig.Database + " "
	b.ResetTimer()
	cpu0, pg0 := cpuTime(), serverCPU(db, "postgres")
	var n atomicInt
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.add())
		for pb.Next() {
			l := ids[i%len(ids)]
			i++
			if _, err := h.svc.Overview(h.ctx, l.FamilyID, l.MemberID); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "µs-cpu-process/op")
	b.ReportMetric(float64((serverCPU(db, "postgres")-pg0).Microseconds())/float64(b.N), "µs-cpu-postgres/op")
}

type atomicInt struct {
	mu sync.Mutex
	n  int64
}

func (a *atomicInt) add() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.n
}
