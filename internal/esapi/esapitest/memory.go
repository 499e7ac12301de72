// Package esapitest holds test helpers for the Elasticsearch API: an
// in-memory Backend that answers by brute force with kql.Match, the
// reference semantics the store's search must agree with.
package esapitest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
)

// Memory is an esapi.Backend (and DocGetter) keeping everything in memory.
// It is meant for tests: every search scans every event.
type Memory struct {
	// MaxFields, when positive, rejects events with more fields (to test
	// per-event rejections).
	MaxFields int
	// Fail, when set, is returned by every Write (to test whole-call
	// errors such as esapi.ErrUnavailable).
	Fail error

	mu      sync.RWMutex
	indices map[string]*memIndex
	seq     int
	writes  int
}

type memIndex struct {
	created time.Time
	docs    []memDoc
	bytes   int64
}

type memDoc struct {
	id  string // the backend's own id
	seq int
	ev  event.Event
}

// NewMemory returns an empty in-memory backend.
func NewMemory() *Memory {
	return &Memory{indices: map[string]*memIndex{}}
}

var _ esapi.Backend = (*Memory)(nil)
var _ esapi.DocGetter = (*Memory)(nil)

// Writes returns the number of Write calls so far.
func (m *Memory) Writes() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.writes
}

// Write implements esapi.Backend. Events are copied (their strings may
// point into the request's buffer).
func (m *Memory) Write(ctx context.Context, index string, evs []event.Event, res []esapi.WriteResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.Fail != nil {
		return m.Fail
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes++
	idx := m.indices[index]
	if idx == nil {
		idx = &memIndex{created: time.Now()}
		m.indices[index] = idx
	}
	for i := range evs {
		if evs[i].Time.IsZero() {
			return fmt.Errorf("event %d has no time: the API must set it", i)
		}
		if m.MaxFields > 0 && evs[i].Len() > m.MaxFields {
			res[i].Err = fmt.Errorf("too many fields: %d fields, the limit is %d", evs[i].Len(), m.MaxFields)
			continue
		}
		buf := event.AppendBinary(nil, &evs[i])
		ev, _, err := event.DecodeBinary(buf)
		if err != nil {
			return err
		}
		m.seq++
		id := "m" + strconv.Itoa(m.seq)
		idx.docs = append(idx.docs, memDoc{id: id, seq: m.seq, ev: ev})
		idx.bytes += int64(len(event.AppendJSON(nil, &ev, true)))
		res[i].ID = id
	}
	return nil
}

// Get implements esapi.DocGetter: the newest event with that _id (or
// backend id).
func (m *Memory) Get(ctx context.Context, index, id string) (esapi.Hit, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	idx := m.indices[index]
	if idx == nil {
		return esapi.Hit{}, esapi.ErrIndexNotFound
	}
	for i := len(idx.docs) - 1; i >= 0; i-- {
		d := &idx.docs[i]
		if d.id == id {
			return esapi.Hit{Index: index, ID: d.id, Event: d.ev}, nil
		}
		if v, ok := d.ev.Lookup(esapi.FieldID); ok {
			if s, _ := v.Str(); s == id {
				return esapi.Hit{Index: index, ID: d.id, Event: d.ev}, nil
			}
		}
	}
	return esapi.Hit{}, esapi.ErrNotFound
}

func matchIndex(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if wild(p, name) {
			return true
		}
	}
	return false
}

