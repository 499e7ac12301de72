// Package topology runs a config: it starts destinations with their queues,
// builds routes and pipelines, starts sources, and applies a new config
// without losing events or closing ports.
//
// Reload is one code path with start (as in Vector): Apply compares the new
// config with what runs. Sources and destinations whose settings did not
// change keep running untouched (with their connections and queues); routes
// and pipelines are cheap and always rebuilt. New and changed components
// start first — a changed source takes over its socket from the old one
// through the netpool — then the router switches, then old sources stop,
// the old router finishes its in-flight batches, and removed destinations
// drain their queues.
package topology

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/netpool"
	"github.com/sluicehq/sluice/internal/queue"
	"github.com/sluicehq/sluice/internal/queue/disk"
)

// ErrNotRunning is returned by Consume when no config is running.
var ErrNotRunning = errors.New("topology is not running")

// Options configures a Runtime.
type Options struct {
	Registry *component.Registry
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	DataDir  string
	// RetireTimeout bounds how long a reload waits for the old router's
	// in-flight batches (blocked by backpressure, say) before going on.
	RetireTimeout time.Duration
	// Store is the process's embedded log store, handed to destinations
	// (nil when the process runs none).
	Store component.EventStore
}

type runningSource struct {
	cfg *config.Source
	src component.Source
}

// Runtime runs one config at a time and switches between them.
type Runtime struct {
	opts  Options
	pool  *netpool.Pool
	mu    sync.Mutex // serializes Apply and Stop
	cur   atomic.Pointer[router]
	cfg   *config.Config
	srcs  map[string]*runningSource
	dests map[string]*destination
	bg    sync.WaitGroup // router retirements
	// live is the running destinations, for the stats loop.
	live      atomic.Pointer[[]*destination]
	statsStop chan struct{}
	statsDone chan struct{}
}

// New returns a Runtime with nothing running.
func New(opts Options) *Runtime {
	if opts.RetireTimeout == 0 {
		opts.RetireTimeout = 30 * time.Second
	}
	return &Runtime{opts: opts, pool: netpool.New(), srcs: map[string]*runningSource{}, dests: map[string]*destination{}}
}

// Config returns the running config, or nil.
func (rt *Runtime) Config() *config.Config {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.cfg
}

// Running reports whether a config is running.
func (rt *Runtime) Running() bool { return rt.cur.Load() != nil }

// Consume implements component.Consumer for every source: it hands the batch
// to the current router.
func (rt *Runtime) Consume(ctx context.Context, b *event.Batch) error {
	for {
		r := rt.cur.Load()
		if r == nil {
			b.Ack(event.Errored)
			b.Release()
			return ErrNotRunning
		}
		if r.inflight.TryRLock() {
			err := r.consume(ctx, b)
			r.inflight.RUnlock()
			return err
		}
		// r is being retired and a newer router is in place (or will be
		// in a moment): try again.
		if rt.cur.Load() == r {
			time.Sleep(time.Millisecond)
		}
	}
}

func (rt *Runtime) env(name string) component.Env {
	return component.Env{
		Name:    name,
		Logger:  rt.opts.Logger,
		Metrics: rt.opts.Metrics,
		DataDir: rt.opts.DataDir,
		Out:     rt,
		Net:     rt.pool,
		Store:   rt.opts.Store,
	}
}

