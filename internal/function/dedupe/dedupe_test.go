package dedupe

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
	"github.com/sluicehq/sluice/internal/function/suppress"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestDefaults(t *testing.T) {
	c := Spec.NewConfig().(*suppress.Config)
	if c.Key != "%{message}" || c.Allow != 1 || c.Window.D() != 10*time.Second || c.Clock != suppress.ClockEvent || !c.Drop {
		t.Errorf("defaults %+v", c)
	}
	// Built with no options at all, it dedupes messages.
	f := fntest.Build(t, Spec, "")
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, s := range []struct {
		sec  int
		msg  string
		pass bool
	}{{0, "x", true}, {1, "y", true}, {9, "x", false}, {10, "x", true}, {10, "y", false}, {11, "y", true}, {20, "y", false}} {
		ev := event.New(base.Add(time.Duration(s.sec)*time.Second), s.msg)
		if got := len(f.Run(ev)) == 1; got != s.pass {
			t.Errorf("step %d (%q at %ds): pass=%v, want %v", i, s.msg, s.sec, got, s.pass)
		}
	}
}

func TestValidation(t *testing.T) {
	if _, err := fntest.TryBuild(Spec, "key: ''"); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := fntest.TryBuild(Spec, "window: 0s"); err == nil {
		t.Error("zero window accepted")
	}
}
