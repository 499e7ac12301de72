package split

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"field: ''", "field"},
		{"field: '@timestamp'", "field"},
		{"target: '@timestamp'", "field"},
		{"separator: ''", "separator"},
		{"max_events: 0", "max_events"},
		{"max_events: -1", "max_events"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}

// TestClonesIndependent checks that the events split from one do not share
// their fields: changing one leaves the others alone.
func TestClonesIndependent(t *testing.T) {
	f := fntest.Build(t, Spec, "")
	out := f.Run(fntest.Event(t, `{"message":"a\nb\nc","k":"v"}`))
	if len(out) != 3 {
		t.Fatalf("%d events", len(out))
	}
	out[1].SetString("k", "changed")
	out[1].AddTag("x")
	for _, i := range []int{0, 2} {
		if got := fntest.JSON(&out[i]); strings.Contains(got, "changed") || strings.Contains(got, `"x"`) {
			t.Errorf("event %d changed with its sibling: %s", i, got)
		}
	}
}

// TestMaxEventsDefault checks the default bound on a large input.
func TestMaxEventsDefault(t *testing.T) {
	f := fntest.Build(t, Spec, "")
	ev := event.New(time.Unix(0, 0), strings.Repeat("l\n", 10005))
	out := f.Run(ev)
	if len(out) != 10000 {
		t.Fatalf("%d events, want 10000", len(out))
	}
	if !out[0].HasTag("_split_truncated") || !out[9999].HasTag("_split_truncated") || f.Failures.Value() != 1 {
		t.Errorf("truncation not tagged or counted (%d failures)", f.Failures.Value())
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("a\nb\n\nc", "\n", 3, true)
	f.Add("x||y|", "|", 1, false)
	f.Add("", ",", 5, true)
	f.Fuzz(func(t *testing.T, s, sep string, max int, skip bool) {
		if sep == "" || max < 1 || max > 1000 {
			return
		}
		// Built directly: YAML cannot carry every byte string.
		cfg := Spec.NewConfig().(*Config)
		cfg.Separator, cfg.MaxEvents, cfg.SkipEmpty = Separator(sep), max, skip
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		fn, err := Spec.Build(cfg, component.Env{})
		if err != nil {
			t.Fatal(err)
		}
		var out []event.Event
		ev := event.New(time.Unix(0, 0), s)
		if fn.Apply(&ev, func(e event.Event) { out = append(out, e) }) {
			out = append([]event.Event{ev}, out...)
		}
		var want []string
		for _, p := range strings.Split(s, sep) {
			if p != "" || !skip {
				want = append(want, p)
			}
		}
		truncated := len(want) > max
		if truncated {
			want = want[:max]
		}
		if len(out) != len(want) {
			t.Fatalf("%d events, want %d", len(out), len(want))
		}
		for i := range out {
			if got := out[i].Message(); got != want[i] {
				t.Fatalf("event %d: %q, want %q", i, got, want[i])
			}
			if out[i].HasTag("_split_truncated") != truncated {
				t.Fatalf("event %d: truncation tag %v, want %v", i, !truncated, truncated)
			}
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	f := fntest.Build(b, Spec, "")
	src := fntest.Event(b, `{"message":"line one\nline two\nline three\nline four","host":{"name":"n"}}`)
	fntest.Bench(b, f, src)
}
