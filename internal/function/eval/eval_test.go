package eval

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestEval(t *testing.T) {
	cfg := &Config{
		Fields: []Field{{Name: "slow", Value: "duration_ms > 500"}, {Name: "svc", Value: `app ?? "unknown"`}, {Name: "double", Value: "duration_ms * 2"}, {Name: "bad", Value: "missing * 2"}},
		Remove: []string{"debug"},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fn, err := Spec.Build(cfg, component.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := event.New(time.Now(), "m")
	ev.Set("duration_ms", 750)
	ev.Set("debug", map[string]any{"x": 1})
	if !fn.Apply(&ev, nil) {
		t.Fatal("eval dropped the event")
	}
	for k, want := range map[string]any{"slow": true, "svc": "unknown", "double": int64(1500)} {
		got, _ := ev.Get(k)
		if got != want && !(k == "double" && got == 1500) {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	if ev.Has("debug.x") || ev.Has("bad") {
		t.Errorf("remove or failed evaluation: %v", ev.Fields())
	}
}

func TestEvalValidate(t *testing.T) {
	for _, c := range []*Config{{}, {Fields: []Field{{Value: "1"}}}, {Fields: []Field{{Name: "x", Value: "1 +"}}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want error", c)
		}
	}
}

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestValidateKeys checks that config errors name the key they are about.
func TestValidateKeys(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: [{value: \"1\"}]", "fields"},
		{"fields: [{name: x, value: \"1 +\"}]", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}
