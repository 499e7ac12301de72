package search

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
	"github.com/sluicehq/sluice/internal/store"
)

// ESBackend adapts the store to the Elasticsearch-compatible API.
type ESBackend struct{ Store *store.Store }

var _ esapi.Backend = (*ESBackend)(nil)

// Write stores the events; per-event rejections become per-item errors and
// a full disk asks the client to retry.
func (b *ESBackend) Write(ctx context.Context, index string, evs []event.Event, res []esapi.WriteResult) error {
	err := b.Store.Write(ctx, index, evs)
	var rej *store.RejectedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rej):
		for _, r := range rej.Rejected {
			res[r.Event].Err = r.Err
		}
		return nil
	case errors.Is(err, store.ErrDiskFull), errors.Is(err, store.ErrClosed):
		return fmt.Errorf("%w: %v", esapi.ErrUnavailable, err)
	case errors.Is(err, store.ErrInvalidIndexName):
		return fmt.Errorf("%w: %v", esapi.ErrInvalidIndexName, err)
	}
	return err
}

func (b *ESBackend) query(req *esapi.SearchRequest) store.Query {
	q := store.Query{Indices: req.Indices, From: req.From, To: req.To}
	n := req.Query
	if n == nil {
		n = &kql.MatchAll{}
	}
	q.Filter = Filter(n)
	if req.Match != nil {
		inner := q.Filter.Match
		q.Filter.Match = func(ev *event.Event) bool {
			return (inner == nil || inner(ev)) && req.Match(ev)
		}
	}
	if f, t, ok := kql.TimeBounds(n); ok {
		if !f.IsZero() && (q.From.IsZero() || f.After(q.From)) {
			q.From = f
		}
		if !t.IsZero() {
			if end := t.Add(time.Nanosecond); q.To.IsZero() || end.Before(q.To) {
				q.To = end
			}
		}
	}
	return q
}

// Search runs the request; from+size is at most the API's window, below
// the store's limit.
func (b *ESBackend) Search(ctx context.Context, req *esapi.SearchRequest) (*esapi.SearchResult, error) {
	q := b.query(req)
	q.Reverse = req.Ascending
	q.Limit = req.Offset + req.Size
	if q.Limit == 0 {
		q.Limit = -1
	}
	res, err := b.Store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &esapi.SearchResult{Total: res.Total}
	for i, h := range res.Hits {
		if i < req.Offset {
			continue
		}
		out.Hits = append(out.Hits, esapi.Hit{Index: h.Index, ID: h.ID, Event: h.Event})
	}
	return out, nil
}

// Histogram counts matches per interval.
func (b *ESBackend) Histogram(ctx context.Context, req *esapi.SearchRequest, interval time.Duration) ([]esapi.Bucket, error) {
	bs, err := b.Store.Histogram(ctx, b.query(req), interval)
	if err != nil {
		return nil, err
	}
	out := make([]esapi.Bucket, 0, len(bs))
	for _, x := range bs {
		out = append(out, esapi.Bucket{Time: x.Time, Count: x.Count})
	}
	return out, nil
}

// Terms returns the top values of a field.
func (b *ESBackend) Terms(ctx context.Context, req *esapi.SearchRequest, field string, size int) (*esapi.TermsResult, error) {
	vals, _, err := b.Store.TopValues(ctx, b.query(req), field, size)
	if err != nil {
		return nil, err
	}
	out := &esapi.TermsResult{}
	for _, v := range vals {
		out.Buckets = append(out.Buckets, esapi.TermsBucket{Key: event.String(v.Value), Count: v.Count})
	}
	return out, nil
}

// Indices lists the indices.
func (b *ESBackend) Indices(context.Context) ([]esapi.IndexInfo, error) {
	var out []esapi.IndexInfo
	for _, s := range b.Store.Indices() {
		out = append(out, esapi.IndexInfo{Name: s.Name, Docs: s.Events, Bytes: s.Bytes})
	}
	return out, nil
}

// IndexExists reports whether the index exists.
func (b *ESBackend) IndexExists(_ context.Context, name string) (bool, error) {
	return b.Store.IndexExists(name), nil
}

// CreateIndex creates an empty index.
func (b *ESBackend) CreateIndex(_ context.Context, name string) error {
	return esErr(b.Store.CreateIndex(name))
}

// DeleteIndex deletes an index.
func (b *ESBackend) DeleteIndex(_ context.Context, name string) error {
	return esErr(b.Store.DeleteIndex(name))
}

// Get finds a document by the client's _id, or by the store's own id.
func (b *ESBackend) Get(ctx context.Context, index, id string) (esapi.Hit, error) {
	if !b.Store.IndexExists(index) {
		return esapi.Hit{}, esapi.ErrIndexNotFound
	}
	res, err := b.Store.Search(ctx, store.Query{Indices: []string{index}, Limit: 1,
		Filter: store.Filter{Match: func(ev *event.Event) bool {
			v, ok := ev.GetString(esapi.FieldID)
			return ok && v == id
		}, Fields: []string{esapi.FieldID}}})
	if err != nil {
		return esapi.Hit{}, err
	}
	if len(res.Hits) > 0 {
		h := res.Hits[0]
		return esapi.Hit{Index: h.Index, ID: h.ID, Event: h.Event}, nil
	}
	h, err := b.Store.Get(ctx, id)
	if err != nil || h.Index != index {
		return esapi.Hit{}, esapi.ErrNotFound
	}
	return esapi.Hit{Index: h.Index, ID: h.ID, Event: h.Event}, nil
}

func esErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrIndexExists):
		return fmt.Errorf("%w: %v", esapi.ErrIndexExists, err)
	case errors.Is(err, store.ErrIndexNotFound):
		return fmt.Errorf("%w: %v", esapi.ErrIndexNotFound, err)
	case errors.Is(err, store.ErrInvalidIndexName):
		return fmt.Errorf("%w: %v", esapi.ErrInvalidIndexName, err)
	}
	return err
}