func wild(p, s string) bool {
	if !strings.Contains(p, "*") {
		return p == s
	}
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

type found struct {
	index string
	doc   *memDoc
}

// matching returns the events req selects, oldest first.
func (m *Memory) matching(req *esapi.SearchRequest) []found {
	var out []found
	for name, idx := range m.indices {
		if !matchIndex(req.Indices, name) {
			continue
		}
		for i := range idx.docs {
			d := &idx.docs[i]
			t := d.ev.Time
			if !req.From.IsZero() && t.Before(req.From) {
				continue
			}
			if !req.To.IsZero() && !t.Before(req.To) {
				continue
			}
			if !kql.Match(req.Query, &d.ev) {
				continue
			}
			if req.Match != nil && !req.Match(&d.ev) {
				continue
			}
			out = append(out, found{name, d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].doc, out[j].doc
		if !a.ev.Time.Equal(b.ev.Time) {
			return a.ev.Time.Before(b.ev.Time)
		}
		return a.seq < b.seq
	})
	return out
}

// Search implements esapi.Backend.
func (m *Memory) Search(ctx context.Context, req *esapi.SearchRequest) (*esapi.SearchResult, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	all := m.matching(req)
	if !req.Ascending {
		slices.Reverse(all)
	}
	res := &esapi.SearchResult{Total: int64(len(all))}
	for i := req.Offset; i < len(all) && i < req.Offset+req.Size; i++ {
		f := all[i]
		res.Hits = append(res.Hits, esapi.Hit{Index: f.index, ID: f.doc.id, Event: f.doc.ev})
	}
	return res, nil
}

// Histogram implements esapi.Backend.
func (m *Memory) Histogram(ctx context.Context, req *esapi.SearchRequest, interval time.Duration) ([]esapi.Bucket, error) {
	if interval <= 0 {
		return nil, errors.New("interval must be positive")
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []esapi.Bucket
	for _, f := range m.matching(req) {
		ns := f.doc.ev.Time.UnixNano()
		k := ns / int64(interval) * int64(interval)
		if ns < 0 && ns%int64(interval) != 0 {
			k -= int64(interval)
		}
		t := time.Unix(0, k).UTC()
		if n := len(out); n > 0 && out[n-1].Time.Equal(t) {
			out[n-1].Count++
			continue
		}
		out = append(out, esapi.Bucket{Time: t, Count: 1})
	}
	return out, nil
}

// Terms implements esapi.Backend.
func (m *Memory) Terms(ctx context.Context, req *esapi.SearchRequest, field string, size int) (*esapi.TermsResult, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	type acc struct {
		key   event.Value
		count int64
	}
	counts := map[string]*acc{}
	add := func(v event.Value, seen map[string]bool) {
		k := v.Text()
		if seen[k] {
			return
		}
		seen[k] = true
		a := counts[k]
		if a == nil {
			a = &acc{key: v}
			counts[k] = a
		}
		a.count++
	}
	for _, f := range m.matching(req) {
		v, ok := f.doc.ev.Lookup(field)
		if !ok || v.IsNull() {
			continue
		}
		seen := map[string]bool{}
		if list, ok := v.Interface().([]any); ok {
			for _, x := range list {
				if x != nil {
					add(event.Any(x), seen)
				}
			}
			continue
		}
		add(v, seen)
	}
	list := make([]*acc, 0, len(counts))
	for _, a := range counts {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].count != list[j].count {
			return list[i].count > list[j].count
		}
		return list[i].key.Text() < list[j].key.Text()
	})
	res := &esapi.TermsResult{}
	for i, a := range list {
		if i < size {
			res.Buckets = append(res.Buckets, esapi.TermsBucket{Key: a.key, Count: a.count})
		} else {
			res.Other += a.count
		}
	}
	return res, nil
}

// Indices implements esapi.Backend.
func (m *Memory) Indices(ctx context.Context) ([]esapi.IndexInfo, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]esapi.IndexInfo, 0, len(m.indices))
	for name, idx := range m.indices {
		out = append(out, esapi.IndexInfo{Name: name, Docs: int64(len(idx.docs)), Bytes: idx.bytes, Created: idx.created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// IndexExists implements esapi.Backend.
func (m *Memory) IndexExists(ctx context.Context, name string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.indices[name]
	return ok, nil
}

// CreateIndex implements esapi.Backend.
func (m *Memory) CreateIndex(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.indices[name]; ok {
		return esapi.ErrIndexExists
	}
	m.indices[name] = &memIndex{created: time.Now()}
	return nil
}

// DeleteIndex implements esapi.Backend.
func (m *Memory) DeleteIndex(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.indices[name]; !ok {
		return esapi.ErrIndexNotFound
	}
	delete(m.indices, name)
	return nil
}
