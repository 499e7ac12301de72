package gen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lineSink is a TCP listener that keeps the ids of the lines it receives.
type lineSink struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	ids   []string
	conns int
	// octet reads RFC 6587 octet-counted frames instead of lines.
	octet bool
	// dropFirst closes the first connection after its first read.
	dropFirst bool
}

func newLineSink(t *testing.T, octet, dropFirst bool) *lineSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineSink{ln: ln, octet: octet, dropFirst: dropFirst}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *lineSink) url() string { return "tcp://" + s.ln.Addr().String() }

func (s *lineSink) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		first := s.conns == 1
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			if first && s.dropFirst {
				_, _ = c.Read(make([]byte, 100))
				return
			}
			s.read(c)
		}()
	}
}

func (s *lineSink) read(c net.Conn) {
	br := bufio.NewReaderSize(c, 1<<20)
	for {
		var line []byte
		if s.octet {
			n, err := br.ReadString(' ')
			if err != nil {
				return
			}
			size, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil {
				panic("bad octet count " + n)
			}
			line = make([]byte, size)
			if _, err := io.ReadFull(br, line); err != nil {
				return
			}
		} else {
			l, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			line = l[:len(l)-1]
		}
		id, _ := ExtractID(line)
		s.mu.Lock()
		s.ids = append(s.ids, id)
		s.mu.Unlock()
	}
}

func (s *lineSink) close() { s.ln.Close(); s.wg.Wait() }

