package topology

import (
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// tally counts the events it sees and emits the count, tagged "metric", on
// a short timer and at the final flush. It skips its own metric events.
type tally struct {
	mu     sync.Mutex
	n      int
	finals *int
}

func (c *tally) Apply(ev *event.Event, _ func(event.Event)) bool {
	if ev.HasTag("metric") {
		return true
	}
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return true
}

func (c *tally) FlushInterval() time.Duration { return 20 * time.Millisecond }

func (c *tally) Flush(now time.Time, final bool, emit func(event.Event)) {
	c.mu.Lock()
	n := c.n
	c.n = 0
	if final {
		*c.finals++
	}
	c.mu.Unlock()
	if n == 0 && !final {
		return
	}
	e := event.NewSized(now, 3)
	e.Set("count", n)
	e.Set("final", final)
	e.AddTag("metric")
	emit(e)
}

const flushConfig = `
sources:
  in: {type: test}
routes:
  - name: metrics
    filter: '"metric" in tags'
    destination: metrics
  - name: all
    pipeline: counted
    destination: out
pipelines:
  counted:
    - type: tally
destinations:
  out: {type: test}
  metrics: {type: test}
`

func TestFlushedEventsEnterTheRoutes(t *testing.T) {
	h := newHarness(t)
	var finals int
	var mu sync.Mutex
	h.reg.AddFunction(component.FunctionSpec{Type: "tally", NewConfig: func() any { return &struct{}{} },
		Build: func(any, component.Env) (component.Function, error) {
			mu.Lock()
			defer mu.Unlock()
			return &tally{finals: &finals}, nil
		}})
	if err := h.apply(flushConfig); err != nil {
		t.Fatal(err)
	}
	ack, err := h.push("in", map[string]any{"id": 1}, map[string]any{"id": 2}, map[string]any{"id": 3})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitAck(t, ack); st != event.Delivered {
		t.Fatalf("ack %v", st)
	}
	sum := func() int {
		n := 0
		for _, e := range h.sk.events("metrics") {
			v, _ := e.Get("count")
			switch x := v.(type) {
			case int64:
				n += int(x)
			case int:
				n += x
			}
		}
		return n
	}
	waitCount(t, sum, 3)
	if got := len(h.sk.events("out")); got != 3 {
		t.Errorf("out got %d events, want 3 (metric events must go to the metrics route)", got)
	}
	for _, e := range h.sk.events("metrics") {
		if !e.HasTag("metric") {
			t.Errorf("untagged event at metrics: %v", e.Fields())
		}
	}
	// A reload retires the pipeline: its final flush goes out, and the new
	// pipeline counts from zero.
	if err := h.apply(flushConfig + "\n# changed\n"); err != nil {
		t.Fatal(err)
	}
	ack, err = h.push("in", map[string]any{"id": 4})
	if err != nil {
		t.Fatal(err)
	}
	waitAck(t, ack)
	waitCount(t, sum, 4)
	h.stop()
	mu.Lock()
	defer mu.Unlock()
	if finals < 1 {
		t.Errorf("final flushes: %d", finals)
	}
	last := h.sk.events("metrics")
	if v, _ := last[len(last)-1].Get("final"); v != true {
		t.Errorf("the last metric event is not the final flush at stop: %v", last[len(last)-1].Fields())
	}
}
