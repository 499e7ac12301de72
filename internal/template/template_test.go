package template

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

func TestRender(t *testing.T) {
	ev := event.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), "m")
	ev.Set("kubernetes.namespace", "prod")
	ev.Set("status", 503)
	ev.Set("labels", map[string]any{"app": "web"})
	cases := []struct{ src, want string }{
		{"logs-%{kubernetes.namespace}", "logs-prod"},
		{"%{status}/%{missing}/x", "503//x"},
		{"%{+yyyy.MM.dd}-%{+HH}", "2026.03.04-05"},
		{"%{+dd/MMM/yyyy}|%{+EEE, d MMMM}", "04/Mar/2026|Wed, d March"},
		{"static", "static"},
		{"100%%{not}", "100%{not}"},
		{"%{ kubernetes.namespace }", "prod"},
		{"%{labels}", `{"app":"web"}`},
		{"%{@timestamp}", "2026-03-04T05:06:07Z"},
	}
	for _, c := range cases {
		tm, err := Parse(c.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.src, err)
		}
		if got := tm.Render(&ev); got != c.want {
			t.Errorf("%q: got %q, want %q", c.src, got, c.want)
		}
	}
	if !MustParse("a").IsStatic() || MustParse("%{a}").IsStatic() {
		t.Error("IsStatic")
	}
	if f := MustParse("%{a}-%{b.c}").Fields(); strings.Join(f, ",") != "a,b.c" {
		t.Errorf("Fields: %v", f)
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{"%{unclosed", "%{}", "a-%{ }"} {
		if _, err := Parse(src); err == nil {
			t.Errorf("Parse(%q): want error", src)
		}
	}
}

func FuzzTemplate(f *testing.F) {
	f.Add("logs-%{a.b}-%{+yyyy}")
	f.Add("%%{x}%{")
	f.Fuzz(func(t *testing.T, src string) {
		tm, err := Parse(src)
		if err != nil {
			return
		}
		ev := event.New(time.Unix(0, 0), "m")
		ev.Set("a.b", "x")
		_ = tm.Render(&ev)
	})
}

func BenchmarkRender(b *testing.B) {
	tm := MustParse("logs-%{kubernetes.namespace}-%{+yyyy.MM.dd}")
	ev := event.New(time.Now(), "m")
	ev.Set("kubernetes.namespace", "prod")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = tm.Append(buf[:0], &ev)
	}
}
