package topology

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/drop"
	"github.com/sluicehq/sluice/internal/function/eval"
	"github.com/sluicehq/sluice/internal/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sinks records what each test destination received, by name.
type sinks struct {
	mu     sync.Mutex
	got    map[string][]event.Event
	fail   map[string]error // error to return from Write
	gate   map[string]chan struct{}
	writes atomic.Int64
	closed map[string]int
}

func newSinks() *sinks {
	return &sinks{got: map[string][]event.Event{}, fail: map[string]error{}, gate: map[string]chan struct{}{}, closed: map[string]int{}}
}

type sinkCfg struct {
	Tag string `yaml:"tag"`
}

type testSink struct {
	s    *sinks
	name string
	tag  string
}

func (t *testSink) Write(ctx context.Context, b *event.Batch) error {
	t.s.writes.Add(1)
	t.s.mu.Lock()
	gate := t.s.gate[t.name]
	err := t.s.fail[t.name]
	t.s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	t.s.mu.Lock()
	for i := range b.Events {
		ev := b.Events[i].Clone()
		if t.tag != "" {
			ev.SetString("_sink_tag", t.tag)
		}
		t.s.got[t.name] = append(t.s.got[t.name], ev)
	}
	t.s.mu.Unlock()
	return nil
}

func (t *testSink) Close(context.Context) error {
	t.s.mu.Lock()
	t.s.closed[t.name]++
	t.s.mu.Unlock()
	return nil
}

func (s *sinks) events(name string) []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.got[name]...)
}

// testSource is a source whose batches the test injects with push.
type testSource struct {
	out     component.Consumer
	started atomic.Int32
	stopped atomic.Int32
}

type srcCfg struct {
	Port int `yaml:"port"`
}

func (s *testSource) Start(context.Context) error { s.started.Add(1); return nil }
func (s *testSource) Stop(context.Context) error  { s.stopped.Add(1); return nil }

type harness struct {
	t    *testing.T
	rt   *Runtime
	sk   *sinks
	reg  *component.Registry
	srcs map[string]*testSource
	mu   sync.Mutex
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, sk: newSinks(), srcs: map[string]*testSource{}}
	r := component.NewRegistry()
	r.AddSource(component.SourceSpec{Type: "test", NewConfig: func() any { return &srcCfg{} },
		Build: func(_ any, env component.Env) (component.Source, error) {
			s := &testSource{out: env.Out}
			h.mu.Lock()
			h.srcs[env.Name] = s
			h.mu.Unlock()
			return s, nil
		}})
	r.AddDestination(component.DestinationSpec{Type: "test", NewConfig: func() any { return &sinkCfg{} },
		Build: func(cfg any, env component.Env) (component.Sink, error) {
			return &testSink{s: h.sk, name: env.Name, tag: cfg.(*sinkCfg).Tag}, nil
		}})
	r.AddFunction(eval.Spec)
	r.AddFunction(drop.Spec)
	h.reg = r
	h.rt = New(Options{Registry: r, Metrics: metrics.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DataDir: t.TempDir(), RetireTimeout: 2 * time.Second})
	return h
}

func (h *harness) apply(yaml string) error {
	cfg, err := config.Parse([]byte(yaml), "test.yaml", h.reg, config.Options{})
	if err != nil {
		h.t.Fatalf("config: %v", err)
	}
	return h.rt.Apply(context.Background(), cfg)
}

func (h *harness) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.rt.Stop(ctx)
}

// push sends events with the given fields through source name and returns
// a channel that receives the acknowledgement.
func (h *harness) push(source string, evs ...map[string]any) (<-chan event.Status, error) {
	h.mu.Lock()
	s := h.srcs[source]
	h.mu.Unlock()
	ch := make(chan event.Status, 1)
	b := event.NewBatch(source)
	for _, f := range evs {
		ev := event.Event{Time: time.Now()}
		ev.Merge(f)
		b.Events = append(b.Events, ev)
	}
	b.Bytes = 100 * len(evs)
	a := event.NewAcker(func(st event.Status) { ch <- st })
	b.AddAcker(a)
	err := s.out.Consume(context.Background(), b)
	return ch, err
}

func waitAck(t *testing.T, ch <-chan event.Status) event.Status {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no acknowledgement")
		return 0
	}
}

