package casefn

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/function/fntest"
)

var spec = NewSpec("lowercase", "doc", "- type: lowercase\n  fields: [a]", strings.ToLower)

func TestValidate(t *testing.T) {
	for _, y := range []string{"", "fields: []", "fields: [a, '']"} {
		fntest.ExpectConfigError(t, spec, y, "fields", "")
	}
}

// TestSharedArrayNotModified checks that converting an array does not write
// into an array a clone of the event shares.
func TestSharedArrayNotModified(t *testing.T) {
	f := fntest.Build(t, spec, "fields: [tags]")
	ev := fntest.Event(t, `{"tags":["A","B"]}`)
	clone := ev.Clone()
	out := f.Run(ev)
	if got := fntest.JSON(&out[0]); !strings.Contains(got, `["a","b"]`) {
		t.Errorf("converted: %s", got)
	}
	if got := fntest.JSON(&clone); !strings.Contains(got, `["A","B"]`) {
		t.Errorf("clone changed: %s", got)
	}
}

func BenchmarkLowercase(b *testing.B) {
	f := fntest.Build(b, spec, "fields: [log.level, http.method]")
	for _, bc := range []struct{ name, js string }{
		{"already", `{"message":"m","log":{"level":"info"},"http":{"method":"get"}}`},
		{"convert", `{"message":"m","log":{"level":"INFO"},"http":{"method":"GET"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			src := fntest.Event(b, bc.js)
			fntest.Bench(b, f, src)
		})
	}
}
