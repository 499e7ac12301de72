// Command bench is Sluice's end-to-end benchmark: it builds the real
// binary, starts `sluice worker` with one config per scenario, loads it with
// `sluice gen` over real sockets, and prints a markdown table of what the
// worker delivered and what that cost in CPU and memory.
//
//	go run ./bench [-scenarios a,b] [-duration 10s] [-runs 3]
//
// See bench/README.md for the scenarios and the meaning of each column.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	scenarios []scenario
	duration  time.Duration
	runs      int
	rate      float64
	bin       string
	keep      bool
	watch     watchTiming
	// settle lets the worker finish starting before idle memory is read.
	settle time.Duration
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := options{watch: defaultWatch, settle: time.Second}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var names []string
	for _, s := range scenarios {
		names = append(names, s.name)
	}
	list := fs.String("scenarios", strings.Join(names, ","), "comma-separated scenarios to run")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "load duration per run")
	fs.IntVar(&o.runs, "runs", 1, "runs per scenario; the table shows the median of each column")
	fs.Float64Var(&o.rate, "rate", 0, "events/s that gen sends (0: as fast as the worker takes them)")
	fs.StringVar(&o.bin, "bin", "", "use this sluice binary instead of building ./cmd/sluice")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, logs, output files)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench [flags]\n\nScenarios:\n")
		for _, s := range scenarios {
			fmt.Fprintf(stderr, "  %-22s %s\n", s.name, s.doc)
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, name := range strings.Split(*list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		s, ok := findScenario(name)
		if !ok {
			return o, fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(names, ", "))
		}
		o.scenarios = append(o.scenarios, s)
	}
	if len(o.scenarios) == 0 {
		return o, errors.New("no scenario selected")
	}
	if o.duration <= 0 || o.runs < 1 || o.rate < 0 {
		return o, errors.New("-duration must be positive, -runs at least 1, -rate not negative")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "sluice-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if o.keep {
		fmt.Fprintf(stderr, "bench: keeping %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	bin := o.bin
	if bin == "" {
		if bin, err = build(ctx, tmp, stderr); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}

	var rows []result
	var failed []string
	for _, sc := range o.scenarios {
		var runs []result
		for i := 1; i <= o.runs && ctx.Err() == nil; i++ {
			r, err := runScenario(ctx, sc, bin, tmp, o, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "bench: %s run %d/%d failed: %v\n", sc.name, i, o.runs, err)
				continue
			}
			fmt.Fprintf(stderr, "bench: %s run %d/%d: %s events/s, %s MB/s, %s CPU s, peak RSS %s MB\n",
				sc.name, i, o.runs, formatNumber(r.EventsPerSec, 0), formatNumber(r.MBPerSec, 1),
				formatNumber(r.CPUSeconds, 2), formatNumber(r.PeakRSSMB, 1))
			runs = append(runs, r)
		}
		if ctx.Err() != nil {
			break
		}
		if len(runs) == 0 {
			failed = append(failed, sc.name)
			continue
		}
		rows = append(rows, medianResult(runs))
	}

	fmt.Fprintf(stdout, "sluice bench: %v load per run, %d run(s) per scenario%s, %d CPUs, %s/%s, gen rate %s\n\n",
		o.duration, o.runs, map[bool]string{true: " (medians)", false: ""}[o.runs > 1],
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, rateText(o.rate))
	if err := writeTable(stdout, rows, failed); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bench: interrupted; the table shows the scenarios that finished")
		return 1
	}
	if len(failed) > 0 {
		return 1
	}
	return 0
}

func rateText(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}

// build compiles ./cmd/sluice of the module the harness runs in.
func build(ctx context.Context, tmp string, stderr io.Writer) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tmp, "sluice")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sluice")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stderr, stderr
	fmt.Fprintf(stderr, "bench: building %s/cmd/sluice\n", root)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build ./cmd/sluice: %w", err)
	}
	return bin, nil
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

const (
	healthTimeout = 30 * time.Second
	// genSlack is how long gen may run past its duration before it is
	// interrupted.
	genSlack = 60 * time.Second
)

