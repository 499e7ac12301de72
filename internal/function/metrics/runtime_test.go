package metrics

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// apps returns one event per app, at the current time.
func apps(names ...string) []event.Event {
	evs := make([]event.Event, 0, len(names))
	for _, app := range names {
		ev := event.New(time.Now(), "hello")
		ev.SetString("app", app)
		evs = append(evs, ev)
	}
	return evs
}

// TestThroughRuntime runs the function in a real topology: the events it
// emits enter the routes from the top as a batch from "pipeline:count" and
// a route on the metric tag sends them to their own destination; the final
// flush, when the runtime stops, emits what is held.
func TestThroughRuntime(t *testing.T) {
	r := fntest.StartRuntime(t, Spec, `
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
	r.Push(t, "in", apps("web", "web", "db")...)
	r.Stop()
	if n := len(r.Events("main")); n != 3 {
		t.Errorf("main got %d events, want the 3 pushed", n)
	}
	got := r.Events("metrics")
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
	r := fntest.StartRuntime(t, Spec, `
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
	r.Push(t, "in", apps("web", "web", "db")...)
	deadline := time.Now().Add(15 * time.Second)
	for len(r.Events("metrics")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no metrics event within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Stop()
	got := r.Events("metrics")
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
	if n := len(r.Events("main")); n != 3+len(got) {
		t.Errorf("main got %d events, want the 3 pushed and copies of the %d metrics events", n, len(got))
	}
}
