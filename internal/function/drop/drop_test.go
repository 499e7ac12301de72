package drop

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestDrop(t *testing.T) {
	all, _ := Spec.Build(&Config{Percentage: 100}, component.Env{})
	none, _ := Spec.Build(&Config{Percentage: 0}, component.Env{})
	half, _ := Spec.Build(&Config{Percentage: 50}, component.Env{})
	ev := event.New(time.Now(), "m")
	kept := 0
	for i := 0; i < 10000; i++ {
		if all.Apply(&ev, nil) {
			t.Fatal("100% kept an event")
		}
		if !none.Apply(&ev, nil) {
			t.Fatal("0% dropped an event")
		}
		if half.Apply(&ev, nil) {
			kept++
		}
	}
	if kept < 4500 || kept > 5500 {
		t.Errorf("50%% kept %d of 10000", kept)
	}
	if err := (&Config{Percentage: 101}).Validate(); err == nil {
		t.Error("101% accepted")
	}
}

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestValidateKeys checks that config errors name the key they are about.
func TestValidateKeys(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"percentage: 101", "percentage"},
		{"percentage: -1", "percentage"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}
