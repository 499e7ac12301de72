package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness is a started source with a client that talks to it.
type harness struct {
	t      *testing.T
	src    *source
	url    string
	client *nethttp.Client
	coll   *componenttest.Collector
	env    component.Env
	// stopErrOK is set by tests that make Stop fail on purpose.
	stopErrOK bool
}

// start builds and starts a source on 127.0.0.1:0. setup may change the
// config and the collector before anything runs.
func start(t *testing.T, setup func(*Config, *componenttest.Collector)) *harness {
	t.Helper()
	cfg := NewConfig()
	cfg.Address = "127.0.0.1:0"
	coll := componenttest.NewCollector()
	if setup != nil {
		setup(cfg, coll)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	env := componenttest.Env(t, "http_in", coll)
	s, err := Spec.Build(cfg, env)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	src := s.(*source)
	tr := &nethttp.Transport{}
	h := &harness{t: t, src: src, coll: coll, env: env, client: &nethttp.Client{Transport: tr, Timeout: 10 * time.Second}}
	scheme := "http"
	if cfg.TLS.Enabled {
		scheme = "https"
	}
	h.url = scheme + "://" + src.Addr().String()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil && !h.stopErrOK {
			t.Errorf("Stop: %v", err)
		}
	})
	return h
}

func cfgDuration(d time.Duration) config.Duration { return config.Duration(d) }

type response struct {
	status int
	header nethttp.Header
	body   map[string]any
	raw    string
}

// do sends a request; headers are name, value pairs.
func (h *harness) do(method, path string, body []byte, headers ...string) response {
	h.t.Helper()
	req, err := nethttp.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(req)
}

func (h *harness) send(req *nethttp.Request) response {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		h.t.Fatalf("response %d is not JSON: %q", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("Content-Type %q", ct)
	}
	return r
}

func (h *harness) post(body string, headers ...string) response {
	h.t.Helper()
	return h.do("POST", "/", []byte(body), headers...)
}

func (r response) wantAccepted(t *testing.T, n int) {
	t.Helper()
	if r.status != 200 || r.body["accepted"] != float64(n) {
		t.Fatalf("got %d %s, want 200 {\"accepted\":%d}", r.status, r.raw, n)
	}
}

func (r response) wantError(t *testing.T, status int, contains string) {
	t.Helper()
	msg, _ := r.body["error"].(string)
	if r.status != status || !strings.Contains(msg, contains) {
		t.Fatalf("got %d %s, want %d with error containing %q", r.status, r.raw, status, contains)
	}
}

// counter reads a counter of the source's metrics registry.
func counter(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, mt := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(mt, labels[i], labels[i+1]) {
					continue next
				}
			}
			return mt.GetCounter().GetValue()
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func messages(evs []event.Event) []string {
	var out []string
	for i := range evs {
		out = append(out, evs[i].Message())
	}
	return out
}

