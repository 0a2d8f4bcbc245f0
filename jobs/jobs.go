// Package jobs runs the social wallet's durable work on River (PostgreSQL
// jobs): the schedule (issuance at the start of each period, reminders before
// the deadline, annulment at the deadline, expiry of activated value), the
// dispatcher that turns notifications into jobs, and the send job that delivers
// each notification through the limiter shared by every replica. Several
// processes may run it against one database and one Redis: River runs each
// job once, the schedule's steps are made once by the database, and the
// limiter keeps the rate across all of them.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"socialwallet/wallet"
)

// Store is what the jobs need from storage; store/postgres implements it.
type Store interface {
	ScheduleSteps(ctx context.Context) ([]wallet.ScheduleStep, error)
	SaveStep(ctx context.Context, st wallet.ScheduleStep) error
	CountAudience(ctx context.Context, w wallet.NoticeWave) (int, error)
	QueueNotices(ctx context.Context, w wallet.NoticeWave) (wallet.WavePlan, int64, error)
	DispatchNotices(ctx context.Context, now time.Time, limit int,
		enqueue func(ctx context.Context, tx pgx.Tx, claimed []wallet.Notice) error) (int, error)
	LoadNotice(ctx context.Context, id int64, prog *wallet.Program, now time.Time) (wallet.Notice, wallet.NoticeState, error)
	FinishNotice(ctx context.Context, id int64, out wallet.NoticeOutcome,
		complete func(ctx context.Context, tx pgx.Tx) error) error
}

// Wallet is the use cases the schedule runs; wallet.Service implements it.
type Wallet interface {
	Issue(ctx context.Context, p wallet.Period) (int64, error)
	Annul(ctx context.Context, p wallet.Period) (int64, error)
	ExpireFunds(ctx context.Context) (int64, wallet.Tiyn, error)
}

// Sender delivers one notice to its chat; the bot's sender implements it and
// classifies failures as *wallet.DeliveryError.
type Sender interface {
	Send(ctx context.Context, n wallet.Notice) error
}

// Limiter paces sends across every replica; store/redis.SendLimiter
// implements it.
type Limiter interface {
	Wait(ctx context.Context, chat int64) error
	Pause(ctx context.Context, d time.Duration) error
}

// Config is what New needs. Zero durations and counts take the defaults.
type Config struct {
	Program *wallet.Program
	Clock   wallet.Clock
	Wallet  Wallet
	Store   Store
	Sender  Sender
	Limiter Limiter
	Log     *slog.Logger
	// Rate is the limiter's messages a second (SW_SEND_RATE, default 25).
	Rate int
	// PlanRate is the rate waves are planned at (default 0.9 × Rate), leaving
	// room for receipts, retries and the limiter's guard.
	PlanRate float64
	// Workers is how many sends one process runs at once (default 32).
	Workers int
	// Tick is how often the schedule is compared with the clock (default 30 s).
	// The clock may be fake and may jump: each tick does what is due by now.
	Tick time.Duration
	// DispatchEvery is how often due notifications become jobs (default 1 s).
	DispatchEvery time.Duration
	// PlanHorizon is how long before a reminder's nominal start its wave is
	// counted to see whether it must start early (default 48 h).
	PlanHorizon time.Duration
	// JobTimeout bounds one attempt of a send (default 30 s); a tick may take
	// up to tickTimeout (a national issue). RescueAfter is when a job whose
	// process died is tried again (default 5 min, longer than a tick).
	JobTimeout, RescueAfter time.Duration
	// MaxAttempts is how often a send is tried before it is recorded as
	// failed (default 12, about an hour of backoff).
	MaxAttempts int
	// Metrics registers the wave plans and send counters; nil keeps them private.
	Metrics prometheus.Registerer
	// NoSchedule leaves out the periodic tick (a process that only sends).
	NoSchedule bool
	// ID names this process's River client (default: River's own).
	ID string
}

const (
	queueSchedule = "sw_schedule"
	queueNotify   = "sw_notify"
	dispatchBatch = 5000
)

// Jobs is one process's share of the durable work.
type Jobs struct {
	cfg     Config
	prog    *wallet.Program
	clock   wallet.Clock
	log     *slog.Logger
	client  *river.Client[pgx.Tx]
	metrics *metrics
	wake    chan struct{}
	mu      sync.Mutex // serialises this process's ticks
}