// Apply starts cfg, or switches the running config to it. On error the
// previous config keeps running unchanged.
func (rt *Runtime) Apply(ctx context.Context, cfg *config.Config) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	log := rt.opts.Logger

	// 1. Destinations: keep unchanged ones, start new and changed ones. A
	// destination whose queue settings did not change gets a new sink that
	// takes over the running queue at the switch below.
	dests := map[string]*destination{}
	var started, handovers []*destination
	fail := func(err error) error {
		for _, d := range started {
			d.stop(ctx, false)
		}
		for _, d := range handovers {
			d.discard()
		}
		return err
	}
	for _, dc := range cfg.Destinations {
		old := rt.dests[dc.Name]
		if old != nil && old.cfg.Hash == dc.Hash {
			dests[dc.Name] = old
			continue
		}
		var q queue.Queue
		if old != nil && old.cfg.Queue == dc.Queue {
			q = old.q
		} else if old != nil && old.cfg.Queue.Type == "disk" && dc.Queue.Type == "disk" {
			// One owner per queue directory: the old queue would have to be
			// closed before the new one opens, and events sent meanwhile
			// would be refused.
			return fail(fmt.Errorf("destination %s: the settings of its disk queue changed; restart sluice to apply them (the running config stays)", dc.Name))
		}
		d, err := newDestination(dc, rt.opts.Registry, rt.env(dc.Name), q)
		if err != nil {
			return fail(fmt.Errorf("start destination %s: %w", dc.Name, err))
		}
		if q != nil {
			handovers = append(handovers, d)
		} else {
			d.start()
			started = append(started, d)
		}
		dests[dc.Name] = d
	}

	// 2. Pipelines and the router.
	r, err := rt.buildRouter(cfg, dests)
	if err != nil {
		return fail(err)
	}

	// 3. Sources: start new and changed ones; their batches go to the
	// current router until the switch below.
	rt.pool.Hold()
	defer rt.pool.Release()
	srcs := map[string]*runningSource{}
	var newSrcs []*runningSource
	for _, sc := range cfg.Sources {
		if old := rt.srcs[sc.Name]; old != nil && old.cfg.Hash == sc.Hash {
			srcs[sc.Name] = old
			continue
		}
		spec, ok := rt.opts.Registry.Source(sc.Type)
		if !ok {
			err = fmt.Errorf("unknown source type %q", sc.Type)
		}
		var s component.Source
		if err == nil {
			env := rt.env(sc.Name)
			env.Logger = log.With("source", sc.Name)
			s, err = spec.Build(sc.Config, env)
		}
		if err == nil {
			if rt.cur.Load() == nil {
				// First start: sources must not deliver before a router exists.
				rt.cur.Store(r)
			}
			err = s.Start(ctx)
		}
		if err != nil {
			for _, ns := range newSrcs {
				stopSource(ns, log)
			}
			if rt.cfg == nil {
				rt.cur.Store(nil)
			}
			r.close()
			return fail(fmt.Errorf("start source %s: %w", sc.Name, err))
		}
		rs := &runningSource{cfg: sc, src: s}
		newSrcs = append(newSrcs, rs)
		srcs[sc.Name] = rs
	}

	// 4. Switch. Dead letter links first, then sinks that take over a
	// queue start once the old driver has finished the batch it is
	// delivering.
	for _, d := range dests {
		d.dlq.Store(dests[d.cfg.DeadLetter.Destination])
	}
	for _, d := range handovers {
		dctx, cancel := context.WithTimeout(ctx, rt.opts.RetireTimeout)
		rt.dests[d.cfg.Name].detach(dctx)
		cancel()
		d.start()
	}
	oldRouter := rt.cur.Swap(r)
	for name, s := range rt.srcs {
		if srcs[name] != s {
			stopSource(s, log)
		}
	}
	oldDests := rt.dests
	rt.srcs, rt.dests, rt.cfg = srcs, dests, cfg
	live := make([]*destination, 0, len(dests))
	for _, d := range dests {
		live = append(live, d)
	}
	rt.live.Store(&live)
	if rt.statsStop == nil {
		rt.statsStop, rt.statsDone = make(chan struct{}), make(chan struct{})
		go rt.statsLoop()
	}

	// 5. Retire the old router, then stop destinations nobody uses.
	if oldRouter != nil && oldRouter != r {
		rt.retire(oldRouter)
	}
	for name, d := range oldDests {
		if nd := dests[name]; nd != d && (nd == nil || nd.q != d.q) {
			dctx, cancel := context.WithTimeout(ctx, cfg.Shutdown.DrainTimeout.D())
			d.stop(dctx, false)
			cancel()
		}
	}
	return nil
}

// statsLoop refreshes the queue gauges that change with time alone (the
// age of the oldest event, while a destination is stuck retrying) and the
// disk queues' problem counts, every second.
func (rt *Runtime) statsLoop() {
	defer close(rt.statsDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-rt.statsStop:
			return
		case <-t.C:
		}
		for _, d := range *rt.live.Load() {
			d.updateAge()
			if dq, ok := d.q.(*disk.Queue); ok {
				c := dq.Counters()
				for kind, v := range map[string]float64{
					"checkpoint_resets": float64(c.CheckpointResets), "torn_bytes": float64(c.TornBytes),
					"corrupt_records": float64(c.CorruptRecords), "lost_bytes": float64(c.LostBytes),
					"missing_segments": float64(c.MissingSegments), "write_errors": float64(c.WriteErrors),
					"sync_errors": float64(c.SyncErrors), "checkpoint_errors": float64(c.CheckpointErrors),
				} {
					d.m.QueueProblem(kind, v)
				}
			}
		}
	}
}

