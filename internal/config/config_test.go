package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/component"
)

type fakeSrc struct {
	Address   string   `yaml:"address"`
	Protocols []string `yaml:"protocols"`
	Limits    struct {
		MaxConns int `yaml:"max_connections"`
	} `yaml:"limits"`
	Timeout Duration `yaml:"timeout"`
}

func (f *fakeSrc) Validate() error {
	if f.Address == "" {
		return component.Errorf("address", "is required")
	}
	return nil
}

func (f *fakeSrc) Addresses() []component.Address {
	var out []component.Address
	for _, p := range f.Protocols {
		out = append(out, component.Address{Network: p, Address: f.Address})
	}
	return out
}

type fakeDest struct {
	Path string `yaml:"path"`
}

type fakeFn struct {
	Field string `yaml:"field"`
}

func testRegistry() *component.Registry {
	r := component.NewRegistry()
	r.AddSource(component.SourceSpec{Type: "syslog", NewConfig: func() any { return &fakeSrc{Protocols: []string{"tcp", "udp"}} }})
	r.AddSource(component.SourceSpec{Type: "http", NewConfig: func() any { return &fakeSrc{Protocols: []string{"tcp"}} }})
	r.AddDestination(component.DestinationSpec{Type: "file", NewConfig: func() any { return &fakeDest{} }})
	r.AddDestination(component.DestinationSpec{Type: "stdout", NewConfig: func() any { return &fakeDest{} }})
	r.AddFunction(component.FunctionSpec{Type: "eval", NewConfig: func() any { return &fakeFn{} }})
	r.AddFunction(component.FunctionSpec{Type: "drop", NewConfig: func() any { return &fakeFn{} }})
	return r
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestFixtures loads every testdata/*.yaml. A file whose first lines are
// "# error: TEXT" comments must fail with each TEXT in the messages; other
// files must load.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if s, ok := strings.CutPrefix(line, "# error: "); ok {
					want = append(want, s)
				}
			}
			_, err = Parse(data, filepath.Base(f), testRegistry(), Options{
				LookupEnv: env(map[string]string{"PORT": "6000", "TOKEN": "s3cret"}),
				Reserved:  []component.Address{{Network: "tcp", Address: ":9000"}},
			})
			if len(want) == 0 {
				if err != nil {
					t.Fatalf("want OK, got:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want errors %q, got none", want)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing error %q in:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestDefaultsAndInterpolation(t *testing.T) {
	src := `
sources:
  in: {type: syslog, address: ":${PORT}", timeout: 90s}
routes:
  - {name: a, filter: 'app == "x"', destination: out, final: false}
  - {destination: out}
destinations:
  out:
    type: file
    path: "${DIR:-/tmp/x}/%{app}.log"
    queue: {max_events: 10}
`
	cfg, err := Parse([]byte(src), "t.yaml", testRegistry(), Options{LookupEnv: env(map[string]string{"PORT": "6000"})})
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sources[0].Config.(*fakeSrc)
	if s.Address != ":6000" || s.Timeout.D().Seconds() != 90 {
		t.Errorf("source config: %+v", s)
	}
	d := cfg.Destinations[0]
	if d.Config.(*fakeDest).Path != "/tmp/x/%{app}.log" {
		t.Errorf("path: %q", d.Config.(*fakeDest).Path)
	}
	if d.Queue.MaxEvents != 10 || d.Queue.WhenFull != "block" || d.Queue.Type != "memory" || d.Queue.MaxBytes == 0 {
		t.Errorf("queue defaults: %+v", d.Queue)
	}
	if cfg.Routes[0].Final || !cfg.Routes[1].Final || cfg.Routes[1].Name != "route1" || cfg.Routes[0].Program == nil {
		t.Errorf("routes: %+v %+v", cfg.Routes[0], cfg.Routes[1])
	}
	if cfg.Shutdown.DrainTimeout.D().Seconds() != 25 {
		t.Errorf("drain timeout default: %v", cfg.Shutdown.DrainTimeout.D())
	}
}

func TestHashTracksChanges(t *testing.T) {
	load := func(addr string) *Config {
		cfg, err := Parse([]byte("sources: {in: {type: syslog, address: \""+addr+"\"}}\nroutes: [{destination: out}]\ndestinations: {out: {type: stdout}}\n"), "t", testRegistry(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	a, b, c := load(":1"), load(":1"), load(":2")
	if a.Sources[0].Hash != b.Sources[0].Hash || a.Destinations[0].Hash != b.Destinations[0].Hash {
		t.Error("same config, different hash")
	}
	if a.Sources[0].Hash == c.Sources[0].Hash {
		t.Error("changed config, same hash")
	}
}

func TestParseUnits(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "64KiB": 64 << 10, "10MB": 10_000_000, "1GiB": 1 << 30, "1.5K": 1536} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "12XB", "abc"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q): want error", bad)
		}
	}
	for in, want := range map[string]float64{"500ms": 0.5, "60s": 60, "2h": 7200, "7d": 604800, "30": 30} {
		got, err := ParseDuration(in)
		if err != nil || got.Seconds() != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("ParseDuration(soon): want error")
	}
}

func TestCatchAllWarning(t *testing.T) {
	cfg, err := Parse([]byte("sources: {s: {type: syslog, address: x}}\nroutes: [{filter: 'a == 1', destination: o}]\ndestinations: {o: {type: stdout}}\n"), "t", testRegistry(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "no_route") {
		t.Fatalf("warnings: %v", cfg.Warnings)
	}
}

// FuzzParse feeds arbitrary documents to the loader: it must return a config
// or errors, never panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml", testRegistry(), Options{LookupEnv: env(nil)})
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
	})
}