// New builds the River client on pool (whose database has River's tables).
func New(pool *pgxpool.Pool, cfg Config) (*Jobs, error) {
	if cfg.Program == nil || cfg.Clock == nil || cfg.Store == nil || cfg.Wallet == nil {
		return nil, errors.New("jobs: Program, Clock, Store and Wallet are required")
	}
	if (cfg.Sender == nil) != (cfg.Limiter == nil) {
		return nil, errors.New("jobs: Sender and Limiter go together")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 25
	}
	if cfg.PlanRate <= 0 {
		cfg.PlanRate = 0.9 * float64(cfg.Rate)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 30 * time.Second
	}
	if cfg.DispatchEvery <= 0 {
		cfg.DispatchEvery = time.Second
	}
	if cfg.PlanHorizon <= 0 {
		cfg.PlanHorizon = 48 * time.Hour
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 30 * time.Second
	}
	if cfg.RescueAfter <= cfg.JobTimeout {
		cfg.RescueAfter = max(tickTimeout+time.Minute, cfg.JobTimeout+10*time.Second)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	j := &Jobs{cfg: cfg, prog: cfg.Program, clock: cfg.Clock, log: cfg.Log, wake: make(chan struct{}, 1)}
	var err error
	if j.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &tickWorker{j: j})
	river.AddWorker(workers, &sendWorker{j: j})
	queues := map[string]river.QueueConfig{queueSchedule: {MaxWorkers: 1}}
	if j.sends() {
		queues[queueNotify] = river.QueueConfig{MaxWorkers: cfg.Workers}
	}
	rc := &river.Config{
		ID:                   cfg.ID,
		Logger:               cfg.Log,
		Queues:               queues,
		Workers:              workers,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// On shutdown running sends get this long to finish; then their
		// contexts end and they are retried by another process.
		SoftStopTimeout: 10 * time.Second,
		MaxAttempts:     cfg.MaxAttempts,
		Middleware:      []rivertype.Middleware{&jobLog{j: j}},
	}
	if !cfg.NoSchedule {
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.Tick),
			func() (river.JobArgs, *river.InsertOpts) { return TickArgs{}, nil },
			&river.PeriodicJobOpts{ID: "sw_tick", RunOnStart: true})}
	}
	if j.client, err = river.NewClient(riverpgxv5.New(pool), rc); err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	return j, nil
}

// sends reports whether this process delivers notifications. One without a
// sender (no Telegram token) still runs the schedule, so vouchers are issued
// and annulled on time, and leaves the notifications to processes that send.
func (j *Jobs) sends() bool { return j.cfg.Sender != nil }

// Client is the River client (tests watch it; cmd inserts nothing through it).
func (j *Jobs) Client() *river.Client[pgx.Tx] { return j.client }

// Run starts the River client and the dispatcher and returns when ctx ends,
// after running jobs have finished (or the job timeout has cut them).
func (j *Jobs) Run(ctx context.Context) error {
	if !j.start(ctx) {
		return nil
	}
	j.log.Info("jobs started", "rate", j.cfg.Rate, "plan_rate", j.cfg.PlanRate, "workers", j.cfg.Workers, "tick", j.cfg.Tick.String())
	var wg sync.WaitGroup
	if j.sends() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.dispatchLoop(ctx)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := j.client.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// start starts the River client, again and again while PostgreSQL does not
// answer: a database that blinks while a process starts must not end the
// process, which serves the bot and the tills meanwhile and reports itself
// unready. It reports false when ctx ended first.
func (j *Jobs) start(ctx context.Context) bool {
	wait := 250 * time.Millisecond
	for {
		err := j.client.Start(context.WithoutCancel(ctx))
		if err == nil {
			return true
		}
		j.log.Warn("jobs: start failed; trying again", "err", err, "in", wait.String())
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// TickArgs is the periodic job that compares the schedule with the clock.
type TickArgs struct{}

// Kind names the job in River's table.
func (TickArgs) Kind() string { return "sw_tick" }

// InsertOpts keep one tick at a time: a tick still waiting or running makes
// the next one a no-op.
func (TickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueSchedule, MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	j *Jobs
}

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[TickArgs]) error { return w.j.Tick(ctx) }

// tickTimeout bounds a tick: issuing a period and writing its notices for a
// million members takes about a minute.
const tickTimeout = 4 * time.Minute

// Timeout lets a tick outlast the sends' job timeout.
func (w *tickWorker) Timeout(*river.Job[TickArgs]) time.Duration { return tickTimeout }

// dispatchLoop turns due notifications into jobs every DispatchEvery, and at
// once when this process has just written a wave.
func (j *Jobs) dispatchLoop(ctx context.Context) {
	t := time.NewTicker(j.cfg.DispatchEvery)
	defer t.Stop()
	for {
		if _, err := j.Dispatch(ctx); err != nil && ctx.Err() == nil {
			j.log.Error("dispatch notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-j.wake:
		}
	}
}

// Dispatch turns every notification due by the clock, or within the next
// dispatch period, into a send job, in batches; each batch is claimed and
// enqueued in one transaction. Looking one period ahead keeps jobs waiting at
// the limiter between two dispatches, so a wave flows without a pause each
// second; a message may go up to that much before its slot.
func (j *Jobs) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := j.cfg.Store.DispatchNotices(ctx, j.clock.Now().Add(j.cfg.DispatchEvery), dispatchBatch, j.enqueue)
		total += n
		if err != nil || n < dispatchBatch {
			return total, err
		}
	}
}

func (j *Jobs) enqueue(ctx context.Context, tx pgx.Tx, claimed []wallet.Notice) error {
	params := make([]river.InsertManyParams, len(claimed))
	for i, n := range claimed {
		params[i] = river.InsertManyParams{Args: SendArgs{NotificationID: n.ID, NoticeKind: string(n.Kind)},
			InsertOpts: &river.InsertOpts{Queue: queueNotify, Priority: priority(n.Kind), MaxAttempts: j.cfg.MaxAttempts}}
	}
	_, err := j.client.InsertManyFastTx(ctx, tx, params)
	return err
}

// priority puts what answers a person's action (a receipt at the till, a
// freeze) before the waves.
func priority(k wallet.NoticeKind) int {
	switch k {
	case wallet.NoticeReceipt, wallet.NoticeVoid, wallet.NoticeFrozen:
		return 1
	case wallet.NoticeReminder:
		return 3
	}
	return 2
}

func (j *Jobs) poke() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}
