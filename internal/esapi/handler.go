package esapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
)

// Defaults of Options.
const (
	// DefaultVersion is the Elasticsearch version the API reports. The
	// official clients and shippers check the major version (8) and the
	// X-Elastic-Product header, not the minor.
	DefaultVersion       = "8.17.0"
	DefaultLuceneVersion = "9.12.0"
	// DefaultMaxResultWindow is index.max_result_window: from+size limit.
	DefaultMaxResultWindow = 10_000
	// DefaultMaxBuckets bounds the buckets of one search's aggregations
	// (Elasticsearch's search.max_buckets is 65,536).
	DefaultMaxBuckets = 65_536
	// DefaultMaxSearchBytes bounds the body of a search request.
	DefaultMaxSearchBytes = 10 << 20
)

// Options configures a Handler. The zero value of each field selects its
// default.
type Options struct {
	// ClusterName and NodeName appear in GET / and the health APIs
	// (defaults "sluice" and the host name).
	ClusterName string
	NodeName    string
	// Version and LuceneVersion are reported by GET / (defaults
	// DefaultVersion and DefaultLuceneVersion).
	Version       string
	LuceneVersion string
	// MaxRequestBytes bounds a write request's body after decompression
	// (Elasticsearch's http.max_content_length, default 100 MiB); 413
	// above it.
	MaxRequestBytes int64
	// MaxEventBytes bounds one document (default 1 MiB); a larger one
	// fails its item with status 413.
	MaxEventBytes int
	// MaxSearchBytes bounds the body of search and other JSON requests
	// (default 10 MiB).
	MaxSearchBytes int64
	// MaxResultWindow bounds from+size of a search (default 10,000).
	MaxResultWindow int
	// MaxBuckets bounds the aggregation buckets of one search (default
	// 65,536).
	MaxBuckets int
	// WriteConcurrency bounds the Backend.Write calls one bulk request
	// runs at once, one per index (default 8).
	WriteConcurrency int
	// Logger receives internal errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.ClusterName == "" {
		o.ClusterName = "sluice"
	}
	if o.NodeName == "" {
		o.NodeName, _ = os.Hostname()
		if o.NodeName == "" {
			o.NodeName = "sluice"
		}
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.LuceneVersion == "" {
		o.LuceneVersion = DefaultLuceneVersion
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = esbulk.DefaultMaxRequestBytes
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = esbulk.DefaultMaxEventBytes
	}
	if o.MaxSearchBytes <= 0 {
		o.MaxSearchBytes = DefaultMaxSearchBytes
	}
	if o.MaxResultWindow <= 0 {
		o.MaxResultWindow = DefaultMaxResultWindow
	}
	if o.MaxBuckets <= 0 {
		o.MaxBuckets = DefaultMaxBuckets
	}
	if o.WriteConcurrency <= 0 {
		o.WriteConcurrency = 8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Handler serves the Elasticsearch-compatible API over a Backend. It is
// safe for concurrent use.
type Handler struct {
	b       Backend
	opts    Options
	parsers sync.Pool // *esbulk.Parser
	seqNo   atomic.Int64
	// idPrefix and idSeq make generated document IDs.
	idPrefix [6]byte
	idSeq    atomic.Uint64
	// clusterUUID is stable for a cluster name.
	clusterUUID string
	// templates keeps index templates, ILM policies and other settings
	// that clients install at startup and read back; Sluice does not
	// apply them.
	templates sync.Map // string → json.RawMessage
}

// New returns a Handler serving the API over b.
func New(b Backend, opts Options) *Handler {
	opts.setDefaults()
	h := &Handler{b: b, opts: opts}
	_, _ = rand.Read(h.idPrefix[:])
	h.clusterUUID = uuidFor("cluster:" + opts.ClusterName)
	po := esbulk.Options{MaxRequestBytes: opts.MaxRequestBytes, MaxEventBytes: opts.MaxEventBytes, StrictTimestamp: true}
	h.parsers.New = func() any { return esbulk.NewParser(po) }
	return h
}

// uuidFor returns a stable, UUID-looking (base64url, 22 characters) name
// for s, as Elasticsearch shows index and cluster UUIDs.
func uuidFor(s string) string {
	f := fnv.New128a()
	f.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(f.Sum(nil))
}

// newID returns an Elasticsearch-looking document ID (20 characters).
func (h *Handler) newID(now time.Time) string {
	var b [15]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16|h.idSeq.Add(1)&0xffff)
	copy(b[8:], h.idPrefix[:])
	b[14] = byte(h.idSeq.Load() >> 16)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// call is one request being served.
type call struct {
	h     *Handler
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	q     url.Values
	start time.Time
	// compat is the version the client asked compatibility with (7 or
	// 8), 0 without a compatible-with media type.
	compat int
	// ctype is the Content-Type of JSON responses.
	ctype string
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	c := &call{h: h, w: w, r: r, ctx: r.Context(), q: r.URL.Query(), start: h.opts.Now(), ctype: "application/json"}
	if e := c.negotiate(); e != nil {
		c.fail(e)
		return
	}
	h.route(c)
}

// negotiate reads the compatible-with parameter of the Accept and
// Content-Type headers (application/vnd.elasticsearch+json;
// compatible-with=8), which the official clients send, and answers with
// the same media type.
func (c *call) negotiate() *esbulk.Error {
	accept := c.r.Header.Get("Accept")
	ctype := c.r.Header.Get("Content-Type")
	av, aok := compatVersion(accept)
	cv, cok := compatVersion(ctype)
	if !aok || !cok || (av != 0 && cv != 0 && av != cv) {
		return &esbulk.Error{Status: 400, Type: "media_type_header_exception",
			Reason: "Invalid media-type value on headers [Accept, Content-Type]",
			CausedBy: &esbulk.Error{Type: "status_exception",
				Reason: "A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=" +
					accept + ", Content-Type=" + ctype}}
	}
	v := av
	if v == 0 {
		v = cv
	}
	if v != 0 {
		c.compat = v
		c.ctype = "application/vnd.elasticsearch+json;compatible-with=" + strconv.Itoa(v)
	}
	return nil
}

// compatVersion returns the compatible-with version of a media type, 0
// when there is none; ok is false for a version this API does not speak.
func compatVersion(mt string) (int, bool) {
	if !strings.Contains(mt, "compatible-with") {
		return 0, true
	}
	for _, part := range strings.Split(mt, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "compatible-with") {
			continue
		}
		switch strings.TrimSpace(v) {
		case "7":
			return 7, true
		case "8":
			return 8, true
		default:
			return 0, false
		}
	}
	return 0, true
}

// ---- responses

// json writes a JSON response, applying the filter_path and pretty
// parameters and gzip when the client accepts it.
func (c *call) json(status int, body []byte) {
	if fp := c.q.Get("filter_path"); fp != "" {
		body = filterPath(body, fp)
	}
	if isTrue(c.q, "pretty") {
		var buf strings.Builder
		if ind, err := indentJSON(body); err == nil {
			buf.Write(ind)
			buf.WriteByte('\n')
			body = []byte(buf.String())
		}
	}
	c.send(status, c.ctype, body)
}

func (c *call) text(status int, body []byte) {
	c.send(status, "text/plain; charset=UTF-8", body)
}

var gzipWriters sync.Pool

func (c *call) send(status int, ctype string, body []byte) {
	hdr := c.w.Header()
	hdr.Set("Content-Type", ctype)
	if c.r.Method == http.MethodHead {
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
		c.w.WriteHeader(status)
		return
	}
	if len(body) > 1024 && acceptsGzip(c.r.Header.Get("Accept-Encoding")) {
		hdr.Set("Content-Encoding", "gzip")
		hdr.Add("Vary", "Accept-Encoding")
		c.w.WriteHeader(status)
		zw, _ := gzipWriters.Get().(*gzip.Writer)
		if zw == nil {
			zw, _ = gzip.NewWriterLevel(c.w, gzip.BestSpeed)
		} else {
			zw.Reset(c.w)
		}
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipWriters.Put(zw)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(body)
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0")
		}
	}
	return false
}

