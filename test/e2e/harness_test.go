// Package e2e tests the real sluice binary over real sockets: it builds the
// binary once, starts it with configs written to temporary directories, sends
// with real clients (logger, sluice gen, net/http) and checks what the
// destinations wrote.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/gen"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-race", "-o", binary, "github.com/sluicehq/sluice/cmd/sluice")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sluice:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a TCP port that was free a moment ago (and its UDP twin
// is checked too, for syslog).
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		pc.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// proc is a running sluice process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	api    string
	es     string // the Elasticsearch-compatible API of a server
	dir    string
	logs   *syncBuffer
	done   chan struct{}
	exit   error
	config string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs `sluice ROLE` with the config text (empty: none) in a fresh
// data directory and waits until it is ready.
func start(t *testing.T, role, config string, env ...string) *proc {
	t.Helper()
	return startIn(t, t.TempDir(), role, config, env...)
}

// startIn is start with a given directory (for restarts on the same data).
func startIn(t *testing.T, dir, role, config string, env ...string) *proc {
	t.Helper()
	p := &proc{t: t, dir: dir, logs: &syncBuffer{}, done: make(chan struct{})}
	apiPort := freePort(t)
	p.api = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	args := []string{role, "--data", filepath.Join(dir, "data"), "--api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), "--watch-config", "200ms"}
	if role == "server" || role == "store" {
		// Each server or store gets its own Elasticsearch-compatible port.
		p.es = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		args = append(args, "--es-address", strings.TrimPrefix(p.es, "http://"))
	}
	if config != "" {
		p.config = filepath.Join(dir, "sluice.yaml")
		if err := os.WriteFile(p.config, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p.config)
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exit = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("sluice output:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("sluice exited early: %v\n%s", p.exit, p.logs.String())
		default:
		}
		resp, err := http.Get(p.api + "/api/v1/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sluice not ready after 20s:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to go.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		p.t.Fatalf("sluice did not exit within 40s of SIGTERM")
	}
	if p.exit != nil {
		p.t.Fatalf("sluice exit: %v\n%s", p.exit, p.logs.String())
	}
}

// rewrite replaces the config file (the process picks it up by watching).
func (p *proc) rewrite(config string) {
	p.t.Helper()
	tmp := p.config + ".tmp"
	if err := os.WriteFile(tmp, []byte(config), 0o644); err != nil {
		p.t.Fatal(err)
	}
	if err := os.Rename(tmp, p.config); err != nil {
		p.t.Fatal(err)
	}
}

// metric returns the sum of a metric's samples whose labels contain all of
// the given label pairs.
func (p *proc) metric(name string, labels ...string) float64 {
	p.t.Helper()
	resp, err := http.Get(p.api + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// readNDJSON reads every JSON line of the files matching glob.
func readNDJSON(t *testing.T, glob string) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(glob)
	var out []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("%s: invalid JSON line %q: %v", f, line, err)
			}
			out = append(out, m)
		}
	}
	return out
}

// waitLines waits until the files matching glob hold at least n events.
func waitLines(t *testing.T, glob string, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := readNDJSON(t, glob)
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %d events in %s, have %d", timeout, n, glob, len(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idOf finds the generator's unique id in an event: the "id" field, or
// the id inside the message (gen.ExtractID).
func idOf(ev map[string]any) string {
	if id, ok := ev["id"].(string); ok {
		return id
	}
	if m, ok := ev["message"].(string); ok {
		if id, ok := gen.ExtractID([]byte(m)); ok {
			return id
		}
	}
	return ""
}

// genReport is the JSON report of `sluice gen --report json`.
type genReport struct {
	Events  int64   `json:"events"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
	Errors  int64   `json:"errors"`
	Retries int64   `json:"retries"`
	FirstID string  `json:"first_id"`
	LastID  string  `json:"last_id"`
}

// gen runs `sluice gen` with args and returns its report.
func runGen(t *testing.T, ctx context.Context, args ...string) genReport {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary, append([]string{"gen", "--report", "json"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice gen %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	var r genReport
	if err := json.Unmarshal(bytes.TrimSpace(lastLine(out.Bytes())), &r); err != nil {
		t.Fatalf("gen report %q: %v", out.String(), err)
	}
	return r
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func postNDJSON(t *testing.T, url string, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitSearch queries the search API of p with the KQL query q until it
// finds at least n events, and returns them (newest first).
func waitSearch(t *testing.T, p *proc, q string, n int, timeout time.Duration) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(p.api + "/api/v1/search?limit=1000&q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Total int64
			Hits  []map[string]any
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("search %q: %d %v", q, resp.StatusCode, err)
		}
		if len(res.Hits) >= n {
			return res.Hits
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %d events matching %q, have %d", timeout, n, q, len(res.Hits))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
