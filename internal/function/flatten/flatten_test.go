package flatten

import (
	"testing"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"depth: 0", "depth"},
		{"depth: -3", "depth"},
		{"delimiter: ''", "delimiter"},
		{"fields: ['']", "fields"},
		{"fields: [a.]", "fields"},
		{"fields: ['kube*']", "fields"},
		{"fields: [kubernetes, kubernetes.labels]", "fields"},
		{"fields: [a.b, a]", "fields"},
		{"fields: [a, a]", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "fields: [a, ab, a_b]"); err != nil {
		t.Errorf("distinct fields rejected: %v", err)
	}
}

// TestUnchangedKeepsSlice checks that an event without nested values is not
// copied.
func TestUnchangedKeepsSlice(t *testing.T) {
	f := fntest.Build(t, Spec, "")
	ev := fntest.Event(t, `{"message":"m","http":{"method":"GET"}}`)
	before := &ev.Fields()[0]
	f.Apply(&ev, nil)
	if &ev.Fields()[0] != before {
		t.Error("an event with nothing to flatten was copied")
	}
}

// leaves counts the scalar leaves of an event (empty containers count as
// leaves, as flatten keeps them).
func leaves(ev *event.Event) int {
	n := 0
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case []any:
			if len(t) == 0 {
				n++
			}
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			if len(t) == 0 {
				n++
			}
			for _, e := range t {
				walk(e)
			}
		default:
			n++
		}
	}
	for _, f := range ev.Fields() {
		walk(f.Value.Interface())
	}
	return n
}

// build makes a flatten function directly: YAML cannot carry every byte
// string a fuzzer tries.
func build(t *testing.T, delim string, depth int, prefix string) *fntest.Func {
	cfg := Spec.NewConfig().(*Config)
	cfg.Delimiter, cfg.Depth, cfg.Prefix = delim, depth, prefix
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fn, err := Spec.Build(cfg, component.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return &fntest.Func{Function: fn, Failures: &fntest.Counter{}}
}

func FuzzFlatten(f *testing.F) {
	f.Add(`{"a":[1,{"b":[2,3]},[]],"c":{"d":"e"}}`, "_", 16, "")
	f.Add(`{"a":[[[[1]]]],"a.0":"x"}`, ".", 2, "p.")
	f.Add(`{"x":[{"":1,"y.z":[2]}],"_i":[1]}`, "__", 1, "")
	f.Add(`{"k":{}}`, "-", 3, "q")
	f.Fuzz(func(t *testing.T, js, delim string, depth int, prefix string) {
		if delim == "" || depth < 1 || depth > 100 {
			return
		}
		ev := event.Event{}
		if jsonparse.ParseObject(&ev, []byte(js)) != nil {
			return
		}
		fl := build(t, delim, depth, prefix)
		before := leaves(&ev)
		out := fl.Run(ev)
		if len(out) != 1 {
			t.Fatalf("flatten made %d events", len(out))
		}
		got := &out[0]
		// Leaves move, they are never made up; names that collide merge.
		if after := leaves(got); after > before {
			t.Fatalf("%d leaves became %d: %s", before, after, fntest.JSON(got))
		}
		seen := map[string]bool{}
		for _, fd := range got.Fields() {
			if seen[fd.Key] {
				t.Fatalf("duplicate key %q: %s", fd.Key, fntest.JSON(got))
			}
			seen[fd.Key] = true
		}
		// With "." and no prefix, flattening twice changes nothing more.
		if delim == "." && prefix == "" {
			again := fl.Run(got.Clone())
			if a, b := fntest.JSON(&again[0]), fntest.JSON(got); a != b {
				t.Fatalf("not idempotent:\n%s\n%s", b, a)
			}
		}
		// With depth beyond the parser's nesting limit nothing stays nested.
		flat := build(t, delim, jsonparse.MaxDepth+1, "").Run(ev.Clone())
		for _, fd := range flat[0].Fields() {
			if !event.IsInternal(fd.Key) && container(fd.Value) {
				t.Fatalf("%s still holds a container: %s", fd.Key, fntest.JSON(&flat[0]))
			}
		}
	})
}

func benchFlatten(b *testing.B, cfg, js string) {
	f := fntest.Build(b, Spec, cfg)
	src := fntest.Event(b, js)
	var ev event.Event
	b.ReportAllocs()
	for b.Loop() {
		ev = src
		f.Apply(&ev, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

const small = `{"message":"GET /api/v1/users 200","log":{"level":"info"},"host":{"name":"node-1"},"kubernetes":{"namespace":"prod","pod":{"name":"web-1"},"labels":{"app":"web"}}}`

func BenchmarkFlattenNothingNested(b *testing.B) { benchFlatten(b, "", small) }

func BenchmarkFlattenArray(b *testing.B) {
	benchFlatten(b, "", `{"message":"m","log":{"level":"info"},"ports":[80,443],"items":[{"name":"a"},{"name":"b"}]}`)
}

func BenchmarkFlattenUnderscore(b *testing.B) { benchFlatten(b, "delimiter: _", small) }