// received waits until n ids arrived (or a second passed) and returns them.
func (s *lineSink) received(n int) []string {
	deadline := time.Now().Add(2 * time.Second)
	for {
		s.mu.Lock()
		ids := append([]string(nil), s.ids...)
		s.mu.Unlock()
		if len(ids) >= n || time.Now().After(deadline) {
			return ids
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkIDs(t *testing.T, ids []string, run string, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("received %d lines, want %d", len(ids), n)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	for seq := 1; seq <= n; seq++ {
		if id := ID(run, uint64(seq)); !seen[id] {
			t.Fatalf("line %s not received", id)
		}
	}
}

func TestTCP(t *testing.T) {
	for _, octet := range []bool{false, true} {
		t.Run("octet="+strconv.FormatBool(octet), func(t *testing.T) {
			s := newLineSink(t, octet, false)
			rep, err := Run(context.Background(), Config{
				Format: "syslog", To: s.url(), Count: 5000, Connections: 3, RunID: "tcp", OctetCounting: octet,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events != 5000 || rep.Errors != 0 || rep.FirstID != "tcp-1" || rep.LastID != "tcp-5000" {
				t.Fatalf("report %+v", rep)
			}
			checkIDs(t, s.received(5000), "tcp", 5000)
		})
	}
}

func TestTCPReconnect(t *testing.T) {
	s := newLineSink(t, false, true)
	rep, err := Run(context.Background(), Config{Format: "raw", Size: 1000, To: s.url(), Count: 5000, RunID: "re"})
	var se *SendErrors
	if err != nil && !errors.As(err, &se) {
		t.Fatalf("want only send errors, got %v", err)
	}
	if rep.Errors == 0 {
		t.Fatalf("no error counted for the dropped connection: %+v", rep)
	}
	if ids := s.received(1); len(ids) == 0 || rep.Events == 0 || rep.LastID != "re-5000" {
		t.Fatalf("nothing sent after reconnecting: received %d, report %+v", len(ids), rep)
	}
}

func TestTCPConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"--to", "tcp://" + addr, "--count", "10"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "cannot connect") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestRateLimit(t *testing.T) {
	s := newLineSink(t, false, false)
	rep, err := Run(context.Background(), Config{Format: "raw", To: s.url(), Rate: 2000, Duration: time.Second, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events < 1000 || rep.Events > 3000 {
		t.Fatalf("sent %d events in %.2fs at --rate 2000", rep.Events, rep.Seconds)
	}
	if got := len(s.received(int(rep.Events))); got != int(rep.Events) {
		t.Fatalf("received %d, reported %d", got, rep.Events)
	}
}

func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_ = pc.(*net.UDPConn).SetReadBuffer(4 << 20)
	var got atomic.Int64
	ids := make(chan string, 1000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			got.Add(1)
			if bytes.IndexByte(buf[:n], '\n') >= 0 {
				panic("newline in a datagram")
			}
			id, _ := ExtractID(buf[:n])
			ids <- id
		}
	}()
	rep, err := Run(context.Background(), Config{Format: "syslog3164", To: "udp://" + pc.LocalAddr().String(), Count: 500, Rate: 10000, RunID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for got.Load() < 500 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	pc.Close()
	<-done
	close(ids)
	var all []string
	for id := range ids {
		all = append(all, id)
	}
	if rep.Events != 500 {
		t.Fatalf("report %+v", rep)
	}
	checkIDs(t, all, "u", 500)
}

func TestHTTPRetryAndFailure(t *testing.T) {
	var (
		mu       sync.Mutex
		ids      []string
		requests int
		ctypes   = map[string]bool{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		requests++
		ctypes[r.Header.Get("Content-Type")] = true
		switch requests {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case 3:
			w.WriteHeader(http.StatusBadRequest) // a batch refused for good
			return
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			var obj map[string]any
			if err := json.Unmarshal(l, &obj); err != nil {
				t.Errorf("not NDJSON: %q", l)
			}
			ids = append(ids, obj["id"].(string))
		}
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Config{Format: "json", To: srv.URL + "/ingest", Count: 1000, Batch: 100, RunID: "h"})
	var se *SendErrors
	if !errors.As(err, &se) || se.N != 1 {
		t.Fatalf("want one send error, got %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if rep.Events != 900 || rep.Retries != 1 || rep.Errors != 1 || len(ids) != 900 {
		t.Fatalf("received %d; report %+v", len(ids), rep)
	}
	if rep.Bytes == 0 || rep.FirstID != "h-1" || rep.LastID != "h-1000" {
		t.Fatalf("report %+v", rep)
	}
	if !ctypes["application/x-ndjson"] || len(ctypes) != 1 {
		t.Fatalf("content types %v", ctypes)
	}
}

func TestMainJSONReport(t *testing.T) {
	s := newLineSink(t, false, false)
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"--format", "apache", "--to", s.url(), "--count", "300", "--run-id", "m", "--report", "json"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := "bytes errors events events_per_sec first_id last_id mb_per_sec retries seconds"
	if got := strings.Join(sortStrings(keys), " "); got != want {
		t.Fatalf("report keys %q, want %q", got, want)
	}
	if m["events"].(float64) != 300 || m["first_id"] != "m-1" || m["last_id"] != "m-300" {
		t.Fatalf("report %s", out.String())
	}
	checkIDs(t, s.received(300), "m", 300)
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func TestMainInterrupted(t *testing.T) {
	s := newLineSink(t, false, false)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := Main(ctx, []string{"--format", "raw", "--to", s.url(), "--duration", "1m", "--rate", "5000"}, &out, &errOut)
	if code != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d after %v: %s", code, time.Since(start), errOut.String())
	}
	if !strings.Contains(out.String(), "events/s") {
		t.Fatalf("no report after Ctrl-C: %q", out.String())
	}
}

func TestMainUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--count", "1"},
		{"--to", "tcp://127.0.0.1:9", "--count", "1", "--format", "xml"},
		{"--to", "tcp://127.0.0.1:9"},
		{"--to", "ftp://127.0.0.1:9", "--count", "1"},
		{"--to", "tcp://127.0.0.1", "--count", "1"},
		{"--to", "tcp://127.0.0.1:9", "--count", "1", "--report", "yaml"},
		{"--to", "tcp://127.0.0.1:9", "--count", "1", "extra"},
		{"--bogus"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(context.Background(), args, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "k8s") {
		t.Errorf("--help: exit %d, %q", code, errOut.String())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              time.Second,
		"0":                             10 * time.Millisecond,
		"3":                             3 * time.Second,
		"3600":                          30 * time.Second,
		"soon":                          time.Second,
		"Mon, 01 Jan 2024 00:00:05 GMT": 5 * time.Second,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(1000)
	now := time.Unix(100, 0)
	// An idle bucket holds 10ms of tokens: they go at once…
	for range 10 {
		if d := l.reserve(1, now); d != 0 {
			t.Fatalf("waited %v inside the burst", d)
		}
	}
	// …and so does a wait within the 2ms slack…
	if d := l.reserve(102, now); d != 0 {
		t.Fatalf("waited %v within the slack", d)
	}
	// …then each batch waits for the ones before it.
	if d := l.reserve(1, now); d != 102*time.Millisecond {
		t.Fatalf("after 102 more tokens at 1000/s, wait %v", d)
	}
	if newLimiter(0).reserve(1e6, now) != 0 {
		t.Fatal("rate 0 must not wait")
	}
}
