package addtags

import (
	"strings"
	"testing"

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
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
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
	fntest.Bench(b, f, src)
}
