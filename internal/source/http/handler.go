package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// ServeHTTP handles one ingest request: check, read, split into batches,
// hand them to the pipeline and answer once they are acknowledged.
func (s *source) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.cfg.Path != "/" && r.URL.Path != s.cfg.Path {
		writeError(w, nethttp.StatusNotFound, "no ingest endpoint at "+r.URL.Path+": send to "+s.cfg.Path)
		return
	}
	if r.Method != nethttp.MethodPost && r.Method != nethttp.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		writeError(w, nethttp.StatusMethodNotAllowed, "method "+r.Method+" not allowed: send logs with POST or PUT")
		return
	}
	if len(s.tokens) > 0 && !s.authorized(r) {
		s.metrics.Error("unauthorized", 1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
		writeError(w, nethttp.StatusUnauthorized, "missing or invalid bearer token (send Authorization: Bearer TOKEN)")
		return
	}

	body, status, err := s.readBody(w, r)
	if err != nil {
		switch status {
		case nethttp.StatusRequestEntityTooLarge:
			s.metrics.Error("oversized", 1)
		case nethttp.StatusUnsupportedMediaType:
			s.metrics.Error("unsupported_encoding", 1)
		default:
			s.metrics.Error("read", 1)
		}
		s.log.Debug("http source refused a request", "remote", r.RemoteAddr, "status", status, "error", err)
		writeError(w, status, err.Error())
		return
	}

	out := batcher{source: s.name, max: maxBatchEvents}
	st, err := parseBody(body, r.Header.Get("Content-Type"), time.Now(), int(s.cfg.MaxLineBytes), &out)
	if err != nil {
		s.metrics.Error("parse", 1)
		writeError(w, nethttp.StatusBadRequest, err.Error())
		return
	}
	if st.parseErrors > 0 {
		s.metrics.Error("parse", st.parseErrors)
	}
	if st.truncated > 0 {
		s.metrics.Error("oversized_line", st.truncated)
	}
	s.metrics.BytesIn.Add(float64(len(body)))
	if st.events == 0 {
		writeAccepted(w, 0)
		return
	}
	s.metrics.EventsIn.Add(float64(st.events))

	status, msg := s.deliver(r.Context(), out.batches)
	switch status {
	case nethttp.StatusOK:
		writeAccepted(w, st.events)
	case nethttp.StatusTooManyRequests, nethttp.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
		writeError(w, status, msg)
	default:
		writeError(w, status, msg)
	}
}

// deliver hands the batches to the pipeline under one Acker and waits for
// its status. It returns the HTTP status to answer and, on failure, why.
func (s *source) deliver(ctx context.Context, batches []*event.Batch) (int, string) {
	acked := make(chan event.Status, 1)
	acker := event.NewAcker(func(st event.Status) { acked <- st })
	// Take every reference before the first Consume: a batch may be
	// acknowledged before the next one is attached.
	acker.Add(len(batches) - 1)

	cctx, cancel := context.WithTimeout(ctx, s.cfg.BackpressureTimeout.D())
	for i, b := range batches {
		b.AddAcker(acker)
		if err := s.out.Consume(cctx, b); err != nil {
			cancel()
			// Consume acknowledged b; the batches not handed over owe
			// their references too.
			for _, rest := range batches[i+1:] {
				acker.Done(event.Errored)
				rest.Release()
			}
			if ctx.Err() != nil {
				// The client went away or the source is stopping, not
				// backpressure.
				return nethttp.StatusServiceUnavailable, "request canceled: retry later"
			}
			s.metrics.Error("backpressure", 1)
			return nethttp.StatusTooManyRequests, "the pipeline is full (backpressure): retry later"
		}
	}
	cancel()

	timer := time.NewTimer(s.cfg.AckTimeout.D())
	defer timer.Stop()
	select {
	case st := <-acked:
		switch st {
		case event.Delivered:
			return nethttp.StatusOK, ""
		case event.Rejected:
			return nethttp.StatusBadRequest, "the events were rejected by a destination; sending them again will not help"
		default:
			return nethttp.StatusServiceUnavailable, "delivery failed: retry later"
		}
	case <-timer.C:
		s.metrics.Error("ack_timeout", 1)
		return nethttp.StatusServiceUnavailable, "timed out after " + s.cfg.AckTimeout.D().String() + " waiting for delivery: retry later"
	case <-ctx.Done():
		// The client went away or the source is stopping.
		return nethttp.StatusServiceUnavailable, "the source is shutting down: retry later"
	}
}

