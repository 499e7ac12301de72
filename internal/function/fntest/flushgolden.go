package fntest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// FlushGolden is a golden test file for a function that emits events on
// flushes (a component.Flusher: aggregate, metrics): a config, steps
// applied in order, and the events expected from them.
type FlushGolden struct {
	// Description says what the file checks; -update keeps it.
	Description string `yaml:"description"`
	// Config is the function's YAML config (without type).
	Config string `yaml:"config"`
	// Start is the function's clock when it is built, for functions whose
	// test sets it (zero otherwise).
	Start time.Time `yaml:"start,omitempty"`
	Steps []struct {
		// At is the time of the step's flush, and the function's clock
		// during the step for functions whose test sets it.
		At time.Time `yaml:"at,omitempty"`
		// Input holds events, one JSON object per line.
		Input string `yaml:"input,omitempty"`
		// Flush is "tick" for a flush at At, "final" for the final flush.
		Flush string `yaml:"flush,omitempty"`
	} `yaml:"steps"`
	// Output holds every event that comes out, one JSON object per line:
	// the inputs that go on and the events emitted, in order.
	Output string `yaml:"output"`
	// Failures is the number of failures the function must count.
	Failures int64 `yaml:"failures"`
}

// Flushing is a function under test by RunFlushGolden.
type Flushing struct {
	component.Function
	component.Flusher
	// Failures counts the function's failures.
	Failures *Counter
	// SetClock, when not nil, sets the function's clock to the time of
	// each step before its input.
	SetClock func(time.Time)
}

// RunFlushGolden runs every testdata/*.yaml FlushGolden file of the calling
// package, one subtest per file: build makes the function from the file's
// config and start. With -update it rewrites output and failures from what
// the function does; review the diff before committing.
func RunFlushGolden(t *testing.T, build func(t *testing.T, config string, start time.Time) Flushing) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g FlushGolden
			if err := yaml.Unmarshal(data, &g); err != nil {
				t.Fatal(err)
			}
			f := build(t, g.Config, g.Start)
			var got []string
			for _, s := range g.Steps {
				if f.SetClock != nil {
					f.SetClock(s.At)
				}
				for _, line := range strings.Split(s.Input, "\n") {
					if strings.TrimSpace(line) == "" {
						continue
					}
					ev := Event(t, line)
					if f.Apply(&ev, nil) {
						got = append(got, JSON(&ev))
					}
				}
				if s.Flush != "" {
					f.Flush(s.At, s.Flush == "final", func(ev event.Event) { got = append(got, JSON(&ev)) })
				}
			}
			gotText := strings.Join(got, "\n") + "\n"
			if *update {
				g.Output, g.Failures = gotText, f.Failures.Value()
				out, err := yaml.Marshal(&g)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if gotText != g.Output {
				t.Errorf("output differs\n got:\n%s\nwant:\n%s", gotText, g.Output)
			}
			if f.Failures.Value() != g.Failures {
				t.Errorf("%d failures, want %d", f.Failures.Value(), g.Failures)
			}
		})
	}
}
