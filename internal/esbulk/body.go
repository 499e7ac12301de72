package esbulk

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipReaders sync.Pool // *gzip.Reader
	zstdReaders sync.Pool // *zstd.Decoder
	readBufs    = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// ReadBody reads a request body of at most limit bytes after decompression
// (limit <= 0 means DefaultMaxRequestBytes), decompressing it according to
// contentEncoding: "" or identity, gzip (what Filebeat, Logstash and the
// clients send with compression on), deflate or zstd. contentLength is the
// declared length (-1 when unknown), used to refuse early and to size the
// buffer.
//
// The returned slice is allocated for this call and never reused, so events
// may point into it. Errors are shaped for the response: 413 for a body over
// the limit, 400 for a corrupt compressed body, 415 for an unknown encoding.
func ReadBody(r io.Reader, contentEncoding string, contentLength, limit int64) ([]byte, *Error) {
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	enc := strings.ToLower(strings.TrimSpace(contentEncoding))
	if contentLength > limit && (enc == "" || enc == "identity") {
		return nil, tooLargeBody(contentLength, limit)
	}
	switch enc {
	case "", "identity":
		if contentLength >= 0 {
			buf := make([]byte, contentLength)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, readError(err, limit)
			}
			return buf, nil
		}
		return readAll(r, limit)
	case "gzip", "x-gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(r)
		} else {
			err = zr.Reset(r)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil // an empty body
			}
			return nil, corrupt("gzip", err, limit)
		}
		b, e := readAll(zr, limit)
		gzipReaders.Put(zr)
		if e != nil && e.Status == http.StatusBadRequest {
			e = corrupt("gzip", errors.New(e.Reason), limit)
		}
		return b, e
	case "deflate":
		zr := flate.NewReader(r)
		b, e := readAll(zr, limit)
		_ = zr.Close()
		if e != nil && e.Status == http.StatusBadRequest {
			e = corrupt("deflate", errors.New(e.Reason), limit)
		}
		return b, e
	case "zstd":
		zr, _ := zstdReaders.Get().(*zstd.Decoder)
		if zr == nil {
			var err error
			zr, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxWindow(uint64(min(max(limit, 8<<20), 128<<20))))
			if err != nil {
				return nil, &Error{Status: 500, Type: "exception", Reason: "cannot create zstd decoder: " + err.Error()}
			}
		}
		if err := zr.Reset(r); err != nil {
			return nil, corrupt("zstd", err, limit)
		}
		b, e := readAll(zr, limit)
		_ = zr.Reset(nil)
		zstdReaders.Put(zr)
		if e != nil && e.Status == http.StatusBadRequest {
			e = corrupt("zstd", errors.New(e.Reason), limit)
		}
		return b, e
	default:
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Type: "illegal_argument_exception",
			Reason: "unsupported Content-Encoding [" + contentEncoding + "]: send gzip, deflate, zstd or an uncompressed body"}
	}
}

// readAll reads r up to limit bytes through a pooled buffer and returns an
// exact copy, so that the pooled buffer is never shared with events.
func readAll(r io.Reader, limit int64) ([]byte, *Error) {
	buf := readBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 16<<20 {
			buf.Reset()
			readBufs.Put(buf)
		}
	}()
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, readError(err, limit)
	}
	if n > limit {
		return nil, tooLargeBody(-1, limit)
	}
	return bytes.Clone(buf.Bytes()), nil
}

func readError(err error, limit int64) *Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return tooLargeBody(-1, limit)
	}
	return &Error{Status: http.StatusBadRequest, Type: "parse_exception", Reason: "cannot read the request body: " + err.Error()}
}

func corrupt(what string, err error, limit int64) *Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return tooLargeBody(-1, limit)
	}
	return &Error{Status: http.StatusBadRequest, Type: "parse_exception",
		Reason: "cannot decompress the " + what + " request body: " + err.Error()}
}

func tooLargeBody(n, limit int64) *Error {
	what := "the request body"
	if n >= 0 {
		what += " of " + strconv.FormatInt(n, 10) + " bytes"
	}
	return TooLarge(what + " is larger than the limit of " + strconv.FormatInt(limit, 10) +
		" bytes (http.max_content_length); send smaller bulk requests")
}
