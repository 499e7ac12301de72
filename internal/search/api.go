package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
	"github.com/sluicehq/sluice/internal/store"
)

// API serves the search endpoints over a store.
type API struct {
	Store *store.Store
	// Now is the clock for relative times (time.Now when nil).
	Now func() time.Time
}

// Register adds the endpoints to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/search", a.search)
	mux.HandleFunc("POST /api/v1/search", a.search)
	mux.HandleFunc("GET /api/v1/histogram", a.histogram)
	mux.HandleFunc("GET /api/v1/fields", a.fields)
	mux.HandleFunc("GET /api/v1/tail", a.tail)
	mux.HandleFunc("GET /api/v1/indices", a.indices)
	mux.HandleFunc("GET /api/v1/surrounding", a.surrounding)
}

// Error is the body of a failed request. Position is set for a bad query:
// the byte offset in q, with Line and Column.
type Error struct {
	Error    string `json:"error"`
	Position *int   `json:"position,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	var se *kql.SyntaxError
	if errors.As(err, &se) {
		pos := se.Pos
		reply(w, http.StatusBadRequest, Error{Error: "bad query: " + err.Error(), Position: &pos, Line: se.Line(), Column: se.Column()})
		return
	}
	var full *store.DiskFullError
	switch {
	case errors.As(err, &full):
		reply(w, http.StatusInsufficientStorage, Error{Error: err.Error()})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		reply(w, http.StatusServiceUnavailable, Error{Error: "search cancelled or timed out: " + err.Error()})
	default:
		var bad *badRequest
		if errors.As(err, &bad) {
			reply(w, http.StatusBadRequest, Error{Error: err.Error()})
			return
		}
		reply(w, http.StatusInternalServerError, Error{Error: err.Error()})
	}
}

type badRequest struct{ msg string }

func (b *badRequest) Error() string { return b.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// params reads the parameters every endpoint shares: q, index (comma
// separated patterns), from and to (RFC 3339, epoch ms or now-15m style).
func (a *API) params(r *http.Request) (store.Query, error) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return store.Query{}, badf("invalid form body: %v", err)
		}
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	t := now()
	var from, to time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := r.FormValue(p.name)
		if v == "" {
			continue
		}
		start, end, ok := kql.ParseTime(v, t)
		if !ok {
			return store.Query{}, badf("%s: %q is not a time (use RFC 3339, epoch milliseconds or now-15m style)", p.name, v)
		}
		*p.dst = start
		if p.name == "to" && end.Sub(start) >= 24*time.Hour-time.Nanosecond {
			// A whole day or longer ("now/d", "2026-01-02") ends after
			// its last instant; a time of day is an instant.
			*p.dst = end.Add(time.Nanosecond)
		}
	}
	var indices []string
	for _, ix := range strings.Split(r.FormValue("index"), ",") {
		if ix = strings.TrimSpace(ix); ix != "" {
			indices = append(indices, ix)
		}
	}
	return Query(r.FormValue("q"), indices, from, to)
}

// Hit is one event in a search answer: the event's fields (nested, as
// stored) plus _index and _id.
type Hit map[string]any

func hitJSON(h store.Hit) json.RawMessage {
	b := event.AppendJSON(nil, &h.Event, true)
	// Insert _index and _id at the front of the object.
	head := fmt.Sprintf(`{"_index":%q,"_id":%q`, h.Index, h.ID)
	if len(b) > 2 {
		head += ","
	}
	return json.RawMessage(append([]byte(head), b[1:]...))
}

// SearchResult is the answer of /api/v1/search.
type SearchResult struct {
	Total  int64             `json:"total"`
	TookMS int64             `json:"took_ms"`
	Hits   []json.RawMessage `json:"hits"`
	Cursor string            `json:"cursor,omitempty"`
}

func (a *API) search(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q, err := a.params(r)
	if err != nil {
		fail(w, err)
		return
	}
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > store.MaxLimit {
			fail(w, badf("limit must be a number from 0 to %d, not %q", store.MaxLimit, v))
			return
		}
		q.Limit = n
		if n == 0 {
			q.Limit = -1
		}
	}
	switch s := r.FormValue("sort"); s {
	case "", "desc", "@timestamp:desc":
	case "asc", "@timestamp:asc":
		q.Reverse = true
	default:
		fail(w, badf("sort must be asc or desc (by @timestamp), not %q", s))
		return
	}
	q.Cursor = r.FormValue("cursor")
	res, err := a.Store.Search(r.Context(), q)
	if err != nil {
		fail(w, err)
		return
	}
	out := SearchResult{Total: res.Total, Cursor: res.Cursor, Hits: make([]json.RawMessage, 0, len(res.Hits))}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, hitJSON(h))
	}
	out.TookMS = time.Since(start).Milliseconds()
	reply(w, http.StatusOK, out)
}

// Bucket is one bar of a histogram.
type Bucket struct {
	Time  time.Time `json:"time"`
	Count int64     `json:"count"`
}

func (a *API) histogram(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q, err := a.params(r)
	if err != nil {
		fail(w, err)
		return
	}
	if q.To.IsZero() {
		q.To = time.Now()
		if a.Now != nil {
			q.To = a.Now()
		}
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-15 * time.Minute)
	}
	var interval time.Duration
	if v := r.FormValue("interval"); v != "" && v != "auto" {
		interval, err = time.ParseDuration(v)
		if err != nil || interval <= 0 {
			fail(w, badf("interval must be a duration like 30s, 5m or 1h, or auto, not %q", v))
			return
		}
		if q.To.Sub(q.From)/interval > 10000 {
			fail(w, badf("interval %s makes more than 10000 buckets over the range; choose a larger one", v))
			return
		}
	} else {
		interval = store.AutoInterval(q.From, q.To, 60)
	}
	bs, err := a.Store.Histogram(r.Context(), q, interval)
	if err != nil {
		fail(w, err)
		return
	}
	out := struct {
		Interval string   `json:"interval"`
		TookMS   int64    `json:"took_ms"`
		Buckets  []Bucket `json:"buckets"`
	}{Interval: interval.String(), Buckets: make([]Bucket, 0, len(bs))}
	for _, b := range bs {
		out.Buckets = append(out.Buckets, Bucket{Time: b.Time.UTC(), Count: b.Count})
	}
	out.TookMS = time.Since(start).Milliseconds()
	reply(w, http.StatusOK, out)
}

func (a *API) fields(w http.ResponseWriter, r *http.Request) {
	q, err := a.params(r)
	if err != nil {
		fail(w, err)
		return
	}
	n := 10
	if v := r.FormValue("size"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n <= 0 || n > 1000 {
			fail(w, badf("size must be a number from 1 to 1000, not %q", v))
			return
		}
	}
	if field := r.FormValue("field"); field != "" {
		vals, total, err := a.Store.TopValues(r.Context(), q, field, n)
		if err != nil {
			fail(w, err)
			return
		}
		type value struct {
			Value string `json:"value"`
			Count int64  `json:"count"`
		}
		out := make([]value, 0, len(vals))
		for _, v := range vals {
			out = append(out, value{v.Value, v.Count})
		}
		reply(w, http.StatusOK, map[string]any{"field": field, "total": total, "values": out})
		return
	}
	fs, err := a.Store.Fields(r.Context(), q, 10000)
	if err != nil {
		fail(w, err)
		return
	}
	type fieldInfo struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
		Type  string `json:"type"`
	}
	out := make([]fieldInfo, 0, len(fs))
	for _, f := range fs {
		out = append(out, fieldInfo{f.Name, f.Count, f.Type})
	}
	reply(w, http.StatusOK, map[string]any{"fields": out})
}

// IndexInfo is one index in /api/v1/indices.
type IndexInfo struct {
	Name       string     `json:"name"`
	Events     int64      `json:"events"`
	Bytes      int64      `json:"bytes"`
	RawBytes   int64      `json:"raw_bytes"`
	Ratio      float64    `json:"compression_ratio"`
	Oldest     *time.Time `json:"oldest,omitempty"`
	Newest     *time.Time `json:"newest,omitempty"`
	Partitions int        `json:"partitions"`
	Parts      int        `json:"parts"`
}

func (a *API) indices(w http.ResponseWriter, _ *http.Request) {
	stats := a.Store.Indices()
	out := make([]IndexInfo, 0, len(stats))
	for _, s := range stats {
		ii := IndexInfo{Name: s.Name, Events: s.Events, Bytes: s.Bytes, RawBytes: s.RawBytes, Partitions: s.Partitions, Parts: s.Parts}
		if s.Bytes > 0 {
			ii.Ratio = float64(s.RawBytes) / float64(s.Bytes)
		}
		if !s.Oldest.IsZero() {
			o, n := s.Oldest.UTC(), s.Newest.UTC()
			ii.Oldest, ii.Newest = &o, &n
		}
		out = append(out, ii)
	}
	reply(w, http.StatusOK, map[string]any{"indices": out})
}

func (a *API) surrounding(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if id == "" {
		fail(w, badf("id is required"))
		return
	}
	n := 5
	if v := r.FormValue("size"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > 1000 {
			fail(w, badf("size must be a number from 0 to 1000, not %q", v))
			return
		}
	}
	hits, err := a.Store.Surrounding(r.Context(), id, n, n)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			reply(w, http.StatusNotFound, Error{Error: "no event with id " + id})
			return
		}
		fail(w, err)
		return
	}
	out := make([]json.RawMessage, 0, len(hits))
	for _, h := range hits {
		out = append(out, hitJSON(h))
	}
	reply(w, http.StatusOK, map[string]any{"hits": out})
}

// tail streams matching events as they are stored, as server-sent events:
// each event is a "data:" line of JSON; a subscriber that falls behind
// gets an "event: dropped" message with the number of events it missed.
func (a *API) tail(w http.ResponseWriter, r *http.Request) {
	q, err := a.params(r)
	if err != nil {
		fail(w, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		fail(w, errors.New("streaming is not supported by this connection"))
		return
	}
	ch, cancel := a.Store.Subscribe(q.Indices, q.Filter)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": tailing\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
		case h, open := <-ch:
			if !open {
				return
			}
			var err error
			if h.Dropped > 0 {
				_, err = fmt.Fprintf(w, "event: dropped\ndata: {\"dropped\":%d}\n\n", h.Dropped)
			} else if !q.From.IsZero() && h.Event.Time.Before(q.From) || !q.To.IsZero() && !h.Event.Time.Before(q.To) {
				continue
			} else {
				_, err = fmt.Fprintf(w, "data: %s\n\n", hitJSON(h))
			}
			if err != nil {
				return
			}
		}
		flusher.Flush()
	}
}