func waitCount(t *testing.T, f func() int, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f() < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d, have %d", n, f())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const routingConfig = `
sources:
  in: {type: test}
routes:
  - name: copy-errors
    filter: 'level == "error"'
    destination: errors
    final: false
  - name: web
    filter: 'app in ["web"]'
    pipeline: web
    destination: web
  - name: rest
    filter: 'app != "nothing-matches-this-app-name" && !exists(unrouted)'
    destination: rest
pipelines:
  web:
    - type: eval
      fields: [{name: seen, value: 'app + "-seen"'}]
    - type: drop
      if: 'level == "debug"'
destinations:
  errors: {type: test}
  web: {type: test}
  rest: {type: test}
`

func TestRouting(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	if err := h.apply(routingConfig); err != nil {
		t.Fatal(err)
	}
	ack, err := h.push("in",
		map[string]any{"app": "web", "level": "error", "id": 1},
		map[string]any{"app": "web", "level": "debug", "id": 2},
		map[string]any{"app": "db", "level": "info", "id": 3},
		map[string]any{"app": "db", "level": "error", "id": 4},
		map[string]any{"app": "x", "unrouted": true, "id": 5},
	)
	if err != nil {
		t.Fatal(err)
	}
	if st := waitAck(t, ack); st != event.Delivered {
		t.Fatalf("ack %v", st)
	}
	ids := func(name string) []any {
		var out []any
		for _, e := range h.sk.events(name) {
			v, _ := e.Get("id")
			out = append(out, v)
		}
		return out
	}
	if got := ids("errors"); fmt.Sprint(got) != "[1 4]" {
		t.Errorf("errors got %v", got)
	}
	if got := ids("web"); fmt.Sprint(got) != "[1]" {
		t.Errorf("web got %v (debug dropped by pipeline)", got)
	}
	if got := ids("rest"); fmt.Sprint(got) != "[3 4]" {
		t.Errorf("rest got %v", got)
	}
	web := h.sk.events("web")
	if v, _ := web[0].Get("seen"); v != "web-seen" {
		t.Errorf("pipeline eval: %v", v)
	}
	// The copy to errors must not have been touched by the web pipeline.
	if h.sk.events("errors")[0].Has("seen") {
		t.Error("non-final clone shares fields with the final copy")
	}
}

func TestAckWorstStatusAndPermanent(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	h.sk.fail["bad"] = component.Permanent(errors.New("400 bad request"))
	if err := h.apply(`
sources: {in: {type: test}}
routes:
  - {filter: 'true', destination: good, final: false}
  - {destination: bad}
destinations:
  good: {type: test}
  bad: {type: test}
`); err != nil {
		t.Fatal(err)
	}
	ack, _ := h.push("in", map[string]any{"a": 1})
	if st := waitAck(t, ack); st != event.Rejected {
		t.Fatalf("want Rejected (worst of delivered and rejected), got %v", st)
	}
	if len(h.sk.events("good")) != 1 {
		t.Fatal("good destination did not get its copy")
	}
}

func TestRetryThenDeliver(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	h.sk.fail["out"] = errors.New("connection refused")
	if err := h.apply(`
sources: {in: {type: test}}
routes: [{destination: out}]
destinations:
  out: {type: test, retry: {initial_backoff: 5ms, max_backoff: 20ms}}
`); err != nil {
		t.Fatal(err)
	}
	ack, _ := h.push("in", map[string]any{"a": 1})
	waitCount(t, func() int { return int(h.sk.writes.Load()) }, 3)
	select {
	case <-ack:
		t.Fatal("acknowledged before delivery")
	default:
	}
	h.sk.mu.Lock()
	delete(h.sk.fail, "out")
	h.sk.mu.Unlock()
	if st := waitAck(t, ack); st != event.Delivered {
		t.Fatalf("ack %v", st)
	}
}

func TestBackpressureIsolated(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	gate := make(chan struct{})
	h.sk.gate["slow"] = gate
	if err := h.apply(`
sources: {in: {type: test}, other: {type: test}}
routes:
  - {filter: '__source == "in"', destination: slow}
  - {destination: fast}
destinations:
  slow: {type: test, queue: {max_events: 4}, batch: {max_events: 2}}
  fast: {type: test}
`); err != nil {
		t.Fatal(err)
	}
	// Fill: one batch is being written (blocked on gate), 4 events queued.
	for i := 0; i < 3; i++ {
		if _, err := h.push("in", map[string]any{"i": i}, map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	// The next push blocks: time it out.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	b := event.NewBatch("in")
	b.Events = append(b.Events, event.New(time.Now(), "x"))
	if err := h.srcs["in"].out.Consume(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want backpressure, got %v", err)
	}
	// Another source routed to another destination is unaffected.
	ack, err := h.push("other", map[string]any{"ok": true})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitAck(t, ack); st != event.Delivered {
		t.Fatal(st)
	}
	close(gate)
	waitCount(t, func() int { return len(h.sk.events("slow")) }, 6)
}

func TestReloadKeepsUnchangedAndDrainsRemoved(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	base := `
sources: {in: {type: test}}
routes: [{destination: %s}]
destinations:
  %s: {type: test}
`
	if err := h.apply(fmt.Sprintf(base, "a", "a")); err != nil {
		t.Fatal(err)
	}
	firstSrc := h.srcs["in"]
	gate := make(chan struct{})
	h.sk.gate["a"] = gate
	ack, _ := h.push("in", map[string]any{"n": 1})
	// Reload: route to b; a is removed and must drain its queued event.
	done := make(chan error)
	go func() { done <- h.apply(fmt.Sprintf(base, "b", "b")) }()
	time.Sleep(20 * time.Millisecond)
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := waitAck(t, ack); st != event.Delivered || len(h.sk.events("a")) != 1 {
		t.Fatalf("removed destination did not drain: %v %d", st, len(h.sk.events("a")))
	}
	if h.srcs["in"] != firstSrc || firstSrc.stopped.Load() != 0 {
		t.Fatal("unchanged source was restarted")
	}
	ack, _ = h.push("in", map[string]any{"n": 2})
	waitAck(t, ack)
	if len(h.sk.events("b")) != 1 {
		t.Fatal("new route not in effect")
	}
	h.sk.mu.Lock()
	closedA := h.sk.closed["a"]
	h.sk.mu.Unlock()
	if closedA != 1 {
		t.Fatalf("removed destination closed %d times", closedA)
	}
	// A changed source is replaced.
	if err := h.apply(`
sources: {in: {type: test, port: 2}}
routes: [{destination: b}]
destinations: {b: {type: test}}
`); err != nil {
		t.Fatal(err)
	}
	if h.srcs["in"] == firstSrc || firstSrc.stopped.Load() != 1 {
		t.Fatal("changed source not replaced")
	}
}

// TestReloadHandsQueueToNewSink: when only a destination's sink settings
// change, the new sink takes over the queue: nothing queued is lost or sent
// twice, and queued events go out through the new sink.
func TestReloadHandsQueueToNewSink(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	cfg := `
sources: {in: {type: test}}
routes: [{destination: out}]
destinations:
  out: {type: test, tag: %s, batch: {max_events: 1}}
`
	if err := h.apply(fmt.Sprintf(cfg, "old")); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	h.sk.mu.Lock()
	h.sk.gate["out"] = gate
	h.sk.mu.Unlock()
	var acks []<-chan event.Status
	for i := 0; i < 5; i++ {
		a, err := h.push("in", map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, a)
	}
	// The old driver is blocked delivering event 0; events 1-4 are queued.
	done := make(chan error)
	go func() { done <- h.apply(fmt.Sprintf(cfg, "new")) }()
	time.Sleep(20 * time.Millisecond)
	close(gate) // lets the old driver finish its batch
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.sk.mu.Lock()
	delete(h.sk.gate, "out")
	h.sk.mu.Unlock()
	for _, a := range acks {
		if st := waitAck(t, a); st != event.Delivered {
			t.Fatalf("ack %v", st)
		}
	}
	evs := h.sk.events("out")
	if len(evs) != 5 {
		t.Fatalf("delivered %d events, want 5", len(evs))
	}
	newCount := 0
	for _, e := range evs {
		if tag, _ := e.GetString("_sink_tag"); tag == "new" {
			newCount++
		}
	}
	if newCount < 4 {
		t.Fatalf("only %d of the queued events went through the new sink", newCount)
	}
	h.sk.mu.Lock()
	closed := h.sk.closed["out"]
	h.sk.mu.Unlock()
	if closed != 1 {
		t.Fatalf("old sink closed %d times, want 1", closed)
	}
}

// TestReloadUnderLoad pushes from several goroutines while reloading many
// times: every event must arrive.
func TestReloadUnderLoad(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	cfgs := []string{`
sources: {in: {type: test}}
routes: [{destination: out}]
destinations: {out: {type: test}}
`, `
sources: {in: {type: test}}
routes:
  - {filter: 'n % 2 == 0', destination: out, pipeline: p}
  - {destination: out}
pipelines:
  p: [{type: eval, fields: [{name: even, value: 'true'}]}]
destinations: {out: {type: test}}
`}
	if err := h.apply(cfgs[0]); err != nil {
		t.Fatal(err)
	}
	const workers, per = 4, 500
	var wg sync.WaitGroup
	var acks sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ack, err := h.push("in", map[string]any{"n": w*per + i})
				if err != nil {
					t.Error(err)
					return
				}
				acks.Add(1)
				go func() { defer acks.Done(); <-ack }()
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if err := h.apply(cfgs[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	acks.Wait()
	seen := map[int64]bool{}
	for _, e := range h.sk.events("out") {
		v, _ := e.Get("n")
		seen[v.(int64)] = true
	}
	if len(seen) != workers*per {
		t.Fatalf("got %d distinct events, want %d", len(seen), workers*per)
	}
}

func BenchmarkRouterSimple(b *testing.B) {
	h := newHarness(&testing.T{})
	if err := h.apply(`
sources: {in: {type: test}}
routes: [{destination: out}]
destinations: {out: {type: test}}
`); err != nil {
		b.Fatal(err)
	}
	defer h.stop()
	r := h.rt.cur.Load()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bt := event.NewBatch("in")
		for j := 0; j < 100; j++ {
			bt.Events = append(bt.Events, event.New(time.Time{}, "x"))
		}
		_ = r.consume(context.Background(), bt)
	}
}

// TestDiskQueueSurvivesRestart: events acknowledged by a disk queue while
// the destination is down are delivered by the next runtime on the same
// data directory; a reload that changes the disk queue's settings is
// refused and changes nothing.
func TestDiskQueueSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	dataDir := h.rt.opts.DataDir
	h.sk.fail["out"] = errors.New("connection refused")
	cfg := `
sources: {in: {type: test}}
routes: [{destination: out}]
destinations:
  out: {type: test, queue: {type: disk, fsync: {interval: 10ms}, max_bytes: %s}, retry: {initial_backoff: 5ms, max_backoff: 10ms}}
`
	if err := h.apply(fmt.Sprintf(cfg, "1GiB")); err != nil {
		t.Fatal(err)
	}
	var acks []<-chan event.Status
	for i := 0; i < 50; i++ {
		a, err := h.push("in", map[string]any{"n": i}, map[string]any{"n": i + 1000})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, a)
	}
	for _, a := range acks {
		if st := waitAck(t, a); st != event.Delivered {
			t.Fatalf("disk queue ack %v", st)
		}
	}
	if err := h.apply(fmt.Sprintf(cfg, "2GiB")); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("changing disk queue settings on reload: %v", err)
	}
	h.stop()
	if n := len(h.sk.events("out")); n != 0 {
		t.Fatalf("delivered %d events to a failing destination", n)
	}

	h2 := newHarness(t)
	h2.rt.opts.DataDir = dataDir
	if err := h2.apply(fmt.Sprintf(cfg, "1GiB")); err != nil {
		t.Fatal(err)
	}
	defer h2.stop()
	waitCount(t, func() int { return len(h2.sk.events("out")) }, 100)
	seen := map[int64]bool{}
	for _, e := range h2.sk.events("out") {
		v, _ := e.Get("n")
		seen[v.(int64)] = true
	}
	if len(seen) != 100 {
		t.Fatalf("after restart %d distinct events, want 100", len(seen))
	}
}

// TestDeadLetter: events a destination rejects permanently go to its dead
// letter destination with the reason, and the sender hears Delivered.
func TestDeadLetter(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	h.sk.fail["strict"] = component.Permanent(errors.New("400 mapper_parsing_exception"))
	if err := h.apply(`
sources: {in: {type: test}}
routes: [{destination: strict}]
destinations:
  strict: {type: test, dead_letter: {destination: dlq}}
  dlq: {type: test}
`); err != nil {
		t.Fatal(err)
	}
	ack, _ := h.push("in", map[string]any{"id": 1}, map[string]any{"id": 2})
	if st := waitAck(t, ack); st != event.Delivered {
		t.Fatalf("ack %v, want delivered (to the dead letter destination)", st)
	}
	evs := h.sk.events("dlq")
	if len(evs) != 2 {
		t.Fatalf("dead letter got %d events", len(evs))
	}
	reason, _ := evs[0].GetString("dead_letter.reason")
	from, _ := evs[0].GetString("dead_letter.destination")
	if !strings.Contains(reason, "mapper_parsing_exception") || from != "strict" || !evs[0].Has("dead_letter.time") {
		t.Fatalf("dead letter fields: %v", evs[0].SortedKeys())
	}
}
