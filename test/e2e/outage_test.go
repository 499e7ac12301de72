package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// postIDs posts n events with ids prefix-0..n-1 and returns the status.
func postIDs(t *testing.T, url, prefix string, from, n int) int {
	t.Helper()
	var body strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&body, "{\"id\":\"%s-%d\",\"message\":%q}\n", prefix, i, strings.Repeat("x", 200))
	}
	resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body.String()))
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// ids lists prefix-from .. prefix-(from+n-1) for each acknowledged request.
func ids(prefix string, requests []int, per int) []string {
	var out []string
	for _, i := range requests {
		for j := i * per; j < i*per+per; j++ {
			out = append(out, fmt.Sprintf("%s-%d", prefix, j))
		}
	}
	return out
}

// serveOn starts the collector on a fixed port (the destination "comes up").
func serveOn(t *testing.T, port int) (*collector, func()) {
	t.Helper()
	col := &collector{seen: map[string]int{}}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(col)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	return col, srv.Close
}

func rssMB(t *testing.T, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

const outageConfig = `
sources:
  web: {type: http, address: "127.0.0.1:%d", backpressure_timeout: 200ms}
routes: [{destination: sink}]
destinations:
  sink:
    type: http
    url: http://127.0.0.1:%d/bulk
    queue: {type: disk, max_bytes: 2MiB, segment_bytes: 1MiB, when_full: %s}
    retry: {initial_backoff: 50ms, max_backoff: 200ms}
`

// TestOutageDiskBlock: the destination is down; the disk queue fills to its
// max_bytes; senders then get 429 (backpressure); memory stays bounded; when
// the destination comes back every acknowledged event is delivered.
func TestOutageDiskBlock(t *testing.T) {
	hp, dp := freePort(t), freePort(t)
	p := start(t, "worker", fmt.Sprintf(outageConfig, hp, dp, "block"))
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)
	var acked []int
	refused := 0
	for i := 0; refused < 5 && i < 2000; i++ {
		switch code := postIDs(t, url, "b", i*100, 100); code {
		case 200:
			acked = append(acked, i)
		case 429:
			refused++
		default:
			t.Fatalf("while the destination is down a request got %d", code)
		}
	}
	if refused < 5 {
		t.Fatalf("no backpressure after %d acknowledged requests", len(acked))
	}
	if rss := rssMB(t, p.cmd.Process.Pid); rss > 150 {
		t.Errorf("RSS %.0f MB while the queue is full", rss)
	}
	col, stop := serveOn(t, dp)
	defer stop()
	col.waitDelivered(t, ids("b", acked, 100), 30*time.Second)
	// Once drained, the source takes events again.
	if code := postIDs(t, url, "after", 0, 10); code != 200 {
		t.Fatalf("after recovery: %d", code)
	}
	t.Logf("%d requests (%d events) acknowledged before backpressure; all delivered after recovery", len(acked), 100*len(acked))
	p.stop()
}

// TestOutageDiskDropNewest: with drop_newest a full queue sheds; every
// event is either delivered after recovery or counted as dropped, exactly.
func TestOutageDiskDropNewest(t *testing.T) {
	hp, dp := freePort(t), freePort(t)
	p := start(t, "worker", fmt.Sprintf(outageConfig, hp, dp, "drop_newest"))
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)
	const requests = 200
	for i := 0; i < requests; i++ {
		if code := postIDs(t, url, "d", i*50, 50); code != 200 {
			t.Fatalf("drop_newest must not push back, got %d", code)
		}
	}
	dropped := p.metric("sluice_events_dropped_total", `reason="queue_full"`)
	if dropped == 0 {
		t.Fatal("nothing dropped: the queue never filled")
	}
	col, stop := serveOn(t, dp)
	defer stop()
	total := requests * 50
	deadline := time.Now().Add(30 * time.Second)
	for {
		col.mu.Lock()
		got := len(col.seen)
		col.mu.Unlock()
		if float64(got)+dropped == float64(total) {
			t.Logf("%d delivered + %.0f dropped (counted) = %d sent", got, dropped, total)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d + dropped %.0f != sent %d", got, dropped, total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
}

// TestDiskFull puts the data directory on a 3 MiB tmpfs: when it fills, the
// disk queue refuses writes with a clear error and senders are pushed back
// (nothing acknowledged is lost); once the destination drains the queue,
// space returns and ingest resumes by itself.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	defer exec.Command("umount", "-l", data).Run()
	hp, dp := freePort(t), freePort(t)
	p := startIn(t, dir, "worker", fmt.Sprintf(`
sources:
  web: {type: http, address: "127.0.0.1:%d", backpressure_timeout: 200ms}
routes: [{destination: sink}]
destinations:
  sink:
    type: http
    url: http://127.0.0.1:%d/bulk
    queue: {type: disk, max_bytes: 1GiB, segment_bytes: 1MiB}
    retry: {initial_backoff: 50ms, max_backoff: 200ms}
`, hp, dp))
	url := fmt.Sprintf("http://127.0.0.1:%d/", hp)
	var acked []int
	failed := 0
	for i := 0; failed < 5 && i < 1000; i++ {
		if code := postIDs(t, url, "f", i*100, 100); code == 200 {
			acked = append(acked, i)
		} else if code == 429 || code == 503 {
			failed++
		} else {
			t.Fatalf("unexpected status %d", code)
		}
	}
	if failed < 5 {
		t.Fatal("the disk never filled")
	}
	if !strings.Contains(p.logs.String(), "no space left on device") {
		t.Errorf("no clear disk-full error in the log")
	}
	col, stop := serveOn(t, dp)
	defer stop()
	col.waitDelivered(t, ids("f", acked, 100), 30*time.Second)
	// Space is back: ingest works again without any manual step.
	deadline := time.Now().Add(20 * time.Second)
	for postIDs(t, url, "again", 0, 100) != 200 {
		if time.Now().After(deadline) {
			t.Fatal("ingest did not recover after the queue drained")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("disk full after %d acknowledged requests; all %d of their events delivered after recovery; ingest resumed", len(acked), 100*len(acked))
	p.stop()
}
