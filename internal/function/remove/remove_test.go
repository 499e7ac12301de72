package remove

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestRemove(t *testing.T) {
	cfg := &Config{Fields: []string{"kubernetes.annotations", "temp_*"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fn, _ := Spec.Build(cfg, component.Env{})
	ev := event.New(time.Now(), "m")
	ev.Set("kubernetes", map[string]any{"annotations": map[string]any{"a": "1"}, "pod": "p"})
	ev.Set("temp_a", 1)
	ev.Set("temp_b.c", 2)
	ev.Set("keep", 3)
	fn.Apply(&ev, nil)
	if ev.Has("kubernetes.annotations") || ev.Has("temp_a") || ev.Has("temp_b") || !ev.Has("keep") || !ev.Has("kubernetes.pod") {
		t.Errorf("fields: %v", ev.SortedKeys())
	}
	for _, bad := range [][]string{nil, {"*"}, {""}} {
		if err := (&Config{Fields: bad}).Validate(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestValidateKeys checks that config errors name the key they are about.
func TestValidateKeys(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: [\"*\"]", "fields"},
		{"fields: [\"\"]", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}