// head answers a HEAD request with a status and no body.
func (c *call) head(status int) {
	c.w.Header().Set("Content-Type", c.ctype)
	c.w.Header().Set("Content-Length", "0")
	c.w.WriteHeader(status)
}

// fail answers with an Elasticsearch error response.
func (c *call) fail(e *esbulk.Error) {
	if e.Status == 0 {
		e.Status = 500
	}
	if c.r.Method == http.MethodHead {
		c.head(e.Status)
		return
	}
	c.json(e.Status, esbulk.AppendErrorResponse(nil, e))
}

// failErr answers with the Elasticsearch error for err (see asError).
func (c *call) failErr(err error) {
	c.fail(c.h.asError(err, ""))
}

// asError maps an error to an Elasticsearch error. index names the index
// concerned, when known, for index_not_found_exception.
func (h *Handler) asError(err error, index string) *esbulk.Error {
	var ee *esbulk.Error
	switch {
	case errors.As(err, &ee):
		return ee
	case errors.Is(err, ErrIndexNotFound):
		return indexNotFound(index)
	case errors.Is(err, ErrIndexExists):
		return indexExists(index)
	case errors.Is(err, ErrInvalidIndexName):
		return &esbulk.Error{Status: 400, Type: "invalid_index_name_exception", Reason: err.Error(),
			Meta: []esbulk.Meta{{Key: "index_uuid", Value: "_na_"}, {Key: "index", Value: index}}}
	case errors.Is(err, ErrUnavailable):
		return esbulk.Rejected(err.Error())
	case errors.Is(err, ErrInvalidQuery):
		return &esbulk.Error{Status: 400, Type: "illegal_argument_exception", Reason: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &esbulk.Error{Status: 408, Type: "task_cancelled_exception", Reason: err.Error()}
	}
	h.opts.Logger.Error("elasticsearch API: backend error", "err", err)
	return &esbulk.Error{Status: 500, Type: "exception", Reason: err.Error()}
}

func indexNotFound(index string) *esbulk.Error {
	return &esbulk.Error{Status: 404, Type: "index_not_found_exception", Reason: "no such index [" + index + "]",
		Meta: []esbulk.Meta{{Key: "resource.type", Value: "index_or_alias"}, {Key: "resource.id", Value: index},
			{Key: "index_uuid", Value: "_na_"}, {Key: "index", Value: index}}}
}

func indexExists(index string) *esbulk.Error {
	uuid := uuidFor("index:" + index)
	return &esbulk.Error{Status: 400, Type: "resource_already_exists_exception",
		Reason: "index [" + index + "/" + uuid + "] already exists",
		Meta:   []esbulk.Meta{{Key: "index_uuid", Value: uuid}, {Key: "index", Value: index}}}
}

func badRequest(reason string) *esbulk.Error {
	return &esbulk.Error{Status: 400, Type: "illegal_argument_exception", Reason: reason}
}

func parsingError(reason string) *esbulk.Error {
	return &esbulk.Error{Status: 400, Type: "parsing_exception", Reason: reason}
}

// noHandler is Elasticsearch's answer for a path it does not know: a
// plain string error, status 400.
func (c *call) noHandler() {
	b := []byte(`{"error":`)
	b = event.AppendJSONString(b, "no handler found for uri ["+c.r.URL.RequestURI()+"] and method ["+c.r.Method+"]")
	b = append(b, `,"status":400}`...)
	c.json(400, b)
}

// badMethod is Elasticsearch's answer for a known path and a method it
// does not serve: 405 with the allowed methods.
func (c *call) badMethod(allowed ...string) {
	c.w.Header().Set("Allow", strings.Join(allowed, ","))
	if c.r.Method == http.MethodHead {
		c.head(405)
		return
	}
	b := []byte(`{"error":`)
	b = event.AppendJSONString(b, "Incorrect HTTP method for uri ["+c.r.URL.RequestURI()+"] and method ["+
		c.r.Method+"], allowed: ["+strings.Join(allowed, ", ")+"]")
	b = append(b, `,"status":405}`...)
	c.json(405, b)
}

// ---- request helpers

// readJSON reads the request body (decompressed, bounded) and decodes it
// into a generic value; nil when the body is empty.
func (c *call) readJSON() (map[string]any, *esbulk.Error) {
	body, e := c.readBody(c.h.opts.MaxSearchBytes)
	if e != nil {
		return nil, e
	}
	return decodeObject(body)
}

func (c *call) readBody(limit int64) ([]byte, *esbulk.Error) {
	if c.r.Body == nil {
		return nil, nil
	}
	return esbulk.ReadBody(http.MaxBytesReader(c.w, c.r.Body, limit+1<<10), c.r.Header.Get("Content-Encoding"), c.r.ContentLength, limit)
}

// decodeObject decodes a JSON object with numbers kept as json.Number.
func decodeObject(body []byte) (map[string]any, *esbulk.Error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(body, err)
	}
	if dec.More() {
		return nil, &esbulk.Error{Status: 400, Type: "x_content_parse_exception", Reason: "unexpected data after the JSON object"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, parsingError("request body must be a JSON object")
	}
	return m, nil
}

func jsonError(body []byte, err error) *esbulk.Error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(body, int(se.Offset))
		return &esbulk.Error{Status: 400, Type: "x_content_parse_exception",
			Reason: "[" + strconv.Itoa(line) + ":" + strconv.Itoa(col) + "] " + se.Error()}
	}
	return &esbulk.Error{Status: 400, Type: "x_content_parse_exception", Reason: err.Error()}
}

func lineCol(b []byte, off int) (int, int) {
	line, col := 1, 1
	for i := 0; i < off && i < len(b); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// isTrue reports whether a boolean query parameter is set: present with
// no value, "true" or anything but "false".
func isTrue(q url.Values, name string) bool {
	v, ok := q[name]
	if !ok {
		return false
	}
	return len(v) == 0 || v[0] != "false"
}

// intParam reads an integer query parameter.
func intParam(q url.Values, name string, def int) (int, *esbulk.Error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("Failed to parse int parameter [" + name + "] with value [" + s + "]")
	}
	return n, nil
}
