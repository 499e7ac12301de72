package metrics

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
	sluicemetrics "github.com/sluicehq/sluice/internal/metrics"
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

// runtimeHarness runs a config with a "push" source type, a "record"
// destination type and the metrics function.
type runtimeHarness struct {
	rt      *topology.Runtime
	src     *pushSource
	rec     *recorder
	stopped bool
}

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
	h.rt = topology.New(topology.Options{Registry: reg, Metrics: sluicemetrics.New(),
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

// push sends one event per app and waits for the acknowledgement.
func (h *runtimeHarness) push(t *testing.T, apps ...string) {
	t.Helper()
	b := event.NewBatch("in")
	for _, app := range apps {
		ev := event.New(time.Now(), "hello")
		ev.SetString("app", app)
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

// TestThroughRuntime runs the function in a real topology: the events it
// emits enter the routes from the top as a batch from "pipeline:count" and
// a route on the metric tag sends them to their own destination; the final
// flush, when the runtime stops, emits what is held.
func TestThroughRuntime(t *testing.T) {
	h := startRuntime(t, `
sources:
  in: {type: push}
routes:
  - name: metrics
    filter: '"metric" in tags'
    destination: metrics
  - name: all
    pipeline: count
    destination: main
pipelines:
  count:
    - type: metrics
      meter: ["events_%{app}"]
destinations:
  metrics: {type: record}
  main: {type: record}
`)
	h.push(t, "web", "web", "db")
	h.stop()
	if n := len(h.rec.events("main")); n != 3 {
		t.Errorf("main got %d events, want the 3 pushed", n)
	}
	got := h.rec.events("metrics")
	if len(got) != 1 {
		t.Fatalf("metrics destination got %d events, want 1 (from the final flush)", len(got))
	}
	ev := got[0]
	if !ev.HasTag("metric") || num(t, ev, "events_web.count") != 2 || num(t, ev, "events_db.count") != 1 {
		t.Errorf("metrics event: %v", ev.SortedKeys())
	}
}

// TestPeriodicFlushThroughRuntime waits for the runtime's 5 s tick: the
// emitted event goes through the pipeline again (the first route copies
// everything into it) without being counted, and reaches the destination
// of the route on the metric tag.
func TestPeriodicFlushThroughRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 5s tick")
	}
	h := startRuntime(t, `
sources:
  in: {type: push}
routes:
  - name: all
    pipeline: count
    destination: main
    final: false
  - name: metrics
    filter: '"metric" in tags'
    destination: metrics
pipelines:
  count:
    - type: metrics
      meter: ["events_%{app}"]
destinations:
  metrics: {type: record}
  main: {type: record}
`)
	h.push(t, "web", "web", "db")
	deadline := time.Now().Add(15 * time.Second)
	for len(h.rec.events("metrics")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no metrics event within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.stop()
	got := h.rec.events("metrics")
	if len(got) < 2 {
		t.Fatalf("metrics destination got %d events, want a tick's and the final flush's", len(got))
	}
	for i, ev := range got {
		// Had the function counted its own first event, a meter
		// "events_" (no app) would appear in the final one.
		if num(t, ev, "events_web.count") != 2 || num(t, ev, "events_db.count") != 1 || ev.Has("events_") {
			t.Errorf("metrics event %d: %s", i, fntest.JSON(&ev))
		}
	}
	if n := len(h.rec.events("main")); n != 3+len(got) {
		t.Errorf("main got %d events, want the 3 pushed and copies of the %d metrics events", n, len(got))
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
