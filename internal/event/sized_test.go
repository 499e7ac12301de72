package event

import (
	"testing"
	"time"
)

func TestNewSized(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	for _, n := range []int{-1, 0, 1, 7, 17, 100} {
		ev := NewSized(ts, n)
		if !ev.Time.Equal(ts) || ev.Len() != 0 {
			t.Fatalf("NewSized(%d): time %v, %d fields", n, ev.Time, ev.Len())
		}
		if n <= 0 {
			if ev.Fields() != nil {
				t.Errorf("NewSized(%d) allocated", n)
			}
			continue
		}
		if c := cap(ev.Fields()); c < n {
			t.Errorf("NewSized(%d): cap %d", n, c)
		}
		allocs := testing.AllocsPerRun(10, func() {
			ev := NewSized(ts, n)
			for range n {
				ev.AppendField("k", String("v"))
			}
		})
		if allocs != 1 {
			t.Errorf("NewSized(%d) and %d appends: %v allocations, want 1", n, n, allocs)
		}
	}
}

func TestGrow(t *testing.T) {
	ev := New(time.Unix(1, 0), "m")
	ev.AppendField("a", Int(1))
	before := ev.Fields()
	ev.Grow(0)
	ev.Grow(-5)
	if &ev.Fields()[0] != &before[0] {
		t.Fatal("Grow(<=0) reallocated")
	}
	ev.Grow(10)
	if c := cap(ev.Fields()) - ev.Len(); c < 10 {
		t.Fatalf("room for %d after Grow(10)", c)
	}
	if ev.Len() != 2 || ev.Message() != "m" || !ev.Has("a") || !ev.Time.Equal(time.Unix(1, 0)) {
		t.Fatalf("Grow changed the event: %v", ev.Fields())
	}
	// Enough room already: no reallocation.
	grown := ev.Fields()
	ev.Grow(10)
	ev.Grow(3)
	if &ev.Fields()[0] != &grown[0] {
		t.Fatal("Grow reallocated with room to spare")
	}
	// A copy made before Grow keeps its own view.
	c := ev
	ev.Grow(100)
	ev.AppendField("b", Int(2))
	if c.Len() != 2 || c.Has("b") {
		t.Fatalf("copy changed: %v", c.Fields())
	}
	allocs := testing.AllocsPerRun(10, func() {
		var e Event
		e.Grow(5)
		for range 5 {
			e.AppendField("k", String("v"))
		}
	})
	if allocs != 1 {
		t.Errorf("Grow(5) and 5 appends: %v allocations, want 1", allocs)
	}
}