// authorized checks the bearer token in constant time. Tokens are never
// logged.
func (s *source) authorized(r *nethttp.Request) bool {
	h := r.Header.Get("Authorization")
	const scheme = "Bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(h[len(scheme):])))
	ok := 0
	for i := range s.tokens {
		ok |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
	}
	return ok == 1
}

// readBody reads the whole body, decompressed, into one buffer allocated
// for this request: events point into it, so it is never reused. On error
// it returns the HTTP status to answer.
func (s *source) readBody(w nethttp.ResponseWriter, r *nethttp.Request) ([]byte, int, error) {
	limit := int64(s.cfg.MaxBodyBytes)
	if r.ContentLength > limit {
		return nil, nethttp.StatusRequestEntityTooLarge,
			fmt.Errorf("request body of %d bytes is larger than max_body_bytes (%d)", r.ContentLength, limit)
	}
	if r.ContentLength == 0 {
		// Nothing to decompress, whatever the encoding says.
		return nil, 0, nil
	}
	body := nethttp.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength >= 0 {
			buf := make([]byte, r.ContentLength)
			if _, err := io.ReadFull(body, buf); err != nil {
				return nil, readErrorStatus(err), fmt.Errorf("cannot read request body: %w", err)
			}
			return buf, 0, nil
		}
		b, status, err := s.readAll(body, limit, "request body")
		if err != nil && status == nethttp.StatusBadRequest {
			err = fmt.Errorf("cannot read request body: %w", err)
		}
		return b, status, err
	case "gzip", "x-gzip":
		zr, _ := s.gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(body)
		} else {
			err = zr.Reset(body)
		}
		if err != nil {
			return nil, readErrorStatus(err), fmt.Errorf("cannot decompress gzip body: %w", err)
		}
		b, status, err := s.readAll(zr, limit, "decompressed body")
		s.gzipReaders.Put(zr)
		if err != nil && status == nethttp.StatusBadRequest {
			err = fmt.Errorf("cannot decompress gzip body: %w", err)
		}
		return b, status, err
	case "zstd":
		zr, _ := s.zstdReaders.Get().(*zstd.Decoder)
		if zr == nil {
			// One synchronous decoder per request: no goroutines to leak
			// when the pool drops it.
			var err error
			zr, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxWindow(uint64(min(max(limit, 8<<20), 128<<20))))
			if err != nil {
				return nil, nethttp.StatusInternalServerError, fmt.Errorf("cannot create zstd decoder: %w", err)
			}
		}
		if err := zr.Reset(body); err != nil {
			return nil, readErrorStatus(err), fmt.Errorf("cannot decompress zstd body: %w", err)
		}
		b, status, err := s.readAll(zr, limit, "decompressed body")
		_ = zr.Reset(nil)
		s.zstdReaders.Put(zr)
		if err != nil && status == nethttp.StatusBadRequest {
			err = fmt.Errorf("cannot decompress zstd body: %w", err)
		}
		return b, status, err
	default:
		return nil, nethttp.StatusUnsupportedMediaType,
			fmt.Errorf("unsupported Content-Encoding %q: send gzip, zstd or an uncompressed body", enc)
	}
}

// readAll reads r up to limit bytes through a pooled buffer and returns an
// exact copy, so the pooled buffer is never shared with events. what names
// the data in the error when it is too large.
func (s *source) readAll(r io.Reader, limit int64, what string) ([]byte, int, error) {
	buf, _ := s.readBufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 16<<20 {
			buf.Reset()
			s.readBufs.Put(buf)
		}
	}()
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		if status := readErrorStatus(err); status != nethttp.StatusBadRequest {
			return nil, status, fmt.Errorf("request body is larger than max_body_bytes (%d)", limit)
		}
		return nil, nethttp.StatusBadRequest, err
	}
	if n > limit {
		return nil, nethttp.StatusRequestEntityTooLarge, fmt.Errorf("%s is larger than max_body_bytes (%d)", what, limit)
	}
	return bytes.Clone(buf.Bytes()), 0, nil
}

func readErrorStatus(err error) int {
	var tooLarge *nethttp.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nethttp.StatusRequestEntityTooLarge
	}
	return nethttp.StatusBadRequest
}

func writeError(w nethttp.ResponseWriter, status int, msg string) {
	b := make([]byte, 0, len(msg)+16)
	b = append(b, `{"error":`...)
	b = event.AppendJSONString(b, msg)
	b = append(b, "}\n"...)
	writeJSON(w, status, b)
}

func writeAccepted(w nethttp.ResponseWriter, n int) {
	var a [40]byte
	b := append(a[:0], `{"accepted":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "}\n"...)
	writeJSON(w, nethttp.StatusOK, b)
}

func writeJSON(w nethttp.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
