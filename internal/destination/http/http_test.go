package http

import (
	stdgzip "compress/gzip"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// request is what the test server saw.
type request struct {
	method string
	path   string
	host   string
	header http.Header
	body   string // decompressed
	wire   int    // body bytes on the wire
}

// testServer records every request and answers with respond (200 when nil).
type testServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond func(w http.ResponseWriter, r *http.Request)
}

func newTestServer(t *testing.T, tlsOn bool, respond func(w http.ResponseWriter, r *http.Request)) *testServer {
	ts := &testServer{respond: respond}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		body := string(raw)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := stdgzip.NewReader(strings.NewReader(body))
			if err != nil {
				http.Error(w, "bad gzip: "+err.Error(), http.StatusBadRequest)
				return
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				http.Error(w, "bad gzip: "+err.Error(), http.StatusBadRequest)
				return
			}
			body = string(b)
		}
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, request{r.Method, r.URL.Path, r.Host, r.Header.Clone(), body, len(raw)})
		ts.mu.Unlock()
		if ts.respond != nil {
			ts.respond(w, r)
		}
	})
	ts.Server = httptest.NewUnstartedServer(h)
	// Handshake failures are expected in the TLS tests; keep them quiet.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsOn {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) requests() []request {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]request(nil), ts.reqs...)
}

