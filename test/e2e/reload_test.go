package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const reloadConfig = `
sources:
  web: {type: http, address: "127.0.0.1:%d", max_body_bytes: %s}
routes:
  - name: tagged
    filter: 'exists(id)'
    pipeline: p
    destination: out
pipelines:
  p:
    - type: set
      fields: {generation: "%s"}
destinations:
  out: {type: file, path: out.ndjson}
  %s
`

// TestReloadUnderLoad changes the config many times (pipeline, a new
// destination, the HTTP source itself on the same port) while sluice gen
// sends acknowledged HTTP batches: every acknowledged event must arrive, the
// port must never refuse a connection, and a bad config must change nothing.
func TestReloadUnderLoad(t *testing.T) {
	hp := freePort(t)
	cfg := func(i int) string {
		extra := ""
		if i%2 == 1 {
			extra = "spare: {type: blackhole}"
		}
		size := "10MiB"
		if i%3 == 2 {
			size = "11MiB" // changes the source: it is replaced on the same port
		}
		return fmt.Sprintf(reloadConfig, hp, size, fmt.Sprint(i), extra)
	}
	p := start(t, "worker", cfg(0))

	// Watch the port: every dial must succeed during the reloads.
	var refused atomic.Int64
	stopDial := make(chan struct{})
	var dialWG sync.WaitGroup
	dialWG.Add(1)
	go func() {
		defer dialWG.Done()
		for {
			select {
			case <-stopDial:
				return
			case <-time.After(5 * time.Millisecond):
			}
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", hp), time.Second)
			if err != nil {
				refused.Add(1)
				continue
			}
			c.Close()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var rep genReport
	done := make(chan struct{})
	go func() {
		defer close(done)
		rep = runGen(t, ctx, "--format", "json", "--to", fmt.Sprintf("http://127.0.0.1:%d/", hp), "--duration", "6s", "--rate", "20000", "--connections", "4", "--batch", "200", "--run-id", "reload")
	}()
	for i := 1; i <= 10; i++ {
		time.Sleep(400 * time.Millisecond)
		if i == 5 {
			p.rewrite("sources: {web: {type: http, adress: oops}}\n") // rejected
			time.Sleep(400 * time.Millisecond)
		}
		p.rewrite(cfg(i))
	}
	<-done
	close(stopDial)
	dialWG.Wait()
	if refused.Load() > 0 {
		t.Errorf("the port refused %d connections during reloads", refused.Load())
	}
	if rep.Events == 0 {
		t.Fatal("gen sent nothing")
	}
	evs := waitLines(t, filepath.Join(p.dir, "data", "out.ndjson"), int(rep.Events), 30*time.Second)
	seen := map[string]bool{}
	gens := map[any]bool{}
	for _, ev := range evs {
		seen[idOf(ev)] = true
		gens[ev["generation"]] = true
	}
	if len(seen) < int(rep.Events) {
		t.Fatalf("acknowledged %d events, %d distinct arrived", rep.Events, len(seen))
	}
	if len(gens) < 5 {
		t.Errorf("events saw only %d config generations: %v", len(gens), gens)
	}
	if n := p.metric("sluice_config_reloads_total", `result="failure"`); n < 1 {
		t.Errorf("the bad config was not counted as a failed reload")
	}
	if n := p.metric("sluice_config_reloads_total", `result="success"`); n < 10 {
		t.Errorf("successful reloads = %v, want 10", n)
	}
	if !strings.Contains(p.logs.String(), "config reload rejected") {
		t.Errorf("the rejected reload was not logged")
	}
	t.Logf("gen: %d events acknowledged, %d retries; %d lines written (duplicates %d)", rep.Events, rep.Retries, len(evs), len(evs)-len(seen))
	p.stop()
}

// TestSighupReload checks the SIGHUP path.
func TestSighupReload(t *testing.T) {
	hp := freePort(t)
	p := start(t, "worker", fmt.Sprintf(reloadConfig, hp, "1MiB", "a", ""), "SLUICE_WATCH_CONFIG=0")
	postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", hp), `{"id":"one"}`+"\n")
	p.rewrite(fmt.Sprintf(reloadConfig, hp, "1MiB", "b", ""))
	time.Sleep(500 * time.Millisecond) // file watching is on in start(); SIGHUP must work regardless
	p.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for p.metric("sluice_config_reloads_total", `result="success"`) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no reload after SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
	postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", hp), `{"id":"two"}`+"\n")
	evs := waitLines(t, filepath.Join(p.dir, "data", "out.ndjson"), 2, 10*time.Second)
	if evs[0]["generation"] != "a" || evs[1]["generation"] != "b" {
		t.Fatalf("generations: %v", evs)
	}
	p.stop()
}

// TestBackpressureAndRecovery: a destination that is down fills its small
// queue; the HTTP source then answers 429 with Retry-After; once the
// destination is back, every acknowledged event is delivered.
func TestBackpressureAndRecovery(t *testing.T) {
	var up atomic.Bool
	var mu sync.Mutex
	received := map[string]bool{}
	dest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.Index(line, `"id":"`); i >= 0 {
				rest := line[i+6:]
				received[rest[:strings.IndexByte(rest, '"')]] = true
			}
		}
		mu.Unlock()
		w.WriteHeader(200)
	}))
	defer dest.Close()
	hp := freePort(t)
	p := start(t, "worker", fmt.Sprintf(`
sources:
  web: {type: http, address: "127.0.0.1:%d", backpressure_timeout: 200ms, ack_timeout: 60s}
routes: [{destination: down}]
destinations:
  down:
    type: http
    url: %s
    queue: {max_events: 500}
    batch: {max_events: 100}
    retry: {initial_backoff: 50ms, max_backoff: 200ms}
`, hp, dest.URL))
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)
	// Fill the queue with requests that wait for their acknowledgement.
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	var okMu sync.Mutex
	var okIDs []string
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body strings.Builder
			for j := 0; j < 50; j++ {
				fmt.Fprintf(&body, "{\"id\":\"r%d-%d\"}\n", i, j)
			}
			resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body.String()))
			if err != nil {
				codes <- 0
				return
			}
			if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
			if resp.StatusCode == 200 {
				okMu.Lock()
				for j := 0; j < 50; j++ {
					okIDs = append(okIDs, fmt.Sprintf("r%d-%d", i, j))
				}
				okMu.Unlock()
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	// Wait until some requests were refused with 429.
	deadline := time.Now().Add(20 * time.Second)
	refusedOne := false
	for !refusedOne && time.Now().Before(deadline) {
		select {
		case c := <-codes:
			if c == 429 {
				refusedOne = true
			} else {
				t.Fatalf("while the destination is down a request got %d", c)
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !refusedOne {
		t.Fatal("no 429 while the queue was full")
	}
	if q := p.metric("sluice_queue_events", `destination="down"`); q < 400 {
		t.Errorf("queue depth %v, expected it near its 500 limit", q)
	}
	up.Store(true)
	wg.Wait()
	close(codes)
	// Every event of a request answered 200 must have been delivered.
	mu.Lock()
	got := make(map[string]bool, len(received))
	for k := range received {
		got[k] = true
	}
	mu.Unlock()
	if len(okIDs) == 0 {
		t.Fatal("no request succeeded after recovery")
	}
	for _, id := range okIDs {
		if !got[id] {
			t.Fatalf("event %s was acknowledged but never delivered", id)
		}
	}
	p.stop()
}
