package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/plugins"
)

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234, stime 567.
	line := "4242 (sluice (worker) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 20 0 12 0 100 200000000 5000 18446744073709551615\n"
	u, s, err := parseProcStat([]byte(line))
	if err != nil || u != 1234 || s != 567 {
		t.Fatalf("got %d %d %v", u, s, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 5 6"} {
		if _, _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
	// The harness's own process must parse.
	if _, err := cpuSeconds(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestParseProcStatus(t *testing.T) {
	data := "Name:\tsluice\nVmPeak:\t  900000 kB\nVmHWM:\t   52000 kB\nVmRSS:\t   31000 kB\nThreads:\t9\n"
	m, err := parseProcStatus([]byte(data))
	if err != nil || m.HWM != 52000*1024 || m.RSS != 31000*1024 {
		t.Fatalf("got %+v %v", m, err)
	}
	if _, err := parseProcStatus([]byte("Name:\tzombie\nState:\tZ\n")); err == nil {
		t.Error("no error without Vm lines")
	}
	if _, err := parseProcStatus([]byte("VmRSS:\t12 MB\nVmHWM:\t1 kB\n")); err == nil {
		t.Error("no error for a unit that is not kB")
	}
	m, err = readMemStatus(os.Getpid())
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS {
		t.Fatalf("own status %+v %v", m, err)
	}
}

const metricsText = `# HELP sluice_destination_events_out_total Events delivered by a destination.
# TYPE sluice_destination_events_out_total counter
sluice_destination_events_out_total{destination="out"} 1.234567e+06
sluice_destination_events_out_total{destination="outer"} 7
sluice_destination_events_out_total{destination="x",extra="a\"}b"} 3
sluice_destination_events_out_totalx{destination="out"} 99
sluice_source_events_in_total{source="in"} 42 1712345678000
go_goroutines 12
`

func TestPromValue(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
		found  bool
	}{
		{"sluice_destination_events_out_total", map[string]string{"destination": "out"}, 1234567, true},
		{"sluice_destination_events_out_total", map[string]string{"destination": "x"}, 3, true},
		{"sluice_destination_events_out_total", nil, 1234567 + 7 + 3, true},
		{"sluice_source_events_in_total", map[string]string{"source": "in"}, 42, true},
		{"go_goroutines", nil, 12, true},
		{"sluice_destination_events_out_total", map[string]string{"destination": "nope"}, 0, false},
	} {
		v, found, err := promValue([]byte(metricsText), c.name, c.labels)
		if err != nil || v != c.want || found != c.found {
			t.Errorf("%s %v: got %v %v %v, want %v %v", c.name, c.labels, v, found, err, c.want, c.found)
		}
	}
	for _, bad := range []string{"m{a=\"x\" 1", "m{a=x} 1", "m{a=\"x\"}", "m notanumber"} {
		if _, _, err := promValue([]byte(bad), "m", nil); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestDeliveryWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int, v float64) sample { return sample{t: t0.Add(time.Duration(ms) * time.Millisecond), v: v} }
	// Baseline 10; delivery from 100ms to 1100ms, at 1000/s after the first
	// scrape that saw it; then flat.
	samples := []sample{at(0, 10), at(100, 60), at(600, 560), at(1100, 1060), at(1600, 1060), at(2100, 1060)}
	w, err := deliveryWindow(samples, 10)
	if err != nil {
		t.Fatal(err)
	}
	if w.Delivered != 1050 || w.Seconds != 1 || w.Rate != 1000 {
		t.Fatalf("got %+v", w)
	}
	// Everything within one scrape: the window reaches back to the baseline.
	w, err = deliveryWindow([]sample{at(0, 0), at(100, 0), at(200, 50), at(300, 50)}, 0)
	if err != nil || w.Delivered != 50 || w.Seconds != 0.1 || math.Abs(w.Rate-500) > 1e-9 {
		t.Fatalf("got %+v %v", w, err)
	}
	if _, err := deliveryWindow([]sample{at(0, 5), at(100, 5)}, 5); err == nil {
		t.Error("no error when nothing was delivered")
	}
}

func TestWatchCounter(t *testing.T) {
	wt := watchTiming{interval: time.Millisecond, quiet: 30 * time.Millisecond, maxDrain: time.Second}
	var v float64
	loadDone := make(chan struct{})
	value := func() (float64, error) {
		if v < 50 {
			v++
		} else {
			select {
			case <-loadDone:
			default:
				close(loadDone)
			}
		}
		return v, nil
	}
	samples, err := watchCounter(context.Background(), wt, value, loadDone)
	if err != nil || len(samples) < 50 || samples[len(samples)-1].v != 50 {
		t.Fatalf("%d samples, err %v", len(samples), err)
	}

	// A counter that keeps growing is given up on after maxDrain.
	wt.maxDrain = 50 * time.Millisecond
	closed := make(chan struct{})
	close(closed)
	v = 0
	grow := func() (float64, error) { v++; return v, nil }
	if _, err := watchCounter(context.Background(), wt, grow, closed); err == nil {
		t.Error("no error for a counter that never stops")
	}

	// Scrape failures are tolerated for a while, then reported.
	failing := func() (float64, error) { return 0, errors.New("refused") }
	if _, err := watchCounter(context.Background(), wt, failing, closed); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("got %v", err)
	}
}

func TestMedian(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{nan, 7, 1}, 4},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(median([]float64{nan})) || !math.IsNaN(median(nil)) {
		t.Error("median of nothing must be NaN")
	}
	m := medianResult([]result{
		{Scenario: "s", EventsPerSec: 100, MBPerSec: 1, CPUSeconds: 3, CPUPerMEvents: nan, PeakRSSMB: 50, IdleRSSMB: 20},
		{Scenario: "s", EventsPerSec: 300, MBPerSec: 3, CPUSeconds: 1, CPUPerMEvents: nan, PeakRSSMB: 70, IdleRSSMB: 21},
		{Scenario: "s", EventsPerSec: 200, MBPerSec: 2, CPUSeconds: 2, CPUPerMEvents: nan, PeakRSSMB: 60, IdleRSSMB: 22},
	})
	if m.EventsPerSec != 200 || m.MBPerSec != 2 || m.CPUSeconds != 2 || !math.IsNaN(m.CPUPerMEvents) || m.PeakRSSMB != 60 || m.IdleRSSMB != 21 {
		t.Fatalf("got %+v", m)
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	rows := []result{
		{Scenario: "tcp_raw_blackhole", EventsPerSec: 512345.6, MBPerSec: 77.44, CPUSeconds: 18.256, CPUPerMEvents: 3.5512, PeakRSSMB: 180.24, IdleRSSMB: 25.06},
		{Scenario: "idle", EventsPerSec: math.NaN(), MBPerSec: math.NaN(), CPUSeconds: 0.12, CPUPerMEvents: math.NaN(), PeakRSSMB: 30, IdleRSSMB: 29.5},
	}
	if err := writeTable(&b, rows, []string{"http_ndjson_file"}); err != nil {
		t.Fatal(err)
	}
	want := `| scenario | events/s | MB/s | CPU s | CPU s per M events | peak RSS MB | idle RSS MB |
|---|---:|---:|---:|---:|---:|---:|
| tcp_raw_blackhole | 512346 | 77.4 | 18.26 | 3.55 | 180.2 | 25.1 |
| idle | - | - | 0.12 | - | 30.0 | 29.5 |
| http_ndjson_file | failed | failed | failed | failed | failed | failed |
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestScenarioConfigs(t *testing.T) {
	for _, sc := range scenarios {
		var cfg struct {
			Sources      map[string]map[string]any
			Routes       []map[string]any
			Destinations map[string]map[string]any
		}
		if err := yaml.Unmarshal([]byte(sc.config(5555)), &cfg); err != nil {
			t.Fatalf("%s: invalid YAML: %v\n%s", sc.name, err, sc.config(5555))
		}
		if cfg.Sources["in"]["address"] != "127.0.0.1:5555" || cfg.Routes[0]["destination"] != "out" || cfg.Destinations["out"]["type"] == nil {
			t.Errorf("%s: config %+v", sc.name, cfg)
		}
		// The config must also load, with the files it names.
		dir := t.TempDir()
		for name, content := range sc.files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Chdir(dir)
		if _, err := config.Parse([]byte(sc.config(5555)), sc.name+".yaml", plugins.Registry(), config.Options{}); err != nil {
			t.Errorf("%s: config does not load: %v", sc.name, err)
		}
		if sc.load != nil && !strings.Contains(strings.Join(sc.load(5555), " "), "127.0.0.1:5555") {
			t.Errorf("%s: load does not target the source: %v", sc.name, sc.load(5555))
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-scenarios", "idle, tcp_raw_blackhole", "-duration", "3s", "-runs", "3"}, io.Discard)
	if err != nil || len(o.scenarios) != 2 || o.scenarios[0].name != "idle" || o.duration != 3*time.Second || o.runs != 3 {
		t.Fatalf("got %+v %v", o, err)
	}
	o, err = parseOptions(nil, io.Discard)
	if err != nil || len(o.scenarios) != len(scenarios) || o.runs != 1 || o.duration != 10*time.Second {
		t.Fatalf("defaults %+v %v", o, err)
	}
	for _, bad := range [][]string{{"-scenarios", "nope"}, {"-runs", "0"}, {"-duration", "0s"}, {"-scenarios", ","}, {"x"}} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestWorkerStopAndReap runs fake workers (shell scripts) to check that stop
// always leaves no process: one that exits on SIGTERM, and one that ignores
// it and has a child, so that the process group must be killed.
func TestWorkerStopAndReap(t *testing.T) {
	for name, script := range map[string]string{
		"term":   "#!/bin/sh\nexec sleep 60\n",
		"ignore": "#!/bin/sh\ntrap '' TERM\nsleep 60 &\necho $! > child.pid\nwait\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "fake-sluice")
			if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			p, err := startWorker(bin, dir, "cfg", "data", "127.0.0.1:1")
			if err != nil {
				t.Fatal(err)
			}
			p.grace = 200 * time.Millisecond
			time.Sleep(100 * time.Millisecond)
			if !p.alive() {
				t.Fatalf("fake worker exited early: %s", p.logTail())
			}
			start := time.Now()
			p.stop()
			if p.alive() || time.Since(start) > 5*time.Second {
				t.Fatalf("not stopped and reaped after %v", time.Since(start))
			}
			if err := syscall.Kill(p.pid(), 0); !errors.Is(err, syscall.ESRCH) {
				t.Fatalf("pid %d still exists: %v", p.pid(), err)
			}
			if data, err := os.ReadFile(filepath.Join(dir, "child.pid")); err == nil {
				var child int
				for _, c := range strings.TrimSpace(string(data)) {
					child = child*10 + int(c-'0')
				}
				// The orphaned child is reaped by init; give it a moment.
				deadline := time.Now().Add(2 * time.Second)
				for syscall.Kill(child, 0) == nil && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if err := syscall.Kill(child, 0); !errors.Is(err, syscall.ESRCH) {
					t.Fatalf("child %d of the worker survived: %v", child, err)
				}
			}
			// A second stop is harmless.
			p.stop()
		})
	}
}

func TestWaitHealthyReportsExit(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fake-sluice")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'config error: line 3: unknown source type' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startWorker(bin, dir, "cfg", "data", "127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	err = p.waitHealthy(context.Background(), "127.0.0.1:1", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "unknown source type") {
		t.Fatalf("got %v", err)
	}
}

func TestFreePorts(t *testing.T) {
	ports, err := freePorts(3)
	if err != nil || len(ports) != 3 || ports[0] == ports[1] || ports[1] == ports[2] || ports[0] == ports[2] {
		t.Fatalf("got %v %v", ports, err)
	}
}
