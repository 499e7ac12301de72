// Package search joins the query language to the store: it turns a KQL
// query into a store query (the exact per-event check plus the token
// requirements that let the store skip blocks by their Bloom filters), and
// serves the search API of the stable contract: /api/v1/search,
// /api/v1/histogram, /api/v1/fields, /api/v1/tail, /api/v1/indices and
// /api/v1/surrounding.
package search

import (
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
	"github.com/sluicehq/sluice/internal/store"
)

// Filter returns the store filter for a parsed KQL query: kql.Match is the
// exact check, and kql.RequiredTokens becomes the Bloom-filter clauses.
//
// Field-scoped token requirements are turned into any-field requirements:
// kql lets a requirement on "items.name" be met by the column "items" (a
// list of objects), which a per-column filter of "items.name" would miss;
// the all-columns filter is always sound.
func Filter(n kql.Node) store.Filter {
	if _, all := n.(*kql.MatchAll); all {
		return store.Filter{}
	}
	cnf := kql.RequiredTokens(n)
	clauses := make([][][]string, 0, len(cnf))
	for _, c := range cnf {
		alts := make([][]string, 0, len(c))
		for _, set := range c {
			alts = append(alts, set.Tokens)
		}
		clauses = append(clauses, alts)
	}
	return store.Filter{
		Match:   func(ev *event.Event) bool { return kql.Match(n, ev) },
		Clauses: clauses,
	}
}

// Query builds a store query from a KQL string, index patterns and a time
// range; the query's own @timestamp bounds narrow the range further. A
// bad query is a *kql.SyntaxError.
func Query(q string, indices []string, from, to time.Time) (store.Query, error) {
	n, err := kql.Parse(q)
	if err != nil {
		return store.Query{}, err
	}
	sq := store.Query{Indices: indices, From: from, To: to, Filter: Filter(n)}
	if f, t, ok := kql.TimeBounds(n); ok {
		if !f.IsZero() && (sq.From.IsZero() || f.After(sq.From)) {
			sq.From = f
		}
		// TimeBounds' to is inclusive; the store's To is exclusive.
		if !t.IsZero() {
			if end := t.Add(time.Nanosecond); sq.To.IsZero() || end.Before(sq.To) {
				sq.To = end
			}
		}
	}
	return sq, nil
}