func newTestSink(t testing.TB, url string, mutate func(c *Config)) *sink {
	t.Helper()
	c := NewConfig().(*Config)
	c.URL = url
	if mutate != nil {
		mutate(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	s, err := newSink(c, componenttest.Env(t, "http", nil))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

var t0 = time.Date(2025, 3, 14, 10, 20, 30, 0, time.UTC)

func events(n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.New(t0, fmt.Sprintf("message %03d", i))
		evs[i].SetString("host.name", "h1")
		evs[i].SetString("_route", "internal-route")
	}
	return evs
}

// ndjson is what events(n) must look like on the wire.
func ndjson(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"@timestamp":"2025-03-14T10:20:30Z","host":{"name":"h1"},"message":"message %03d"}`+"\n", i)
	}
	return b.String()
}

func send(t testing.TB, s *sink, evs []event.Event) error {
	t.Helper()
	b := event.NewBatch("test")
	b.Events = append(b.Events, evs...)
	defer b.Release()
	return s.Write(context.Background(), b)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		field  string // "" when valid
	}{
		{"defaults with a url", func(c *Config) {}, ""},
		{"everything set", func(c *Config) {
			c.URL = "https://logs.example.com/in?x=1"
			c.Method = "put"
			c.Headers = map[string]string{"X-Api-Key": "k", "Host": "other"}
			c.Auth = Auth{Username: "u", Password: "p"}
			c.Compression = "gzip"
			c.TLS.CAFile = "/etc/ca.pem"
		}, ""},
		{"missing url", func(c *Config) { c.URL = "" }, "url"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://x/" }, "url"},
		{"no host", func(c *Config) { c.URL = "http:///path" }, "url"},
		{"credentials in url", func(c *Config) { c.URL = "https://user:hunter2@x/" }, "url"},
		{"unparsable url", func(c *Config) { c.URL = "http://x/%zz" }, "url"},
		{"bad method", func(c *Config) { c.Method = "GET" }, "method"},
		{"bad header name", func(c *Config) { c.Headers = map[string]string{"X Bad": "v"} }, "headers"},
		{"header value with newline", func(c *Config) { c.Headers = map[string]string{"X-A": "v\r\nX-B: w"} }, "headers"},
		{"content-length header", func(c *Config) { c.Headers = map[string]string{"content-length": "3"} }, "headers"},
		{"authorization twice", func(c *Config) {
			c.Headers = map[string]string{"Authorization": "Bearer x"}
			c.Auth.BearerToken = "y"
		}, "headers"},
		{"content-encoding with gzip", func(c *Config) {
			c.Headers = map[string]string{"Content-Encoding": "br"}
			c.Compression = "gzip"
		}, "headers"},
		{"bearer and basic", func(c *Config) { c.Auth = Auth{BearerToken: "t", Username: "u"} }, "auth"},
		{"password alone", func(c *Config) { c.Auth = Auth{Password: "p"} }, "auth.username"},
		{"bad compression", func(c *Config) { c.Compression = "zstd" }, "compression"},
		{"bad level", func(c *Config) { c.CompressionLevel = 10 }, "compression_level"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"zero max_body_bytes", func(c *Config) { c.MaxBodyBytes = 0 }, "max_body_bytes"},
		{"tls cert without key", func(c *Config) { c.URL = "https://x/"; c.TLS.CertFile = "c.pem" }, "tls"},
		{"tls on plain http", func(c *Config) { c.TLS.InsecureSkipVerify = true }, "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig().(*Config)
			c.URL = "http://localhost:8080/ingest"
			tt.mutate(c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *component.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("error = %v, want a FieldError for %q", err, tt.field)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestDelivery(t *testing.T) {
	ts := newTestServer(t, false, nil)
	s := newTestSink(t, ts.URL+"/ingest?token=abc", nil)
	if err := send(t, s, events(3)); err != nil {
		t.Fatal(err)
	}
	reqs := ts.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/ingest" {
		t.Errorf("request %s %s", r.method, r.path)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type = %q", ct)
	}
	if r.body != ndjson(3) {
		t.Errorf("body\n%s\nwant\n%s", r.body, ndjson(3))
	}
	if strings.Contains(r.body, "internal-route") {
		t.Errorf("internal field sent: %s", r.body)
	}
}

// retryAfterer is the interface the runtime's retry loop looks for.
type retryAfterer interface{ RetryAfter() time.Duration }

func TestResponseClassification(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		permanent  bool
		ok         bool
		retryAfter time.Duration // 0: no RetryAfter
		contains   []string
	}{
		{name: "200", status: 200, ok: true},
		{name: "204", status: 204, ok: true},
		{name: "400", status: 400, body: `{"error":"mapping conflict on field status"}`, permanent: true,
			contains: []string{"400 Bad Request", "mapping conflict on field status"}},
		{name: "401", status: 401, body: "denied", permanent: true, contains: []string{"401", "check auth"}},
		{name: "404", status: 404, permanent: true, contains: []string{"404 Not Found"}},
		{name: "413", status: 413, permanent: true, contains: []string{"413", "lower max_body_bytes"}},
		{name: "408", status: 408, contains: []string{"408"}},
		{name: "429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "7"}, body: "slow down",
			retryAfter: 7 * time.Second, contains: []string{"429 Too Many Requests", "slow down", "retry after 7s"}},
		{name: "429 with a bad Retry-After", status: 429, header: map[string]string{"Retry-After": "soon"}},
		{name: "429 with a huge Retry-After", status: 429, header: map[string]string{"Retry-After": "86400"}, retryAfter: maxRetryAfter},
		{name: "500", status: 500, body: "boom", contains: []string{"500 Internal Server Error", "boom"}},
		{name: "503 with a Retry-After date", status: 503,
			header:     map[string]string{"Retry-After": time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)},
			retryAfter: 30 * time.Second},
		{name: "301", status: 301, header: map[string]string{"Location": "https://new.example.com/in?key=secret"}, permanent: true,
			contains: []string{"301", "redirects are not followed", "https://new.example.com/in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			s := newTestSink(t, ts.URL, nil)
			err := send(t, s, events(2))
			if tt.ok {
				if err != nil {
					t.Fatalf("error = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("error = nil")
			}
			if got := component.IsPermanent(err); got != tt.permanent {
				t.Fatalf("permanent = %v, want %v (error %v)", got, tt.permanent, err)
			}
			var ra retryAfterer
			switch {
			case tt.retryAfter == 0 && errors.As(err, &ra):
				t.Fatalf("unexpected RetryAfter %v", ra.RetryAfter())
			case tt.retryAfter > 0 && !errors.As(err, &ra):
				t.Fatalf("no RetryAfter in %v", err)
			case tt.retryAfter > 0:
				if d := ra.RetryAfter(); d > tt.retryAfter || d < tt.retryAfter-2*time.Second {
					t.Fatalf("RetryAfter = %v, want about %v", d, tt.retryAfter)
				}
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.status {
				t.Fatalf("no StatusError with code %d in %v", tt.status, err)
			}
			for _, want := range tt.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows a query string: %v", err)
			}
		})
	}
}

func TestLongErrorBodyIsCut(t *testing.T) {
	long := strings.Repeat("x", 2000)
	ts := newTestServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, long, http.StatusBadRequest)
	})
	s := newTestSink(t, ts.URL, nil)
	err := send(t, s, events(1))
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v", err)
	}
	if n := strings.Count(se.Body, "x"); n != maxErrorBody {
		t.Fatalf("error body holds %d bytes of the answer, want %d", n, maxErrorBody)
	}
}

func TestTimeout(t *testing.T) {
	ts := newTestServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	s := newTestSink(t, ts.URL, func(c *Config) { c.Timeout = config.Duration(100 * time.Millisecond) })
	start := time.Now()
	err := send(t, s, events(1))
	if err == nil || component.IsPermanent(err) {
		t.Fatalf("error = %v, want retryable", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	s := newTestSink(t, url, nil)
	err := send(t, s, events(1))
	if err == nil || component.IsPermanent(err) {
		t.Fatalf("error = %v, want retryable", err)
	}
}

func TestCanceledContext(t *testing.T) {
	ts := newTestServer(t, false, nil)
	s := newTestSink(t, ts.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := event.NewBatch("test")
	b.Events = append(b.Events, events(1)...)
	defer b.Release()
	err := s.Write(ctx, b)
	if !errors.Is(err, context.Canceled) || component.IsPermanent(err) {
		t.Fatalf("error = %v, want a retryable context.Canceled", err)
	}
}

func TestGzipBody(t *testing.T) {
	ts := newTestServer(t, false, nil)
	s := newTestSink(t, ts.URL, func(c *Config) { c.Compression = "gzip" })
	for range 2 { // the second batch reuses the pooled gzip writer
		if err := send(t, s, events(50)); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range ts.requests() {
		if r.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding = %q", r.header.Get("Content-Encoding"))
		}
		if r.body != ndjson(50) {
			t.Fatalf("decompressed body differs:\n%s", r.body)
		}
		if r.wire >= len(r.body) {
			t.Fatalf("compressed body (%d bytes) not smaller than %d", r.wire, len(r.body))
		}
	}
}

func TestAuthAndHeaders(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(c *Config)
		check func(t *testing.T, r request)
	}{
		{"bearer", func(c *Config) { c.Auth.BearerToken = "tok-123" }, func(t *testing.T, r request) {
			if got := r.header.Get("Authorization"); got != "Bearer tok-123" {
				t.Errorf("Authorization = %q", got)
			}
		}},
		{"basic", func(c *Config) { c.Auth = Auth{Username: "alice", Password: "pw:1"} }, func(t *testing.T, r request) {
			req := http.Request{Header: r.header}
			u, p, ok := req.BasicAuth()
			if !ok || u != "alice" || p != "pw:1" {
				t.Errorf("basic auth = %q %q %v", u, p, ok)
			}
		}},
		{"headers, method and host", func(c *Config) {
			c.Method = "put"
			c.Headers = map[string]string{"x-api-key": "k-1", "Content-Type": "application/json", "Host": "logs.internal"}
		}, func(t *testing.T, r request) {
			if r.method != "PUT" {
				t.Errorf("method = %s", r.method)
			}
			if got := r.header.Get("X-Api-Key"); got != "k-1" {
				t.Errorf("X-Api-Key = %q", got)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if r.host != "logs.internal" {
				t.Errorf("Host = %q", r.host)
			}
			if got := r.header.Get("Authorization"); got != "" {
				t.Errorf("Authorization = %q, want none", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, false, nil)
			s := newTestSink(t, ts.URL, tt.cfg)
			if err := send(t, s, events(1)); err != nil {
				t.Fatal(err)
			}
			reqs := ts.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			tt.check(t, reqs[0])
		})
	}
}

func TestSplitAtMaxBodyBytes(t *testing.T) {
	line := len(ndjson(1)) // every event encodes to the same length
	tests := []struct {
		name        string
		compression string
		maxBody     int
		events      int
		requests    int
	}{
		{"exact fit", "none", 3 * line, 9, 3},
		{"two and a half", "none", 2*line + line/2, 9, 5},
		{"one per request", "none", line, 4, 4},
		{"all in one", "none", 100 * line, 20, 1},
		{"gzip limits the uncompressed body", "gzip", 3 * line, 10, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, false, nil)
			s := newTestSink(t, ts.URL, func(c *Config) {
				c.MaxBodyBytes = config.ByteSize(tt.maxBody)
				c.Compression = tt.compression
			})
			if err := send(t, s, events(tt.events)); err != nil {
				t.Fatal(err)
			}
			reqs := ts.requests()
			if len(reqs) != tt.requests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.requests)
			}
			var all strings.Builder
			for _, r := range reqs {
				if len(r.body) > tt.maxBody {
					t.Errorf("body of %d bytes over max_body_bytes %d", len(r.body), tt.maxBody)
				}
				all.WriteString(r.body)
			}
			if all.String() != ndjson(tt.events) {
				t.Fatalf("bodies together:\n%s\nwant\n%s", all.String(), ndjson(tt.events))
			}
		})
	}
}

func TestOversizedEvent(t *testing.T) {
	ts := newTestServer(t, false, nil)
	line := len(ndjson(1))
	s := newTestSink(t, ts.URL, func(c *Config) { c.MaxBodyBytes = config.ByteSize(2 * line) })
	evs := events(5)
	evs[2].SetString("message", strings.Repeat("y", 3*line))
	err := send(t, s, evs)
	if !component.IsPermanent(err) || !strings.Contains(err.Error(), "1 of 5 events are larger than max_body_bytes") {
		t.Fatalf("error = %v", err)
	}
	var got strings.Builder
	for _, r := range ts.requests() {
		got.WriteString(r.body)
	}
	if n := strings.Count(got.String(), "\n"); n != 4 {
		t.Fatalf("%d events delivered, want the 4 others:\n%s", n, got.String())
	}
	if strings.Contains(got.String(), "yyy") {
		t.Fatal("oversized event was sent")
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	const (
		token  = "tok-very-secret-1"
		apiKey = "key-very-secret-2"
	)
	// A server that echoes the request headers in its error answer.
	ts := newTestServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		r.Header.Write(w)
	})
	cases := []struct {
		name string
		url  string
		cfg  func(c *Config)
	}{
		{"bearer echoed", ts.URL, func(c *Config) {
			c.Auth.BearerToken = token
			c.Headers = map[string]string{"X-Api-Key": apiKey}
		}},
		{"basic echoed", ts.URL, func(c *Config) { c.Auth = Auth{Username: "bob", Password: token} }},
		{"network error", "http://127.0.0.1:1/in?api_key=" + apiKey, func(c *Config) {
			c.Auth.BearerToken = token
			c.Headers = map[string]string{"X-Api-Key": apiKey}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSink(t, tc.url, tc.cfg)
			err := send(t, s, events(1))
			if err == nil {
				t.Fatal("error = nil")
			}
			msg := err.Error()
			for _, secret := range []string{token, apiKey, "Ym9iOnRvay"} {
				if strings.Contains(msg, secret) {
					t.Fatalf("error shows secret %q: %s", secret, msg)
				}
			}
			t.Logf("error: %s", msg)
		})
	}
}

func TestTLS(t *testing.T) {
	ts := newTestServer(t, true, nil)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("trusted ca", func(t *testing.T) {
		s := newTestSink(t, ts.URL, func(c *Config) { c.TLS.CAFile = caFile })
		if err := send(t, s, events(2)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unknown ca is retryable", func(t *testing.T) {
		s := newTestSink(t, ts.URL, nil)
		err := send(t, s, events(2))
		if err == nil || component.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("error = %v, want a retryable certificate error", err)
		}
	})
}

func TestConnectionReuse(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	ts := newTestServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		http.Error(w, "retry later", http.StatusServiceUnavailable) // error answers too
	})
	s := newTestSink(t, ts.URL, nil)
	for range 10 {
		_ = send(t, s, events(3))
	}
	if len(conns) != 1 {
		t.Fatalf("%d connections for 10 sequential requests, want 1", len(conns))
	}
}

func TestBytesOut(t *testing.T) {
	ts := newTestServer(t, false, nil)
	env := componenttest.Env(t, "h1", nil)
	c := NewConfig().(*Config)
	c.URL = ts.URL
	s, err := newSink(c, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := send(t, s, events(3)); err != nil {
		t.Fatal(err)
	}
	fams, _ := env.Metrics.Registry().Gather()
	var got float64
	for _, f := range fams {
		if f.GetName() == "sluice_destination_bytes_out_total" {
			got = f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if int(got) != len(ndjson(3)) {
		t.Fatalf("bytes out = %v, want %d", got, len(ndjson(3)))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in string
		d  time.Duration
		ok bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"99999999999999", maxRetryAfter, true},
		{"Fri, 14 Mar 2025 10:00:45 GMT", 45 * time.Second, true},
		{"Fri, 14 Mar 2025 09:00:00 GMT", 0, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		d, ok := parseRetryAfter(tt.in, now)
		if d != tt.d || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, d, ok, tt.d, tt.ok)
		}
	}
}

func TestConcurrentWrites(t *testing.T) {
	ts := newTestServer(t, false, nil)
	s := newTestSink(t, ts.URL, func(c *Config) {
		c.Compression = "gzip"
		c.MaxBodyBytes = 1 << 10
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if err := send(t, s, events(20)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var lines int
	for _, r := range ts.requests() {
		lines += strings.Count(r.body, "\n")
	}
	if lines != 4*5*20 {
		t.Fatalf("%d events arrived, want %d", lines, 4*5*20)
	}
}

// TestEarlyAnswer has the server answer before it reads the body, so the
// transport may still be writing the body when the response arrives; the
// race detector checks that the sink does not reuse the buffer meanwhile.
func TestEarlyAnswer(t *testing.T) {
	for _, compression := range []string{"none", "gzip"} {
		t.Run(compression, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			}))
			defer srv.Close()
			s := newTestSink(t, srv.URL, func(c *Config) { c.Compression = compression; c.CompressionLevel = 1 })
			evs := events(20000) // about 1.6MB of NDJSON
			for range 5 {
				err := send(t, s, evs)
				if err == nil {
					t.Fatal("error = nil")
				}
				// The server may also reset the connection mid-body, which
				// is a retryable network error; both are fine here.
			}
		})
	}
}
