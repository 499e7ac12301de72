package keep

import (
	"testing"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: []", "fields"},
		{"fields: [a, '']", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}

func TestPattern(t *testing.T) {
	for _, c := range []struct {
		pat, key string
		want     bool
	}{
		{"http", "http", true},
		{"http", "http.method", true},
		{"http", "https", false},
		{"http", "htt", false},
		{"http.*", "http.request.method", true},
		{"http.*", "http", false},
		{"http.*", "httpx.a", false},
		{"*_id", "user_id", true},
		{"*_id", "a.user_id", true},
		{"*_id", "user_id.x", true},
		{"*_id", "user_ids", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*c", "a.x.b.y.c", true},
		{"a*b*c", "acb", false},
		{"k*.labels.*", "kubernetes.labels.app", true},
		{"k*.labels.*", "kubernetes.pod.name", false},
		{"*", "anything.at.all", true},
	} {
		p := newPattern(c.pat)
		if got := p.matches(c.key); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pat, c.key, got, c.want)
		}
	}
}

// TestNoChangeNoCopy checks that an event with nothing to remove keeps its
// field slice.
func TestNoChangeNoCopy(t *testing.T) {
	f := fntest.Build(t, Spec, "fields: [message, http]")
	ev := fntest.Event(t, `{"message":"m","http":{"method":"GET"}}`)
	before := &ev.Fields()[0]
	f.Apply(&ev, nil)
	if ev.Len() != 2 || &ev.Fields()[0] != before {
		t.Errorf("fields copied or changed: %s", fntest.JSON(&ev))
	}
}

func BenchmarkKeep(b *testing.B) {
	f := fntest.Build(b, Spec, "fields: [message, log.level, kubernetes.labels.*]")
	src := fntest.Event(b, `{"message":"GET /api/v1/users 200","log":{"level":"info","logger":"http"},"host":{"name":"node-1"},"kubernetes":{"namespace":"prod","pod":{"name":"web-1"},"labels":{"app":"web"}},"http":{"method":"GET","status":200}}`)
	var ev event.Event
	b.ReportAllocs()
	for b.Loop() {
		ev = src
		f.Apply(&ev, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