func TestFormats(t *testing.T) {
	h := start(t, nil)
	tests := []struct {
		name string
		ct   string
		body string
		want []string // messages, in order
		tags []bool   // events tagged _jsonparsefailure
	}{
		{"ndjson", "application/x-ndjson", "{\"message\":\"a\"}\n{\"message\":\"b\"}\n", []string{"a", "b"}, nil},
		{"ndjson crlf and blank lines", "application/x-ndjson", "\r\n{\"message\":\"a\"}\r\n\r\n  \n{\"message\":\"b\"}", []string{"a", "b"}, nil},
		{"ndjson sniffed", "", "{\"message\":\"a\"}\n{\"message\":\"b\"}", []string{"a", "b"}, nil},
		{"ndjson as application/json", "application/json; charset=utf-8", "{\"message\":\"a\"}\n{\"message\":\"b\"}", []string{"a", "b"}, nil},
		{"array", "application/json", ` [ {"message":"a"} , {"message":"b","n":[1,{"x":"]"}]} ] `, []string{"a", "b"}, nil},
		{"array sniffed", "application/octet-stream", `[{"message":"a"},{"message":"b"}]`, []string{"a", "b"}, nil},
		{"empty array", "application/json", `[]`, nil, nil},
		{"single object pretty", "application/json", "{\n  \"message\": \"a\",\n  \"k\": {\"x\": 1}\n}\n", []string{"a"}, nil},
		{"text", "text/plain", "line one\r\n  indented\n\n", []string{"line one", "  indented"}, nil},
		{"text keeps json raw", "text/plain", "{\"message\":\"a\"}", []string{`{"message":"a"}`}, nil},
		{"text sniffed bracket lines", "", "[INFO] started\n[WARN] slow", []string{"[INFO] started", "[WARN] slow"}, nil},
		{"other content type is text", "application/xml", "<a/>", []string{"<a/>"}, nil},
		{"bad json kept raw", "application/x-ndjson", "{\"message\":\"a\"}\n{broken\nnot json\n{\"message\":\"b\"}", []string{"a", "{broken", "not json", "b"}, []bool{false, true, true, false}},
		{"array with bad element", "application/json", `[{"message":"a"},{"m":}]`, []string{"a", `{"m":}`}, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.coll.Events())
			h.post(tt.body, "Content-Type", tt.ct).wantAccepted(t, len(tt.want))
			evs := h.coll.Events()[before:]
			if got := messages(evs); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("messages %q, want %q", got, tt.want)
			}
			for i := range evs {
				wantTag := tt.tags != nil && tt.tags[i]
				if evs[i].HasTag(tagJSONParseFailure) != wantTag {
					t.Errorf("event %d: tagged %v, want %v", i, !wantTag, wantTag)
				}
				if evs[i].Time.IsZero() {
					t.Errorf("event %d has no time", i)
				}
			}
		})
	}
}

func TestParsedFields(t *testing.T) {
	h := start(t, nil)
	before := time.Now()
	h.post(`{"@timestamp":"2024-01-02T03:04:05Z","kubernetes":{"pod":{"name":"web-1"}},"status":200}`+"\n"+
		`{"message":"no time"}`).wantAccepted(t, 2)
	evs := h.coll.Events()
	if got := evs[0].Time; !got.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("time from @timestamp: %v", got)
	}
	if v, _ := evs[0].GetString("kubernetes.pod.name"); v != "web-1" {
		t.Errorf("kubernetes.pod.name = %q", v)
	}
	if v, _ := evs[0].Lookup("status"); v.Interface() != int64(200) {
		t.Errorf("status = %#v", v.Interface())
	}
	if evs[1].Time.Before(before) || evs[1].Time.After(time.Now()) {
		t.Errorf("receive time %v not now", evs[1].Time)
	}
	h.coll.WaitFor(t, 2, time.Second)
	if got := h.coll.Batches(); got != 1 {
		t.Errorf("%d batches", got)
	}
}

func TestBadLinesCounted(t *testing.T) {
	h := start(t, nil)
	h.post("{\"a\":1}\n{\"a\":\n{\"a\":2}\n[1,2]\n", "Content-Type", "application/x-ndjson").wantAccepted(t, 4)
	m := h.env.Metrics
	if got := counter(t, m, "sluice_source_errors_total", "source", "http_in", "reason", "parse"); got != 2 {
		t.Errorf("parse errors = %v, want 2", got)
	}
	if got := counter(t, m, "sluice_source_events_in_total", "source", "http_in"); got != 4 {
		t.Errorf("events in = %v, want 4", got)
	}
}

func TestEmptyBody(t *testing.T) {
	h := start(t, nil)
	h.post("").wantAccepted(t, 0)
	h.post(" \n\r\n ", "Content-Type", "application/x-ndjson").wantAccepted(t, 0)
	h.post("", "Content-Encoding", "gzip").wantAccepted(t, 0)
	if n := h.coll.Batches(); n != 0 {
		t.Errorf("%d batches for empty bodies", n)
	}
}

func TestManyBatchesOneAck(t *testing.T) {
	h := start(t, func(_ *Config, c *componenttest.Collector) { c.Hold = true })
	var body strings.Builder
	for i := range 2500 {
		fmt.Fprintf(&body, "{\"i\":%d}\n", i)
	}
	done := make(chan response, 1)
	go func() { done <- h.post(body.String()) }()
	h.coll.WaitFor(t, 2500, 5*time.Second)
	if n := h.coll.Batches(); n != 3 {
		t.Errorf("%d batches, want 3", n)
	}
	select {
	case r := <-done:
		t.Fatalf("answered %d before the acknowledgement", r.status)
	case <-time.After(200 * time.Millisecond):
	}
	h.coll.Release(event.Delivered)
	(<-done).wantAccepted(t, 2500)
}

