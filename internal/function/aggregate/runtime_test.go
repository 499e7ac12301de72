package aggregate

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// requests returns one event per service at tm, of 10 bytes each.
func requests(tm time.Time, services ...string) []event.Event {
	evs := make([]event.Event, 0, len(services))
	for _, s := range services {
		ev := event.New(tm, "GET /")
		ev.SetString("service", s)
		ev.SetValue("bytes", event.Int(10))
		evs = append(evs, ev)
	}
	return evs
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
	r := fntest.StartRuntime(t, Spec, fmt.Sprintf(runtimeConfig, "1h"))
	r.Push(t, "in", requests(time.Now(), "web", "web", "db")...)
	r.Stop()
	if n := len(r.Events("main")); n != 0 {
		t.Errorf("main got %d events; passthrough: false should drop them", n)
	}
	got := statsByService(t, r.Events("stats"))
	if got["web"] != [2]int64{2, 20} || got["db"] != [2]int64{1, 10} || len(got) != 2 {
		t.Errorf("aggregates %v", got)
	}
}

// TestPeriodicFlushThroughRuntime: a window that has closed is emitted by
// the runtime's flush loop while the pipeline runs.
func TestPeriodicFlushThroughRuntime(t *testing.T) {
	r := fntest.StartRuntime(t, Spec, fmt.Sprintf(runtimeConfig, "1s"))
	r.Push(t, "in", requests(time.Now().Add(-5*time.Second), "web", "web", "db")...)
	deadline := time.Now().Add(5 * time.Second)
	for len(r.Events("stats")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no aggregates after 5s: %d events", len(r.Events("stats")))
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := statsByService(t, r.Events("stats"))
	if got["web"] != [2]int64{2, 20} || got["db"] != [2]int64{1, 10} {
		t.Errorf("aggregates %v", got)
	}
}
