package rename

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestRename(t *testing.T) {
	cfg := &Config{Fields: map[string]string{"msg": "message", "k8s": "kubernetes", "absent": "x"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fn, _ := Spec.Build(cfg, component.Env{})
	ev := event.Event{Time: time.Now()}
	ev.Set("msg", "hello")
	ev.Set("k8s", map[string]any{"pod": map[string]any{"name": "p"}})
	fn.Apply(&ev, nil)
	if ev.Message() != "hello" || ev.Has("msg") || ev.Has("x") {
		t.Errorf("fields: %v", ev.Fields())
	}
	if v, _ := ev.Get("kubernetes.pod.name"); v != "p" {
		t.Errorf("object rename: %v", ev.Fields())
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Error("empty config accepted")
	}
}

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestValidateKeys checks that config errors name the key they are about.
func TestValidateKeys(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: {a: \"\"}", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}
