package addtags

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "tags"},
		{"tags: []", "tags"},
		{"tags: ['']", "tags"},
		{"tags: ['%{']", "tags"},
		{"remove: ['%{x']", "remove"},
		{"tags: [a]\nremove: ['']", "remove"},
	} {
		_, err := fntest.TryBuild(Spec, c.yaml)
		var fe *component.FieldError
		if !errors.As(err, &fe) || fe.Field != c.key {
			t.Errorf("%q: got %v, want an error about %s", c.yaml, err, c.key)
		}
	}
}

// TestRemoveDoesNotTouchClone checks that removing a tag leaves a clone's
// shared tags array alone.
func TestRemoveDoesNotTouchClone(t *testing.T) {
	f := fntest.Build(t, Spec, "remove: [a]")
	ev := fntest.Event(t, `{"tags":["a","b"]}`)
	clone := ev.Clone()
	f.Run(ev)
	if got := fntest.JSON(&clone); !strings.Contains(got, `["a","b"]`) {
		t.Errorf("clone changed: %s", got)
	}
}

func BenchmarkAddTags(b *testing.B) {
	f := fntest.Build(b, Spec, "tags: [kubernetes, 'ns-%{kubernetes.namespace}']")
	src := fntest.Event(b, `{"message":"m","kubernetes":{"namespace":"prod"}}`)
	var ev event.Event
	b.ReportAllocs()
	for b.Loop() {
		ev = src.Clone()
		f.Apply(&ev, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