// runScenario measures one run of sc: start a worker, read its idle
// memory, load it, watch what it delivers, and stop it.
func runScenario(ctx context.Context, sc scenario, bin, tmp string, o options, stderr io.Writer) (result, error) {
	res := result{Scenario: sc.name, EventsPerSec: math.NaN(), MBPerSec: math.NaN(), CPUPerMEvents: math.NaN()}
	dir, err := os.MkdirTemp(tmp, sc.name+"-")
	if err != nil {
		return res, fmt.Errorf("make run directory: %w", err)
	}
	if !o.keep {
		// Registered before the worker's stop, so it runs after it. The
		// file scenario's output can be gigabytes: do not keep it per run.
		defer os.RemoveAll(dir)
	}
	ports, err := freePorts(2)
	if err != nil {
		return res, err
	}
	srcPort, apiAddr := ports[0], "127.0.0.1:"+strconv.Itoa(ports[1])
	for name, content := range sc.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return res, fmt.Errorf("write %s: %w", name, err)
		}
	}
	cfgPath := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(sc.config(srcPort)), 0o644); err != nil {
		return res, fmt.Errorf("write config: %w", err)
	}

	p, err := startWorker(bin, dir, cfgPath, filepath.Join(dir, "data"), apiAddr)
	if err != nil {
		return res, err
	}
	defer p.stop()
	if err := p.waitHealthy(ctx, apiAddr, healthTimeout); err != nil {
		return res, err
	}
	if !sleep(ctx, o.settle) {
		return res, ctx.Err()
	}
	idle, err := readMemStatus(p.pid())
	if err != nil {
		return res, err
	}
	res.IdleRSSMB = float64(idle.RSS) / 1e6
	cpuStart, err := cpuSeconds(p.pid())
	if err != nil {
		return res, err
	}

	if sc.load == nil {
		// Idle: CPU is everything since start, memory is what startup took.
		res.CPUSeconds = cpuStart
		res.PeakRSSMB = float64(idle.HWM) / 1e6
		return res, nil
	}

	scr := newScraper(apiAddr)
	baseAt := time.Now()
	base, err := scr.value()
	if err != nil {
		return res, err
	}
	loadDone := make(chan struct{})
	type watched struct {
		samples []sample
		err     error
	}
	watchRes := make(chan watched, 1)
	go func() {
		s, err := watchCounter(ctx, o.watch, scr.value, loadDone)
		watchRes <- watched{s, err}
	}()

	args := append(sc.load(srcPort), "--duration", o.duration.String(), "--rate", strconv.FormatFloat(o.rate, 'f', -1, 64))
	genCtx, cancelGen := context.WithTimeout(ctx, o.duration+genSlack)
	rep, genErr := runGen(genCtx, bin, dir, args)
	cancelGen()
	close(loadDone)
	w := <-watchRes
	if genErr != nil {
		return res, genErr
	}
	if w.err != nil {
		return res, w.err
	}
	if !p.alive() {
		return res, fmt.Errorf("worker exited under load (%v); log:\n%s", p.waitErr, p.logTail())
	}
	// The reading before the load is the baseline sample.
	win, err := deliveryWindow(append([]sample{{t: baseAt, v: base}}, w.samples...), base)
	if err != nil {
		return res, fmt.Errorf("%w (gen sent %d events, %d errors)", err, rep.Events, rep.Errors)
	}
	cpuEnd, err := cpuSeconds(p.pid())
	if err != nil {
		return res, err
	}
	mem, err := readMemStatus(p.pid())
	if err != nil {
		return res, err
	}
	res.EventsPerSec = win.Rate
	res.MBPerSec = float64(rep.Bytes) / 1e6 / win.Seconds
	res.CPUSeconds = cpuEnd - cpuStart
	res.CPUPerMEvents = res.CPUSeconds / (win.Delivered / 1e6)
	res.PeakRSSMB = float64(mem.HWM) / 1e6
	if win.Delivered != float64(rep.Events) {
		fmt.Fprintf(stderr, "bench: %s: worker delivered %.0f events, gen sent %d (%d errors, %d retries)\n",
			sc.name, win.Delivered, rep.Events, rep.Errors, rep.Retries)
	}
	return res, nil
}
