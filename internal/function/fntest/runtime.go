package fntest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/topology"
)

// Runtime is a config running in a real topology (internal/topology), for
// testing what a function does there rather than on its own: the events it
// emits on the runtime's flushes, which enter the routes from the top, and
// the final flush when the runtime stops. Its sources are of type "push"
// (fed by Push) and its destinations of type "record" (read by Events).
type Runtime struct {
	rt       *topology.Runtime
	stopOnce sync.Once

	mu      sync.Mutex
	sources map[string]component.Consumer
	got     map[string][]event.Event
}

// StartRuntime parses yamlConfig, a whole config (sources, routes,
// pipelines, destinations) whose sources are of type "push", whose
// destinations are of type "record" and whose pipelines use spec's
// function, and runs it. The runtime is stopped when the test ends, unless
// Stop did it before.
func StartRuntime(t testing.TB, spec component.FunctionSpec, yamlConfig string) *Runtime {
	t.Helper()
	r := &Runtime{sources: map[string]component.Consumer{}, got: map[string][]event.Event{}}
	reg := component.NewRegistry()
	reg.AddSource(component.SourceSpec{Type: "push", NewConfig: func() any { return &struct{}{} },
		Build: func(_ any, env component.Env) (component.Source, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.sources[env.Name] = env.Out
			return pushSource{}, nil
		}})
	reg.AddDestination(component.DestinationSpec{Type: "record", NewConfig: func() any { return &struct{}{} },
		Build: func(_ any, env component.Env) (component.Sink, error) {
			return &recordSink{r: r, name: env.Name}, nil
		}})
	reg.AddFunction(spec)
	cfg, err := config.Parse([]byte(yamlConfig), "test.yaml", reg, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.rt = topology.New(topology.Options{Registry: reg, Metrics: metrics.New(),
		Logger: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), RetireTimeout: 2 * time.Second})
	if err := r.rt.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop stops the runtime: its pipelines flush for the last time (final
// set) and what they emit is delivered. Later calls do nothing.
func (r *Runtime) Stop() {
	r.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.rt.Stop(ctx)
	})
}

// Push sends events as one batch from the named source and waits for its
// acknowledgement, which must say that they were delivered.
func (r *Runtime) Push(t testing.TB, source string, events ...event.Event) {
	t.Helper()
	r.mu.Lock()
	out := r.sources[source]
	r.mu.Unlock()
	if out == nil {
		t.Fatalf("no push source %q", source)
	}
	b := event.NewBatch(source)
	b.Events = append(b.Events, events...)
	acked := make(chan event.Status, 1)
	b.AddAcker(event.NewAcker(func(s event.Status) { acked <- s }))
	if err := out.Consume(context.Background(), b); err != nil {
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

// Events returns copies of the events the named destination got so far, in
// the order it got them.
func (r *Runtime) Events(destination string) []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.got[destination]...)
}

// pushSource is a source whose batches the test sends with Runtime.Push.
type pushSource struct{}

func (pushSource) Start(context.Context) error { return nil }
func (pushSource) Stop(context.Context) error  { return nil }

// recordSink is a destination that keeps what it gets in its Runtime.
type recordSink struct {
	r    *Runtime
	name string
}

func (s *recordSink) Write(_ context.Context, b *event.Batch) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	for i := range b.Events {
		s.r.got[s.name] = append(s.r.got[s.name], b.Events[i].Clone())
	}
	return nil
}

func (s *recordSink) Close(context.Context) error { return nil }
