// Package http implements the http destination: it sends batches as NDJSON
// request bodies (one JSON object per line, internal fields left out) to an
// HTTP endpoint, optionally gzip-compressed, splitting batches larger than
// max_body_bytes into several requests.
//
// Answers are classified for the runtime's retry loop: 2xx is delivered;
// 408, 429, 5xx and network errors (refused, reset, timed out, TLS) are
// retryable, and a Retry-After header is exposed through RetryAfterError;
// every other status (other 4xx, redirects, which are not followed) is a
// component.Permanent error carrying the status and the start of the
// response body. Header values and credentials never appear in logs or
// error messages, and URLs in errors lose their query string.
//
// A batch split into several requests is sent in order and stops at the
// first failure; the retry sends the whole batch again, so the requests
// that had succeeded are duplicated (at-least-once delivery).
package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Spec registers the http destination.
var Spec = component.DestinationSpec{
	Type: "http",
	Doc: "Sends batches as NDJSON request bodies (internal fields left out) to an http or https URL, " +
		"with optional headers, bearer or basic auth, gzip compression and TLS settings. Batches larger " +
		"than max_body_bytes are split into several requests. 2xx is success; 408, 429, 5xx and network " +
		"errors are retried (honouring Retry-After); other statuses are permanent failures.",
	NewConfig: NewConfig,
	Build:     build,
}

func build(cfg any, env component.Env) (component.Sink, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("http: config is %T, want *http.Config", cfg)
	}
	return newSink(c, env)
}

// Keep-alive connection tuning. A destination usually talks to one host, so
// the per-host idle limit matters; it is above the runtime's concurrency so
// no request waits for a connection to close and reopen.
const (
	maxIdleConns    = 32
	idleConnTimeout = 90 * time.Second
	dialTimeout     = 10 * time.Second
	// maxDrain is how much of a response body is read to let the
	// connection be reused; a longer body closes the connection instead.
	maxDrain = 256 << 10
	// maxKeptBuffer is the largest buffer kept between batches.
	maxKeptBuffer = 16 << 20
)

// sink sends batches. Write may be called from several goroutines (the
// runtime's concurrency option): per-call state comes from a pool.
type sink struct {
	url      string // as configured, for requests
	safeURL  string // without query or user info, for errors
	method   string
	host     string // Host header override, when configured
	header   http.Header
	gzip     bool
	level    int
	timeout  time.Duration
	maxBody  int
	client   *http.Client
	tr       *http.Transport
	redactor *redactor
	metrics  *metrics.Destination

	states sync.Pool // *encodeState
}

// encodeState is the scratch space of one Write call.
type encodeState struct {
	buf  []byte
	z    appendWriter
	gz   *gzip.Writer
	lent bool // buf went to the transport and may still be read by it
}

