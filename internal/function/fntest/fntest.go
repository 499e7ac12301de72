// Package fntest helps test pipeline functions: build one from YAML as the
// config loader would, apply it to events, and compare with golden files;
// check config errors, run a function in a real topology (StartRuntime),
// benchmark it, and compare it with the loghub samples' ground truth.
package fntest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

var update = flag.Bool("update", false, "rewrite the expected output of golden files")

// Counter is a component.Counter for tests.
type Counter struct{ n atomic.Int64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Value returns the count.
func (c *Counter) Value() int64 { return c.n.Load() }

// Func is a built function with its failure counter.
type Func struct {
	component.Function
	Failures *Counter
}

// Build decodes yamlConfig (the function's own keys, without type) into the
// spec's default config, validates it and builds the function. It fails the
// test on any error.
func Build(t testing.TB, spec component.FunctionSpec, yamlConfig string) *Func {
	t.Helper()
	f, err := TryBuild(spec, yamlConfig)
	if err != nil {
		t.Fatalf("%s: %v", spec.Type, err)
	}
	if c, ok := f.Function.(component.Closer); ok {
		t.Cleanup(func() { _ = c.Close() })
	}
	return f
}

// TryBuild is Build returning the error (from decoding, Validate or Build)
// instead of failing the test.
func TryBuild(spec component.FunctionSpec, yamlConfig string) (*Func, error) {
	cfg, err := DecodeConfig(spec, yamlConfig)
	if err != nil {
		return nil, err
	}
	c := &Counter{}
	fn, err := spec.Build(cfg, component.Env{Name: "test[0]", Logger: discardLogger(), Failures: c})
	if err != nil {
		return nil, err
	}
	return &Func{Function: fn, Failures: c}, nil
}

// DecodeConfig decodes yamlConfig (the function's own keys, without type)
// into the spec's default config, rejecting unknown keys, and validates
// it, as the config loader does. Tests that build a function themselves
// (to set its clock, say) start from it.
func DecodeConfig(spec component.FunctionSpec, yamlConfig string) (any, error) {
	cfg := spec.NewConfig()
	if strings.TrimSpace(yamlConfig) != "" {
		dec := yaml.NewDecoder(strings.NewReader(yamlConfig))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil {
			return nil, err
		}
	}
	if v, ok := cfg.(component.Validator); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// ExpectConfigError checks that yamlConfig does not build for spec, with a
// component.FieldError about key whose text contains msg ("" for any).
func ExpectConfigError(t testing.TB, spec component.FunctionSpec, yamlConfig, key, msg string) {
	t.Helper()
	_, err := TryBuild(spec, yamlConfig)
	var fe *component.FieldError
	if !errors.As(err, &fe) || fe.Field != key || !strings.Contains(err.Error(), msg) {
		if msg == "" {
			t.Errorf("%q: got %v, want an error about %s", yamlConfig, err, key)
		} else {
			t.Errorf("%q: got %v, want an error about %s saying %q", yamlConfig, err, key, msg)
		}
	}
}

// Run applies f to ev and returns the events that come out: ev first
// (unless dropped), then any it emitted.
func (f *Func) Run(ev event.Event) []event.Event {
	var out []event.Event
	var extra []event.Event
	if f.Apply(&ev, func(e event.Event) { extra = append(extra, e) }) {
		out = append(out, ev)
	}
	return append(out, extra...)
}

// eventTime is the time of the events made here unless they say otherwise,
// so that output is stable.
var eventTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Event parses one JSON object into an event, as the HTTP source does: an
// RFC 3339 "@timestamp" becomes the event's time; without one the time is
// 2026-01-02T03:04:05Z so golden output is stable.
func Event(t testing.TB, js string) event.Event {
	t.Helper()
	ev := event.NewSized(eventTime, 8)
	if err := jsonparse.ParseObject(&ev, []byte(js)); err != nil {
		t.Fatalf("test event %s: %v", js, err)
	}
	return ev
}

// JSON renders ev as the NDJSON destinations write (nested, sorted keys,
// internal fields included).
func JSON(ev *event.Event) string { return string(event.AppendJSON(nil, ev, true)) }

// Golden is one golden test file: a function config, input events and the
// output expected from them.
type Golden struct {
	// Config is the function's YAML config (without type).
	Config string `yaml:"config"`
	// Input holds one JSON object per line.
	Input string `yaml:"input"`
	// Output holds the resulting events, one JSON object per line, in the
	// order they come out.
	Output string `yaml:"output"`
	// Failures is the number of failures the function must count.
	Failures int64 `yaml:"failures"`
}

// RunGolden runs every testdata/*.yaml golden file of the calling package
// through spec, one subtest per file. With -update it rewrites output and
// failures from what the function does; review the diff before committing.
func RunGolden(t *testing.T, spec component.FunctionSpec) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files in testdata/*.yaml")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g Golden
			if err := yaml.Unmarshal(data, &g); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			f := Build(t, spec, g.Config)
			var got []string
			for _, line := range strings.Split(g.Input, "\n") {
				if strings.TrimSpace(line) == "" {
					continue
				}
				for _, ev := range f.Run(Event(t, line)) {
					got = append(got, JSON(&ev))
				}
			}
			if *update {
				g.Output = strings.Join(got, "\n") + "\n"
				g.Failures = f.Failures.Value()
				var buf bytes.Buffer
				enc := yaml.NewEncoder(&buf)
				enc.SetIndent(2)
				if err := enc.Encode(&g); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want []string
			for _, line := range strings.Split(g.Output, "\n") {
				if strings.TrimSpace(line) != "" {
					want = append(want, normalize(t, line))
				}
			}
			for i := range got {
				got[i] = normalize(t, got[i])
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: output differs\n got:\n%s\nwant:\n%s", file, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if f.Failures.Value() != g.Failures {
				t.Errorf("%s: %d failures, want %d", file, f.Failures.Value(), g.Failures)
			}
		})
	}
}

// normalize re-encodes a JSON object with sorted keys, so that golden files
// may be written by hand in any key order.
func normalize(t *testing.T, s string) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("golden line %s: %v", s, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// ReadLines returns the lines of a file (testdata/..., say), without the
// final newline.
func ReadLines(tb testing.TB, path string) []string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
