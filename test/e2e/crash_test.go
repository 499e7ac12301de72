package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// collector is an HTTP destination that records the ids it receives.
type collector struct {
	mu    sync.Mutex
	seen  map[string]int
	lines int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range bytes.Split(b, []byte("\n")) {
		if i := bytes.Index(line, []byte(`"id":"`)); i >= 0 {
			rest := line[i+6:]
			c.seen[string(rest[:bytes.IndexByte(rest, '"')])]++
			c.lines++
		}
	}
}

// missing returns how many of ids the collector has not seen.
func (c *collector) missing(ids []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range ids {
		if c.seen[id] == 0 {
			n++
		}
	}
	return n
}

// waitDelivered waits until the collector has seen every id.
func (c *collector) waitDelivered(t *testing.T, ids []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := c.missing(ids)
		if m == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged events never arrived", m, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCrashDiskQueue is the durability test of DESIGN.md: with the
// destination down, acknowledged HTTP ingest goes into a disk queue; the
// worker is killed with SIGKILL at random moments, several rounds; then the
// destination comes up and every acknowledged id must arrive (duplicates
// allowed, reported).
func TestCrashDiskQueue(t *testing.T) {
	destPort, hp := freePort(t), freePort(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
sources:
  web: {type: http, address: "127.0.0.1:%d", backpressure_timeout: 2s}
routes: [{destination: sink}]
destinations:
  sink:
    type: http
    url: http://127.0.0.1:%d/bulk
    queue: {type: disk, max_bytes: 256MiB, fsync: {interval: 50ms}}
    retry: {initial_backoff: 50ms, max_backoff: 200ms}
`, hp, destPort)
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)

	var mu sync.Mutex
	var acked []string
	var seq atomic.Int64
	send := func(stop <-chan struct{}, wg *sync.WaitGroup) {
		defer wg.Done()
		client := &http.Client{Timeout: 10 * time.Second}
		for {
			select {
			case <-stop:
				return
			default:
			}
			var body strings.Builder
			ids := make([]string, 20)
			for i := range ids {
				ids[i] = fmt.Sprintf("c-%d", seq.Add(1))
				fmt.Fprintf(&body, "{\"id\":%q,\"message\":\"crash test event\"}\n", ids[i])
			}
			resp, err := client.Post(url, "application/x-ndjson", strings.NewReader(body.String()))
			if err != nil {
				time.Sleep(20 * time.Millisecond) // killed or restarting
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
			}
		}
	}

	const rounds = 4
	for r := 0; r < rounds; r++ {
		p := startIn(t, dir, "worker", cfg)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go send(stop, &wg)
		}
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		p.kill()
		close(stop)
		wg.Wait()
	}
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no request was acknowledged")
	}

	// The queue survived the crashes: inspect reports it healthy.
	qdir := filepath.Join(dir, "data", "queues", "sink")
	out, err := exec.Command(binary, "queue", "inspect", qdir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "healthy") {
		t.Fatalf("sluice queue inspect after crashes: %v\n%s", err, out)
	}

	// Bring the destination up and restart the worker.
	col := &collector{seen: map[string]int{}}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", destPort))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(col)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	p := startIn(t, dir, "worker", cfg)
	col.waitDelivered(t, acked, 60*time.Second)
	col.mu.Lock()
	lines, distinct := col.lines, len(col.seen)
	col.mu.Unlock()
	t.Logf("%d rounds of kill -9: %d events acknowledged, all delivered; %d distinct received (%d more were queued but their requests were cut by the kill), %d duplicates (%.2f%%)",
		rounds, n, distinct, distinct-n, lines-distinct, 100*float64(lines-distinct)/float64(distinct))
	p.stop()
}
