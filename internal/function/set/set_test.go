package set

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestSet(t *testing.T) {
	for _, overwrite := range []bool{true, false} {
		cfg := &Config{Fields: map[string]string{"env": "prod", "key": "%{ns}/%{pod}"}, Overwrite: overwrite}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		fn, _ := Spec.Build(cfg, component.Env{})
		ev := event.New(time.Now(), "m")
		ev.Set("ns", "a")
		ev.Set("pod", "b")
		ev.Set("env", "dev")
		fn.Apply(&ev, nil)
		key, _ := ev.Get("key")
		env, _ := ev.Get("env")
		wantEnv := "prod"
		if !overwrite {
			wantEnv = "dev"
		}
		if key != "a/b" || env != wantEnv {
			t.Errorf("overwrite=%v: key=%v env=%v", overwrite, key, env)
		}
	}
	if err := (&Config{Fields: map[string]string{"x": "%{"}}).Validate(); err == nil {
		t.Error("bad template accepted")
	}
}

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestValidateKeys checks that config errors name the key they are about.
func TestValidateKeys(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: {x: \"%{\"}", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}