// retire waits for the old router's in-flight batches, up to RetireTimeout;
// a batch blocked longer (a full queue to a destination that is down) goes
// on in the background and the reload proceeds.
func (rt *Runtime) retire(r *router) {
	done := make(chan struct{})
	rt.bg.Add(1)
	go func() {
		defer rt.bg.Done()
		r.inflight.Lock()
		r.close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(rt.opts.RetireTimeout):
		rt.opts.Logger.Warn("reload: the previous config still has batches waiting for queue space; continuing", "waited", rt.opts.RetireTimeout)
	}
}

func stopSource(s *runningSource, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.src.Stop(ctx); err != nil {
		log.Error("stop source", "source", s.cfg.Name, "error", err)
	}
}

func (rt *Runtime) buildRouter(cfg *config.Config, dests map[string]*destination) (*router, error) {
	r := &router{noRoute: rt.opts.Metrics.DropCounter("router", "routes", "no_route")}
	pipes := map[string]*pipeline{}
	for _, rc := range cfg.Routes {
		var p *pipeline
		if rc.Pipeline != "" {
			p = pipes[rc.Pipeline]
			if p == nil {
				pc := cfg.Pipeline(rc.Pipeline)
				if pc == nil {
					r.close()
					return nil, fmt.Errorf("route %s: no pipeline %q", rc.Name, rc.Pipeline)
				}
				var err error
				p, err = buildPipeline(pc, rt.opts.Registry, rt.env(pc.Name))
				if err != nil {
					r.close()
					return nil, err
				}
				pipes[rc.Pipeline] = p
				r.pipes = append(r.pipes, p)
			}
		}
		d := dests[rc.Destination]
		if d == nil {
			r.close()
			return nil, fmt.Errorf("route %s: no destination %q", rc.Name, rc.Destination)
		}
		r.routes = append(r.routes, route{name: rc.Name, cond: rc.Program, final: rc.Final, pipe: p, dest: d, matched: rt.opts.Metrics.Route(rc.Name)})
	}
	r.simple = len(r.routes) == 1 && r.routes[0].final && r.routes[0].cond == nil
	for _, p := range r.pipes {
		p.startFlushers(r.consume, rt.opts.Logger)
	}
	return r, nil
}

// Stop shuts everything down in order: sources stop accepting and finish
// their in-flight batches, the router finishes, and destinations deliver
// what is queued until ctx is done (events still queued then are not
// delivered and their senders get an error acknowledgement).
func (rt *Runtime) Stop(ctx context.Context) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range rt.srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.src.Stop(ctx); err != nil {
				rt.opts.Logger.Error("stop source", "source", s.cfg.Name, "error", err)
			}
		}()
	}
	srcDone := make(chan struct{})
	go func() { wg.Wait(); close(srcDone) }()
	select {
	case <-srcDone:
	case <-time.After(stopGrace):
		// Sources are stuck pushing into full queues: close the queues so
		// those pushes fail (their senders get an error) and stopping goes on.
		rt.opts.Logger.Warn("shutdown: sources are blocked on full queues; closing the queues")
	case <-ctx.Done():
	}
	if r := rt.cur.Load(); r != nil {
		// Functions that aggregate emit what they hold while the queues
		// still take events.
		for _, p := range r.pipes {
			p.stopFlushers()
		}
	}
	for _, d := range rt.dests {
		d.q.Close()
	}
	<-srcDone
	if r := rt.cur.Swap(nil); r != nil {
		rt.retire(r)
	}
	drainDisk := rt.cfg != nil && rt.cfg.Shutdown.DrainDiskQueues
	for _, d := range rt.dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.stop(ctx, drainDisk)
		}()
	}
	wg.Wait()
	rt.bg.Wait()
	if rt.statsStop != nil {
		close(rt.statsStop)
		<-rt.statsDone
		rt.statsStop = nil
	}
	rt.pool.Close()
	rt.srcs, rt.dests, rt.cfg = map[string]*runningSource{}, map[string]*destination{}, nil
}

// stopGrace is how long Stop lets sources finish before it closes the
// queues they may be blocked on.
const stopGrace = 5 * time.Second