func TestAckStatus(t *testing.T) {
	tests := []struct {
		status     event.Status
		code       int
		retryAfter bool
	}{
		{event.Delivered, 200, false},
		{event.Errored, 503, true},
		{event.Rejected, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.status.String(), func(t *testing.T) {
			h := start(t, func(_ *Config, c *componenttest.Collector) { c.Status = tt.status })
			r := h.post("hello")
			if r.status != tt.code {
				t.Fatalf("got %d %s, want %d", r.status, r.raw, tt.code)
			}
			if got := r.header.Get("Retry-After") != ""; got != tt.retryAfter {
				t.Errorf("Retry-After present = %v", got)
			}
			if tt.code != 200 && r.body["error"] == nil {
				t.Errorf("no error message: %s", r.raw)
			}
		})
	}
}

func TestAckTimeout(t *testing.T) {
	h := start(t, func(c *Config, coll *componenttest.Collector) {
		c.AckTimeout = cfgDuration(100 * time.Millisecond)
		coll.Hold = true
	})
	r := h.post("hello")
	r.wantError(t, 503, "timed out")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	h.coll.Release(event.Delivered) // a late ack must not block or panic
}

func TestBackpressure(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) {
		c.BackpressureTimeout = cfgDuration(50 * time.Millisecond)
	})
	h.coll.SetBlock(true)
	var body strings.Builder
	for range 1500 { // two batches: the second must be released too
		body.WriteString("line\n")
	}
	r := h.post(body.String())
	r.wantError(t, 429, "backpressure")
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q", got)
	}
	h.coll.SetBlock(false)
	h.post("after").wantAccepted(t, 1)
}

func TestCompression(t *testing.T) {
	h := start(t, nil)
	plain := []byte("{\"message\":\"a\"}\n{\"message\":\"b\"}\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(plain, nil)
	enc.Close()

	tests := []struct {
		name, encoding string
		body           []byte
	}{
		{"gzip", "gzip", gz.Bytes()},
		{"x-gzip", "x-gzip", gz.Bytes()},
		{"zstd", "zstd", zs},
		{"identity", "identity", plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.coll.Events())
			h.do("POST", "/", tt.body, "Content-Encoding", tt.encoding).wantAccepted(t, 2)
			if got := messages(h.coll.Events()[before:]); fmt.Sprint(got) != "[a b]" {
				t.Errorf("messages %q", got)
			}
		})
	}
	t.Run("corrupt gzip", func(t *testing.T) {
		h.do("POST", "/", []byte("not gzip at all"), "Content-Encoding", "gzip").wantError(t, 400, "gzip")
	})
	t.Run("corrupt zstd", func(t *testing.T) {
		h.do("POST", "/", []byte("not zstd at all"), "Content-Encoding", "zstd").wantError(t, 400, "zstd")
	})
	t.Run("unsupported", func(t *testing.T) {
		h.do("POST", "/", plain, "Content-Encoding", "br").wantError(t, 415, "Content-Encoding")
	})
}

func TestZipBomb(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) { c.MaxBodyBytes = 1 << 20 })
	big := bytes.Repeat([]byte("aaaaaaaaaaaaaaa\n"), (8<<20)/16) // 8 MiB, compresses to a few KiB
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(big, nil)
	enc.Close()
	if gz.Len() > 64<<10 || len(zs) > 64<<10 {
		t.Fatalf("compressed sizes %d, %d: not a bomb", gz.Len(), len(zs))
	}
	h.do("POST", "/", gz.Bytes(), "Content-Encoding", "gzip").wantError(t, 413, "max_body_bytes")
	h.do("POST", "/", zs, "Content-Encoding", "zstd").wantError(t, 413, "max_body_bytes")
	if got := counter(t, h.env.Metrics, "sluice_source_errors_total", "reason", "oversized"); got != 2 {
		t.Errorf("oversized = %v, want 2", got)
	}
	if n := len(h.coll.Events()); n != 0 {
		t.Errorf("%d events from a bomb", n)
	}
}

