package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/gen"
)

// proc is a started sluice worker. The harness owns it: stop always kills
// and reaps it, so no run leaves a process behind.
type proc struct {
	cmd     *exec.Cmd
	logPath string
	// grace is how long the worker may take to exit after SIGTERM.
	grace   time.Duration
	exited  chan struct{} // closed once Wait returned
	waitErr error
}

// startWorker starts `sluice worker` in dir with its output in dir/sluice.log.
func startWorker(bin, dir, config, dataDir, apiAddr string) (*proc, error) {
	logPath := dir + "/sluice.log"
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create worker log: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "worker", "--config", config, "--data", dataDir, "--api-address", apiAddr)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s worker: %w", bin, err)
	}
	p := &proc{cmd: cmd, logPath: logPath, grace: 10 * time.Second, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop asks the worker to exit (SIGTERM), kills its process group after
// p.grace, and waits until it is reaped.
func (p *proc) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(p.grace):
	}
	killGroup(p.cmd.Process)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "bench: worker pid %d did not exit after SIGKILL\n", p.pid())
	}
}

// logTail returns the end of the worker's log, for error messages.
func (p *proc) logTail() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// waitHealthy polls /api/v1/health until it answers 200, the worker exits,
// or timeout passes.
func (p *proc) waitHealthy(ctx context.Context, apiAddr string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	url := "http://" + apiAddr + "/api/v1/health"
	var last error
	for time.Now().Before(deadline) {
		if !p.alive() {
			return fmt.Errorf("worker exited during startup (%v); log:\n%s", p.waitErr, p.logTail())
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("worker not healthy after %v (%v); log:\n%s", timeout, last, p.logTail())
}

// scraper reads one counter from the worker's /metrics.
type scraper struct {
	client *http.Client
	url    string
	name   string
	labels map[string]string
}

func newScraper(apiAddr string) *scraper {
	return &scraper{
		client: &http.Client{Timeout: 2 * time.Second},
		url:    "http://" + apiAddr + "/metrics",
		name:   "sluice_destination_events_out_total",
		labels: map[string]string{"destination": "out"},
	}
}

// value returns the counter, 0 while it does not exist yet.
func (s *scraper) value() (float64, error) {
	resp, err := s.client.Get(s.url)
	if err != nil {
		return 0, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape metrics: GET %s: %s", s.url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return 0, fmt.Errorf("scrape metrics: %w", err)
	}
	v, _, err := promValue(body, s.name, s.labels)
	return v, err
}

// watchTiming paces watchCounter.
type watchTiming struct {
	interval time.Duration // between scrapes
	quiet    time.Duration // no growth for this long after the load means done
	maxDrain time.Duration // bound on the wait for queues to drain after the load
}

var defaultWatch = watchTiming{interval: 100 * time.Millisecond, quiet: 2 * time.Second, maxDrain: 60 * time.Second}

// watchCounter scrapes the counter every interval until, after loadDone is
// closed, it has not grown for the quiet period.
func watchCounter(ctx context.Context, wt watchTiming, value func() (float64, error), loadDone <-chan struct{}) ([]sample, error) {
	var (
		samples    []sample
		doneAt     time.Time
		lastGrowth time.Time
		failures   int
	)
	tick := time.NewTicker(wt.interval)
	defer tick.Stop()
	for {
		v, err := value()
		now := time.Now()
		if err != nil {
			if failures++; failures > 20 {
				return samples, err
			}
		} else {
			failures = 0
			if n := len(samples); n > 0 && v > samples[n-1].v {
				lastGrowth = now
			}
			samples = append(samples, sample{t: now, v: v})
		}
		if doneAt.IsZero() {
			select {
			case <-loadDone:
				doneAt = now
			default:
			}
		}
		if !doneAt.IsZero() {
			if now.Sub(doneAt) >= wt.quiet && now.Sub(lastGrowth) >= wt.quiet {
				return samples, nil
			}
			if now.Sub(doneAt) > wt.maxDrain {
				return samples, fmt.Errorf("delivered-events counter still growing %v after the load ended", wt.maxDrain)
			}
		}
		select {
		case <-ctx.Done():
			return samples, ctx.Err()
		case <-tick.C:
		}
	}
}

// runGen runs `sluice gen ARGS --report json` and returns its report. On
// ctx's end gen gets SIGINT (it then prints its report), and SIGKILL five
// seconds later.
func runGen(ctx context.Context, bin, dir string, args []string) (gen.Report, error) {
	cmd := exec.CommandContext(ctx, bin, append(append([]string{"gen"}, args...), "--report", "json")...)
	cmd.Dir = dir
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}
	runErr := cmd.Run()
	var rep gen.Report
	lines := bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &rep); err != nil {
		return rep, fmt.Errorf("sluice gen printed no JSON report (%v): %v; stderr: %s", runErr, err, stderr.String())
	}
	if runErr != nil {
		return rep, fmt.Errorf("sluice gen: %w; stderr: %s", runErr, stderr.String())
	}
	return rep, nil
}

// limitedWriter keeps the first n bytes and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

// Write implements io.Writer, reporting every byte as written.
func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. They are free
// when this returns; a race with another process is possible but rare.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