func newSink(c *Config, env component.Env) (*sink, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, errors.New("http: url: not a valid URL")
	}
	s := &sink{
		url:     c.URL,
		safeURL: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(),
		method:  strings.ToUpper(c.Method),
		header:  make(http.Header, len(c.Headers)+4),
		gzip:    c.Compression == "gzip",
		level:   c.CompressionLevel,
		timeout: c.Timeout.D(),
		maxBody: int(c.MaxBodyBytes),
	}
	if env.Metrics != nil {
		s.metrics = env.Metrics.Destination(env.Name)
	}

	secrets := []string{c.Auth.BearerToken, c.Auth.Password}
	s.header.Set("Content-Type", "application/x-ndjson")
	s.header.Set("User-Agent", "sluice")
	for name, value := range c.Headers {
		if http.CanonicalHeaderKey(name) == "Host" {
			s.host = value
			continue
		}
		s.header.Set(name, value)
		secrets = append(secrets, value)
	}
	switch {
	case c.Auth.BearerToken != "":
		s.header.Set("Authorization", "Bearer "+c.Auth.BearerToken)
	case c.Auth.Username != "":
		cred := base64.StdEncoding.EncodeToString([]byte(c.Auth.Username + ":" + c.Auth.Password))
		s.header.Set("Authorization", "Basic "+cred)
		secrets = append(secrets, cred)
	}
	if s.gzip {
		s.header.Set("Content-Encoding", "gzip")
	}
	s.redactor = newRedactor(secrets...)

	s.tr = &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(dialTimeout, s.timeout), KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConns,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   min(dialTimeout, s.timeout),
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       64 << 10,
	}
	if u.Scheme == "https" {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("http: tls: %w", err)
		}
		s.tr.TLSClientConfig = tc
	}
	s.client = &http.Client{
		Transport: s.tr,
		// A redirect would turn a POST into a GET (301-303) and silently
		// drop the body; report it instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

func (s *sink) getState() (*encodeState, error) {
	if st, ok := s.states.Get().(*encodeState); ok {
		return st, nil
	}
	st := &encodeState{}
	if s.gzip {
		gz, err := gzip.NewWriterLevel(&st.z, s.level)
		if err != nil {
			return nil, fmt.Errorf("http: %w", err)
		}
		st.gz = gz
	}
	return st, nil
}

func (s *sink) putState(st *encodeState) {
	if cap(st.buf) > maxKeptBuffer || st.lent {
		st.buf, st.lent = nil, false
	}
	if cap(st.z.b) > maxKeptBuffer {
		st.z.b = nil
	}
	s.states.Put(st)
}

// Write sends b as one or more NDJSON requests of at most max_body_bytes.
// Events that alone exceed max_body_bytes are skipped and reported as one
// permanent error once the rest are delivered.
func (s *sink) Write(ctx context.Context, b *event.Batch) error {
	st, err := s.getState()
	if err != nil {
		return err
	}
	defer s.putState(st)

	buf := st.buf[:0]
	oversized := 0
	for i := range b.Events {
		mark := len(buf)
		buf = event.AppendJSON(buf, &b.Events[i], false)
		buf = append(buf, '\n')
		if len(buf) <= s.maxBody {
			continue
		}
		if mark > 0 {
			// Send what fits; this event starts the next body.
			st.buf = buf
			if err := s.send(ctx, st, buf[:mark]); err != nil {
				return err
			}
			if st.lent {
				buf = append(make([]byte, 0, cap(buf)), buf[mark:]...)
				st.lent = false
			} else {
				buf = buf[:copy(buf, buf[mark:])]
			}
		}
		if len(buf) > s.maxBody {
			oversized++
			buf = buf[:0]
		}
	}
	st.buf = buf
	if len(buf) > 0 {
		if err := s.send(ctx, st, buf); err != nil {
			return err
		}
	}
	if oversized > 0 {
		return component.Permanent(fmt.Errorf("http: %d of %d events are larger than max_body_bytes (%d bytes) on their own and were not sent",
			oversized, len(b.Events), s.maxBody))
	}
	return nil
}

// send makes one request with body ndjson (compressed when configured). If
// the transport may still hold the body when send returns (it can go on
// reading after the response arrived), the buffer is marked as lent and not
// reused.
func (s *sink) send(ctx context.Context, st *encodeState, ndjson []byte) error {
	body := ndjson
	if s.gzip {
		st.z.b = st.z.b[:0]
		st.gz.Reset(&st.z)
		// Writes to an appendWriter cannot fail.
		_, _ = st.gz.Write(ndjson)
		_ = st.gz.Close()
		body = st.z.b
	}
	rb := &requestBody{data: body}
	err := s.do(ctx, rb)
	if rb.open.Load() != 0 {
		if s.gzip {
			st.z.b = nil
		} else {
			st.lent = true
		}
	}
	return err
}

func (s *sink) do(ctx context.Context, rb *requestBody) error {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, s.method, s.url, nil)
	if err != nil {
		return component.Permanent(fmt.Errorf("http: %s %s: %w", s.method, s.safeURL, err))
	}
	req.Header = s.header.Clone()
	if s.host != "" {
		req.Host = s.host
	}
	req.Body = rb.reader()
	req.GetBody = func() (io.ReadCloser, error) { return rb.reader(), nil }
	req.ContentLength = int64(len(rb.data))

	resp, err := s.client.Do(req)
	if err != nil {
		return s.requestError(ctx, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The server took the body and answered 2xx: the events are
		// delivered even if reading the rest of the answer fails.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		resp.Body.Close()
		if s.metrics != nil {
			s.metrics.BytesOut.Add(float64(len(rb.data)))
		}
		return nil
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, readErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	return s.statusError(resp, head)
}

// statusError classifies a non-2xx answer.
func (s *sink) statusError(resp *http.Response, head []byte) error {
	se := &StatusError{Method: s.method, URL: s.safeURL, Code: resp.StatusCode, Body: s.redactor.errorBody(head)}
	switch {
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		se.Hint = "lower max_body_bytes"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		se.Hint = "check auth and headers"
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		se.Hint = "redirects are not followed; set url to the new location"
		if loc, err := resp.Location(); err == nil {
			se.Hint += " " + (&url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}).String()
		}
	}
	if !retryableStatus(resp.StatusCode) {
		return component.Permanent(fmt.Errorf("http: %w", se))
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return &RetryAfterError{After: d, Err: fmt.Errorf("http: %w", se)}
	}
	return fmt.Errorf("http: %w", se)
}

// requestError turns a failed round trip into a retryable error that names
// the request without its query string.
func (s *sink) requestError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("http: %s %s: %w", s.method, s.safeURL, ctxErr)
	}
	// url.Error repeats the full URL; keep only the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http: %s %s: no answer within timeout %v: %w", s.method, s.safeURL, s.timeout, err)
	}
	return &redactedError{
		msg: fmt.Sprintf("http: %s %s: %s", s.method, s.safeURL, s.redactor.redact(err.Error())),
		err: err,
	}
}

// redactedError carries a cause whose text went through the redactor, and
// keeps the cause for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Close closes idle connections. It is safe to call twice.
func (s *sink) Close(context.Context) error {
	s.tr.CloseIdleConnections()
	return nil
}

// requestBody is a request body shared by the reader the request starts
// with and those the transport asks for through GetBody when it resends
// (after a stale keep-alive connection, say). open counts readers not yet
// closed: the transport closes each one when done, possibly after the
// response has been returned.
type requestBody struct {
	data []byte
	open atomic.Int32
}

func (rb *requestBody) reader() io.ReadCloser {
	rb.open.Add(1)
	r := &bodyReader{rb: rb}
	r.Reset(rb.data)
	return r
}

type bodyReader struct {
	bytes.Reader
	rb     *requestBody
	closed atomic.Bool
}

func (r *bodyReader) Close() error {
	if r.closed.CompareAndSwap(false, true) {
		r.rb.open.Add(-1)
	}
	return nil
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