func TestOversizedBody(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) { c.MaxBodyBytes = 1000 })
	body := bytes.Repeat([]byte("x"), 1001)
	t.Run("content-length", func(t *testing.T) {
		h.do("POST", "/", body).wantError(t, 413, "max_body_bytes")
	})
	t.Run("chunked", func(t *testing.T) {
		req, _ := nethttp.NewRequest("POST", h.url+"/", io.MultiReader(bytes.NewReader(body))) // unknown length
		h.send(req).wantError(t, 413, "max_body_bytes")
	})
	t.Run("exactly the limit", func(t *testing.T) {
		h.do("POST", "/", body[:1000]).wantAccepted(t, 1)
	})
	if got := counter(t, h.env.Metrics, "sluice_source_errors_total", "reason", "oversized"); got != 2 {
		t.Errorf("oversized = %v, want 2", got)
	}
}

func TestLongLineTruncated(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) { c.MaxLineBytes = 8 })
	h.post("short\n0123456789abc\n{\"message\":\"long json\"}\n", "Content-Type", "application/x-ndjson").wantAccepted(t, 3)
	evs := h.coll.Events()
	if got := messages(evs); fmt.Sprint(got) != "[short 01234567 {\"messag]" {
		t.Errorf("messages %q", got)
	}
	if !evs[1].HasTag(tagTruncated) || !evs[2].HasTag(tagTruncated) {
		t.Error("long lines not tagged _truncated")
	}
	if got := counter(t, h.env.Metrics, "sluice_source_errors_total", "reason", "oversized_line"); got != 2 {
		t.Errorf("oversized_line = %v, want 2", got)
	}
}

func TestAuth(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) { c.AuthTokens = []string{"s3cret", "other-token"} })
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"none", "", 401},
		{"wrong", "Bearer nope", 401},
		{"prefix of token", "Bearer s3cre", 401},
		{"basic", "Basic czNjcmV0", 401},
		{"scheme only", "Bearer ", 401},
		{"good", "Bearer s3cret", 200},
		{"lowercase scheme", "bearer s3cret", 200},
		{"second token", "Bearer other-token", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.header != "" {
				hdr = []string{"Authorization", tt.header}
			}
			r := h.post("hello", hdr...)
			if r.status != tt.want {
				t.Fatalf("got %d %s, want %d", r.status, r.raw, tt.want)
			}
			if tt.want == 401 {
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate")
				}
				if strings.Contains(r.raw, "s3cret") || strings.Contains(r.raw, "nope") {
					t.Errorf("response echoes a token: %s", r.raw)
				}
			}
		})
	}
}

func TestMethodAndPath(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) { c.Path = "/ingest" })
	r := h.do("GET", "/ingest", nil)
	r.wantError(t, 405, "POST")
	if got := r.header.Get("Allow"); got != "POST, PUT" {
		t.Errorf("Allow %q", got)
	}
	h.do("POST", "/other", []byte("x")).wantError(t, 404, "/ingest")
	h.do("POST", "/ingest", []byte("x")).wantAccepted(t, 1)
	h.do("PUT", "/ingest", []byte("y")).wantAccepted(t, 1)

	any := start(t, nil)
	any.do("POST", "/some/where", []byte("x")).wantAccepted(t, 1)
	any.do("DELETE", "/", nil).wantError(t, 405, "DELETE")
}

