package esapi

import (
	"context"
	"errors"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
)

// Backend is what the Elasticsearch API needs from a log store. The store
// implements it through a small adapter; tests use an in-memory one
// (esapitest.Memory).
//
// Index names given to a Backend have passed Elasticsearch's naming rules
// (ValidateIndexName). Errors that should reach the client with a specific
// Elasticsearch error wrap one of the Err values below (errors.Is), or are
// an *esbulk.Error (which picks the status, type and reason itself); any
// other error is answered as a 500 (in a bulk item, a per-event
// WriteResult.Err is answered as a 400 document_parsing_exception).
//
// All methods may be called concurrently.
type Backend interface {
	// Write stores evs in index, creating the index if it does not exist,
	// and returns once they are durable. res has one entry per event,
	// zeroed by the caller. For an event that is not stored for a reason
	// of its own (a field or size limit: permanent, retrying fails the
	// same way), Write sets res[i].Err and still stores the others. It
	// may set res[i].ID to an ID under which Get (DocGetter) finds the
	// event.
	//
	// A returned error concerns every event of the call that has no
	// res[i].Err: they may or may not be stored, and writing them again
	// is safe. Wrap ErrUnavailable when the client should retry later
	// (disk full, shutting down): the API answers 429.
	//
	// Events carry @timestamp in Time (never zero: the API sets the
	// receive time for documents without one and marks them with
	// FieldNoTimestamp), the client's _id in the field FieldID when it
	// gave one, and their fields. Write must not keep evs, or anything
	// they point to, after it returns: the API reuses request buffers.
	Write(ctx context.Context, index string, evs []event.Event, res []WriteResult) error

	// Search returns the events matching req, sorted by @timestamp
	// (newest first unless req.Ascending), skipping req.Offset of them and
	// returning at most req.Size, and the total number of matches.
	// Indices that do not exist are ignored.
	Search(ctx context.Context, req *SearchRequest) (*SearchResult, error)

	// Histogram counts the events matching req (Size, Offset and
	// Ascending aside) per interval, buckets starting at multiples of
	// interval since the Unix epoch, in ascending time order. Empty
	// buckets may be left out.
	Histogram(ctx context.Context, req *SearchRequest, interval time.Duration) ([]Bucket, error)

	// Terms returns the size most frequent values of field among the
	// events matching req, most frequent first (ties in ascending order
	// of value); each element of an array counts once per event.
	Terms(ctx context.Context, req *SearchRequest, field string, size int) (*TermsResult, error)

	// Indices describes every index.
	Indices(ctx context.Context) ([]IndexInfo, error)
	// IndexExists reports whether the index exists.
	IndexExists(ctx context.Context, name string) (bool, error)
	// CreateIndex creates an empty index; ErrIndexExists when it exists.
	CreateIndex(ctx context.Context, name string) error
	// DeleteIndex deletes an index and its events; ErrIndexNotFound when
	// it does not exist.
	DeleteIndex(ctx context.Context, name string) error
}

// DocGetter is implemented by backends that can find one event by ID:
// the client's _id (the FieldID field) or an ID the backend returned in
// WriteResult.ID or Hit.ID. Without it, GET /{index}/_doc/{id} answers
// 404 found:false.
type DocGetter interface {
	// Get returns the newest event of index with that ID, or an error
	// wrapping ErrNotFound (or ErrIndexNotFound).
	Get(ctx context.Context, index, id string) (Hit, error)
}

// Field names the API adds to events. Both are internal fields (they
// start with '_'): kept by the store, left out of _source and of free-text
// search.
const (
	// FieldID holds the _id a client gave to a document.
	FieldID = "_id"
	// FieldNoTimestamp is set (true) on documents that had no @timestamp:
	// their Time is the time they were received, and _source leaves it
	// out, as the client sent none.
	FieldNoTimestamp = "_es_no_timestamp"
)

// Errors a Backend wraps to select the Elasticsearch error of a response.
var (
	// ErrIndexNotFound: index_not_found_exception, 404.
	ErrIndexNotFound = errors.New("no such index")
	// ErrIndexExists: resource_already_exists_exception, 400.
	ErrIndexExists = errors.New("index already exists")
	// ErrInvalidIndexName: invalid_index_name_exception, 400.
	ErrInvalidIndexName = errors.New("invalid index name")
	// ErrNotFound: a document that is not there (found:false, 404).
	ErrNotFound = errors.New("document not found")
	// ErrUnavailable: the backend cannot take writes for now (disk
	// watermark, shutdown); es_rejected_execution_exception, 429, which
	// clients retry.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrInvalidQuery: a query the backend cannot run; 400.
	ErrInvalidQuery = errors.New("invalid query")
)

// WriteResult is the outcome of one event of a Write.
type WriteResult struct {
	// ID is the ID the backend stored the event under, if it has one that
	// DocGetter.Get resolves; empty otherwise.
	ID string
	// Err, when set, says why this event was not stored (a permanent,
	// per-event reason such as a field limit). The item is answered with
	// status 400 and the error's text as reason.
	Err error
}

// SearchRequest selects events.
type SearchRequest struct {
	// Indices are index names or patterns with '*'; empty means every
	// index. Concrete names that do not exist have been checked by the
	// API, so a backend may simply skip what it does not find.
	Indices []string
	// From and To bound @timestamp: only events with From <= t < To
	// match. A zero value is unbounded. Query may bound @timestamp too.
	From, To time.Time
	// Query selects events; nil matches every event. It is prepared
	// (kql.Prepare), so kql.Match on it is cheap, and kql.RequiredTokens
	// and kql.TimeBounds work on it.
	Query kql.Node
	// Size is the number of hits to return; 0 returns only the total.
	Size int
	// Offset is the number of hits to skip (Elasticsearch's from).
	// Offset+Size is at most the API's result window (10,000 by default).
	Offset int
	// Ascending sorts oldest first; the default is newest first.
	Ascending bool
	// Match, when set, is one more exact condition on each event that
	// Query matches (the API uses it for the sub-aggregations of a terms
	// bucket: the field equals the bucket's key). It reads only the
	// fields named in MatchFields. Query never depends on it, so it is
	// safe to skip data with Query alone.
	Match       func(ev *event.Event) bool
	MatchFields []string
}

// SearchResult is what Search found.
type SearchResult struct {
	Hits []Hit
	// Total is the exact number of events matching the request.
	Total int64
}

// Hit is one event found.
type Hit struct {
	Index string
	// ID is the backend's ID of the event (used as _id when the event has
	// no FieldID field); may be empty.
	ID    string
	Event event.Event
}

// Bucket is one interval of a histogram: the events with Time <= t <
// Time+interval.
type Bucket struct {
	Time  time.Time
	Count int64
}

// TermsResult is the top values of a field.
type TermsResult struct {
	Buckets []TermsBucket
	// Other is the sum of the counts of the values left out (0 when the
	// backend does not know it).
	Other int64
}

// TermsBucket is one value and the number of events that have it. Key is
// a string value in the backend's text form, or a number or boolean when
// the backend knows the type (the response then shows it as such).
type TermsBucket struct {
	Key   event.Value
	Count int64
}

// IndexInfo describes one index.
type IndexInfo struct {
	Name string
	// Docs is the number of events.
	Docs int64
	// Bytes is the size on disk.
	Bytes int64
	// Created is when the index was created, if known.
	Created time.Time
}
