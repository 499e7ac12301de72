package aggregate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/topology"
)

// recorder is a destination type that keeps what each destination got.
type recorder struct {
	mu  sync.Mutex
	got map[string][]event.Event
}

type recSink struct {
	r    *recorder
	name string
}

func (s *recSink) Write(_ context.Context, b *event.Batch) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	for i := range b.Events {
		s.r.got[s.name] = append(s.r.got[s.name], b.Events[i].Clone())
	}
	return nil
}

func (s *recSink) Close(context.Context) error { return nil }

func (r *recorder) events(name string) []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.got[name]...)
}

// pushSource is a source whose batches the test pushes.
type pushSource struct{ out component.Consumer }

func (*pushSource) Start(context.Context) error { return nil }
func (*pushSource) Stop(context.Context) error  { return nil }

type emptyConfig struct{}

type runtimeHarness struct {
	rt      *topology.Runtime
	src     *pushSource
	rec     *recorder
	stopped bool
}

// startRuntime runs cfg (YAML) with a "push" source type, a "record"
// destination type and the aggregate function.
func startRuntime(t *testing.T, yamlCfg string) *runtimeHarness {
	h := &runtimeHarness{rec: &recorder{got: map[string][]event.Event{}}}
	reg := component.NewRegistry()
	reg.AddSource(component.SourceSpec{Type: "push", NewConfig: func() any { return &emptyConfig{} },
		Build: func(_ any, env component.Env) (component.Source, error) {
			h.src = &pushSource{out: env.Out}
			return h.src, nil
		}})
	reg.AddDestination(component.DestinationSpec{Type: "record", NewConfig: func() any { return &emptyConfig{} },
		Build: func(_ any, env component.Env) (component.Sink, error) { return &recSink{r: h.rec, name: env.Name}, nil }})
	reg.AddFunction(Spec)
	cfg, err := config.Parse([]byte(yamlCfg), "test.yaml", reg, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.rt = topology.New(topology.Options{Registry: reg, Metrics: metrics.New(),
		Logger: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), RetireTimeout: 2 * time.Second})
	if err := h.rt.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	return h
}

func (h *runtimeHarness) stop() {
	if h.stopped {
		return
	}
	h.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.rt.Stop(ctx)
}

// push sends events with the given times and services and waits for the
// acknowledgement.
func (h *runtimeHarness) push(t *testing.T, tm time.Time, services ...string) {
	t.Helper()
	b := event.NewBatch("in")
	for _, s := range services {
		ev := event.New(tm, "GET /")
		ev.SetString("service", s)
		ev.SetValue("bytes", event.Int(10))
		b.Events = append(b.Events, ev)
	}
	acked := make(chan event.Status, 1)
	b.AddAcker(event.NewAcker(func(s event.Status) { acked <- s }))
	if err := h.src.out.Consume(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-acked:
		if s != event.Delivered {
			t.Fatalf("ack %v", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no acknowledgement")
	}
}

const runtimeConfig = `
sources:
  in: {type: push}
routes:
  - name: aggregates
    filter: '"aggregate" in tags'
    destination: stats
  - name: all
    pipeline: summarize
    destination: main
pipelines:
  summarize:
    - type: aggregate
      group_by: [service]
      aggregations: [{op: count}, {op: sum, field: bytes}]
      window: %s
      lateness: 0s
      passthrough: false
destinations:
  stats: {type: record}
  main: {type: record}
`

func statsByService(t *testing.T, evs []event.Event) map[string][2]int64 {
	t.Helper()
	m := map[string][2]int64{}
	for _, ev := range evs {
		s, _ := ev.GetString("service")
		c, _ := ev.Get("count")
		b, _ := ev.Get("sum_bytes")
		if !ev.HasTag("aggregate") || !ev.Has(WindowEndField) {
			t.Errorf("not an aggregate: %v", ev.SortedKeys())
		}
		m[s] = [2]int64{m[s][0] + c.(int64), m[s][1] + b.(int64)}
	}
	return m
}

// TestFinalFlushThroughRuntime: the aggregates held when the runtime stops
// are emitted, enter the routes from the top and reach the destination of
// the route on the aggregate tag; the originals are dropped
// (passthrough: false).
func TestFinalFlushThroughRuntime(t *testing.T) {
	h := startRuntime(t, fmt.Sprintf(runtimeConfig, "1h"))
	h.push(t, time.Now(), "web", "web", "db")
	h.stop()
	if n := len(h.rec.events("main")); n != 0 {
		t.Errorf("main got %d events; passthrough: false should drop them", n)
	}
	got := statsByService(t, h.rec.events("stats"))
	if got["web"] != [2]int64{2, 20} || got["db"] != [2]int64{1, 10} || len(got) != 2 {
		t.Errorf("aggregates %v", got)
	}
}

// TestPeriodicFlushThroughRuntime: a window that has closed is emitted by
// the runtime's flush loop while the pipeline runs.
func TestPeriodicFlushThroughRuntime(t *testing.T) {
	h := startRuntime(t, fmt.Sprintf(runtimeConfig, "1s"))
	h.push(t, time.Now().Add(-5*time.Second), "web", "web", "db")
	deadline := time.Now().Add(5 * time.Second)
	for len(h.rec.events("stats")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no aggregates after 5s: %d events", len(h.rec.events("stats")))
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := statsByService(t, h.rec.events("stats"))
	if got["web"] != [2]int64{2, 20} || got["db"] != [2]int64{1, 10} {
		t.Errorf("aggregates %v", got)
	}
}

// TestExampleLoads checks that the documented example is a valid pipeline
// function for the real config loader.
func TestExampleLoads(t *testing.T) {
	reg := component.NewRegistry()
	reg.AddSource(component.SourceSpec{Type: "push", NewConfig: func() any { return &emptyConfig{} },
		Build: func(any, component.Env) (component.Source, error) { return &pushSource{}, nil }})
	reg.AddDestination(component.DestinationSpec{Type: "record", NewConfig: func() any { return &emptyConfig{} },
		Build: func(any, component.Env) (component.Sink, error) { return &recSink{}, nil }})
	reg.AddFunction(Spec)
	var b strings.Builder
	b.WriteString("sources:\n  in: {type: push}\nroutes:\n  - {name: all, pipeline: p, destination: out}\ndestinations:\n  out: {type: record}\npipelines:\n  p:\n")
	for _, line := range strings.Split(strings.TrimRight(Spec.Example, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	if _, err := config.Parse([]byte(b.String()), "example.yaml", reg, config.Options{}); err != nil {
		t.Errorf("example does not load: %v\n%s", err, b.String())
	}
}
