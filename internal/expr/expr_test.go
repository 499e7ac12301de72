package expr

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

func testEvent() *event.Event {
	ev := event.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "ERROR disk full on /dev/sda1")
	ev.Set("kubernetes", map[string]any{"labels": map[string]any{"app": "webapp"}, "pod": map[string]any{"name": "web-1"}})
	ev.Set("status", int64(503))
	ev.Set("method", "POST")
	ev.Set("tags", []any{"throttled", "x"})
	ev.Set("user.id", "u1")
	return &ev
}

func TestMatch(t *testing.T) {
	ev := testEvent()
	cases := []struct {
		src  string
		want bool
	}{
		{`kubernetes.labels.app in ["webapp"]`, true},
		{`kubernetes.labels.app in ["other"]`, false},
		{`"throttled" in tags`, true},
		{`"nope" in tags`, false},
		{`status >= 500 && method == "POST"`, true},
		{`status >= 500 && method == "GET"`, false},
		{`status < 500 || method == "POST"`, true},
		{`message matches "^ERROR"`, true},
		{`message matches "^WARN"`, false},
		{`exists(user.id)`, true},
		{`exists(user.name)`, false},
		{`exists(kubernetes.labels)`, true},
		{`exists("@timestamp")`, true},
		{`!exists(missing.field)`, true},
		{`missing.field == nil`, true},
		{`__source == "syslog"`, true},
		{`message contains "disk"`, true},
		{`kubernetes.pod.name startsWith "web-"`, true},
		{`field("@timestamp") != nil`, true},
		{`len(tags) == 2`, true},
		{`any(tags, # == "x")`, true},
		{`let s = status; s > 100`, true},
		{`lower(method) == "post"`, true},
		{`status > "abc"`, false}, // type error at run time: no match
		{`missing > 5`, false},
	}
	for _, c := range cases {
		p, err := Compile(c.src)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		got, _ := p.Match(ev, "syslog")
		if got != c.want {
			t.Errorf("%q: got %v, want %v", c.src, got, c.want)
		}
	}
}

func TestEval(t *testing.T) {
	ev := testEvent()
	p, err := Compile(`status * 2`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Eval(ev, "")
	if err != nil {
		t.Fatal(err)
	}
	if out != int64(1006) && out != 1006 {
		t.Fatalf("got %v (%T)", out, out)
	}
	p, _ = Compile(`kubernetes.labels`)
	out, _ = p.Eval(ev, "")
	m, ok := out.(map[string]any)
	if !ok || m["app"] != "webapp" {
		t.Fatalf("object: %#v", out)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`status >=`, "column"},
		{`exists()`, "exists takes one field"},
		{`exists(1)`, "exists takes a field name"},
		{`field(x)`, "field takes a constant name"},
		{`"a" in`, "unexpected"},
		{`foo(`, "column"},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) = %v, want error containing %q", c.src, err, c.want)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	ev := testEvent()
	for _, src := range []string{`kubernetes.labels.app in ["webapp"]`, `status >= 500 && method == "POST"`, `"throttled" in tags`, `message matches "^ERROR"`} {
		p, err := Compile(src)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(src, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if ok, _ := p.Match(ev, ""); !ok {
					b.Fatal("no match")
				}
			}
		})
	}
}

// TestTagFastPath checks that `"x" in tags`, answered without the VM, gives
// the VM's answers.
func TestTagFastPath(t *testing.T) {
	fast, err := Compile(`"throttled" in tags`)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := Compile(`("throttled" in tags) == true`)
	if err != nil {
		t.Fatal(err)
	}
	if !fast.hasTag || slow.hasTag {
		t.Fatal("fast path not chosen as expected")
	}
	cases := []func(*event.Event){
		func(*event.Event) {},
		func(e *event.Event) { e.AddTag("throttled") },
		func(e *event.Event) { e.AddTag("other") },
		func(e *event.Event) { e.AddTag("other"); e.AddTag("throttled") },
		func(e *event.Event) { e.Set("tags", "throttled") },
		func(e *event.Event) { e.Set("tags", 42) },
		func(e *event.Event) { e.Set("tags", []any{1, "throttled"}) },
	}
	for i, setup := range cases {
		ev := event.New(time.Now(), "m")
		setup(&ev)
		got, _ := fast.Match(&ev, "")
		want, _ := slow.Match(&ev, "")
		if got != want {
			t.Errorf("case %d: fast path says %v, the VM %v", i, got, want)
		}
	}
}
