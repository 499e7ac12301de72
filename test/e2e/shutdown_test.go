package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMDrainsQueues: events waiting in a queue for a slow destination
// when SIGTERM arrives are delivered before the process exits.
func TestSIGTERMDrainsQueues(t *testing.T) {
	var mu sync.Mutex
	got := map[string]bool{}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.Index(line, `"id":"`); i >= 0 {
				rest := line[i+6:]
				got[rest[:strings.IndexByte(rest, '"')]] = true
			}
		}
		mu.Unlock()
	}))
	defer slow.Close()
	tp := freePort(t)
	p := start(t, "worker", fmt.Sprintf(`
sources:
  in: {type: tcp, address: "127.0.0.1:%d", format: json}
routes: [{destination: slow}]
destinations:
  slow: {type: http, url: %s, batch: {max_events: 10}}
shutdown: {drain_timeout: 30s}
`, tp, slow.URL))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tp))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := 0; i < n; i++ {
		fmt.Fprintf(c, "{\"id\":\"e%d\"}\n", i)
	}
	c.Close()
	// Wait until the events are in (queued), then stop.
	deadline := time.Now().Add(10 * time.Second)
	for p.metric("sluice_source_events_in_total") < n {
		if time.Now().After(deadline) {
			t.Fatal("events not received")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("delivered %d of %d queued events before exit", len(got), n)
	}
	if !strings.Contains(p.logs.String(), "shutting down") {
		t.Error("no shutdown log line")
	}
}

// TestReloadKeepsTCPConnections: a reload that does not change a TCP source
// keeps its client connections; every line sent across reloads arrives.
func TestReloadKeepsTCPConnections(t *testing.T) {
	tp := freePort(t)
	cfg := func(tag string) string {
		return fmt.Sprintf(`
sources:
  in: {type: tcp, address: "127.0.0.1:%d"}
routes: [{destination: out, pipeline: p}]
pipelines:
  p: [{type: set, fields: {gen: "%s"}}]
destinations:
  out: {type: file, path: out.ndjson}
`, tp, tag)
	}
	p := start(t, "worker", cfg("a"))
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tp))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriter(c)
	const n = 3000
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "line id=tcp-%d\n", i+1)
		if i%500 == 499 {
			w.Flush()
			p.rewrite(cfg(fmt.Sprint(i)))
			time.Sleep(300 * time.Millisecond)
		}
	}
	w.Flush()
	evs := waitLines(t, filepath.Join(p.dir, "data", "out.ndjson"), n, 20*time.Second)
	seen := map[string]bool{}
	gens := map[any]bool{}
	for _, ev := range evs {
		seen[idOf(ev)] = true
		gens[ev["gen"]] = true
	}
	if len(seen) != n || len(evs) != n {
		t.Fatalf("%d events, %d distinct, want %d", len(evs), len(seen), n)
	}
	if len(gens) < 3 {
		t.Errorf("reloads not applied: %v", gens)
	}
	c.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}