func TestMaxConnections(t *testing.T) {
	h := start(t, func(c *Config, _ *componenttest.Collector) { c.MaxConnections = 1 })
	// Hold the only slot with an idle connection.
	conn, err := net.Dial("tcp", h.src.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// Make sure the server accepted it before the second client dials.
	waitFor(t, func() bool { return gauge(t, h.env.Metrics) == 1 })

	done := make(chan response, 1)
	go func() { done <- h.post("hello") }()
	select {
	case r := <-done:
		t.Fatalf("second connection served (%d) while the limit was reached", r.status)
	case <-time.After(300 * time.Millisecond):
	}
	conn.Close()
	(<-done).wantAccepted(t, 1)
	if got := counter(t, h.env.Metrics, "sluice_source_errors_total", "reason", "too_many_connections"); got < 1 {
		t.Errorf("too_many_connections = %v", got)
	}
}

func gauge(t *testing.T, m *metrics.Metrics) float64 {
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sluice_source_connections" {
			for _, mt := range mf.GetMetric() {
				return mt.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	h := start(t, func(c *Config, _ *componenttest.Collector) {
		c.TLS.Enabled = true
		c.TLS.CertFile = certFile
		c.TLS.KeyFile = keyFile
	})
	h.client.Transport = &nethttp.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer h.client.CloseIdleConnections()
	req, _ := nethttp.NewRequest("POST", h.url+"/", strings.NewReader("over tls"))
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("got %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
	if got := messages(h.coll.Events()); fmt.Sprint(got) != "[over tls]" {
		t.Errorf("messages %q", got)
	}
}

func TestStop(t *testing.T) {
	t.Run("twice and before start", func(t *testing.T) {
		s, err := Spec.Build(NewConfig(), componenttest.Env(t, "x", componenttest.NewCollector()))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		h := start(t, nil)
		for range 2 {
			if err := h.src.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := net.Dial("tcp", h.src.Addr().String()); err == nil {
			t.Error("port still accepts after Stop")
		}
	})
	t.Run("waits for in-flight acks", func(t *testing.T) {
		h := start(t, func(_ *Config, c *componenttest.Collector) { c.Hold = true })
		done := make(chan response, 1)
		go func() { done <- h.post("in flight") }()
		h.coll.WaitFor(t, 1, 5*time.Second)
		stopped := make(chan error, 1)
		go func() { stopped <- h.src.Stop(context.Background()) }()
		select {
		case <-stopped:
			t.Fatal("Stop returned with a request in flight")
		case <-time.After(100 * time.Millisecond):
		}
		h.coll.Release(event.Delivered)
		(<-done).wantAccepted(t, 1)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deadline cancels waiting requests", func(t *testing.T) {
		h := start(t, func(_ *Config, c *componenttest.Collector) { c.Hold = true })
		h.stopErrOK = true
		errc := make(chan error, 1)
		go func() {
			resp, err := h.client.Post(h.url, "text/plain", strings.NewReader("stuck"))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 503 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			errc <- err // a closed connection is fine too
		}()
		h.coll.WaitFor(t, 1, 5*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := h.src.Stop(ctx); err == nil {
			t.Error("Stop met its deadline with a request stuck; want an error")
		}
		if err := <-errc; err != nil && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
			t.Errorf("client: %v", err)
		}
		h.coll.Release(event.Delivered)
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"defaults", func(*Config) {}, ""},
		{"empty address", func(c *Config) { c.Address = "" }, "address"},
		{"no port", func(c *Config) { c.Address = "localhost" }, "address"},
		{"bad port", func(c *Config) { c.Address = ":http2" }, "address"},
		{"path", func(c *Config) { c.Path = "ingest" }, "path"},
		{"max body", func(c *Config) { c.MaxBodyBytes = 0 }, "max_body_bytes"},
		{"max line", func(c *Config) { c.MaxLineBytes = -1 }, "max_line_bytes"},
		{"max connections", func(c *Config) { c.MaxConnections = 0 }, "max_connections"},
		{"read header timeout", func(c *Config) { c.ReadHeaderTimeout = 0 }, "read_header_timeout"},
		{"read timeout", func(c *Config) { c.ReadTimeout = -1 }, "read_timeout"},
		{"idle timeout", func(c *Config) { c.IdleTimeout = -1 }, "idle_timeout"},
		{"ack timeout", func(c *Config) { c.AckTimeout = 0 }, "ack_timeout"},
		{"backpressure timeout", func(c *Config) { c.BackpressureTimeout = 0 }, "backpressure_timeout"},
		{"empty token", func(c *Config) { c.AuthTokens = []string{"ok", ""} }, "auth_tokens"},
		{"tls without files", func(c *Config) { c.TLS.Enabled = true }, "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			tt.edit(c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			fe, ok := err.(*component.FieldError)
			if !ok || fe.Field != tt.field {
				t.Fatalf("got %v, want an error on %q", err, tt.field)
			}
		})
	}
	if got := NewConfig().Addresses(); len(got) != 1 || got[0] != (component.Address{Network: "tcp", Address: ":10080"}) {
		t.Errorf("Addresses %v", got)
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := NewConfig()
	cfg.Address = ln.Addr().String()
	s, err := Spec.Build(cfg, componenttest.Env(t, "busy", componenttest.NewCollector()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("Start on a busy port: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	c := componenttest.SelfSigned(t)
	return c.CertFile, c.KeyFile, c.Pool
}
