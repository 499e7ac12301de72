package store

import (
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Filter selects events.
//
// Match is the exact per-event check (nil matches every event). Clauses is
// a CNF of token requirements used only to skip blocks, never to decide a
// match: every clause must be satisfied; a clause is satisfied by a block
// when at least one of its alternatives has all its tokens possibly present
// in the block's Bloom filters. A plain token may be in any column; a
// token made with FieldToken must be in that field's column. Tokens are
// produced with the rule of Tokenize, and must be implied by Match: an
// event that matches has every token of one alternative of every clause
// among the tokens of its values' text forms (event.Value.Text) — of that
// field's value for a field token. An alternative without tokens is always
// satisfied, so is a clause without alternatives; nil Clauses means no
// pruning, and Clauses are ignored when Match is nil.
//
// Fields, when not nil, lists the fields Match reads (a name also selects
// the fields below it, "kubernetes" selects "kubernetes.pod.name"): only
// those columns are decoded to run Match, and the event Match sees has
// only those fields. nil decodes every field.
type Filter struct {
	Match   func(ev *event.Event) bool
	Clauses [][][]string
	Fields  []string
}

// FieldToken returns a token requirement for Filter.Clauses that only the
// column of field can satisfy (field:value searches prune better with it).
func FieldToken(field, token string) string { return field + "\x00" + token }

// Query describes a search.
type Query struct {
	// Indices are index names or patterns with '*'; empty means all.
	Indices []string
	// From and To bound @timestamp: From <= t < To. Zero means open.
	From, To time.Time
	Filter   Filter
	// Limit is the number of hits to return: 0 means 100; negative means
	// none (count only). At most MaxLimit.
	Limit int
	// Reverse returns the oldest events first; the default is newest
	// first.
	Reverse bool
	// Cursor continues after the last hit of a previous page (its
	// Result.Cursor), with the same query. It stays valid while events
	// are appended and parts merged.
	Cursor string
}

// MaxLimit bounds Query.Limit.
const MaxLimit = 100_000

// Hit is one event found.
type Hit struct {
	Index string
	// ID identifies the event for Get, Surrounding and cursors (see
	// id.go): it survives merges and restarts.
	ID    string
	Event event.Event
	// Dropped, on a subscription's channel only, is a notice instead of
	// an event: that many matching events were dropped because the
	// subscriber did not keep up. Index and ID are empty then.
	Dropped int64
}

// Result is what Search found.
type Result struct {
	Hits []Hit
	// Total is the exact number of events matching the query (Cursor
	// aside: the same for every page).
	Total int64
	// Cursor continues with the next page; empty when this page is the
	// last.
	Cursor string
}
