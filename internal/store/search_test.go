package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// testFilter is a filter with a name, for failure messages.
type testFilter struct {
	name string
	f    Filter
}

// containsToken reports whether tok is a token of s, without allocating.
func containsToken(s, tok string) bool {
	found := false
	forEachToken(s, nil, func(t []byte) {
		if !found && string(t) == tok {
			found = true
		}
	})
	return found
}

func hasToken(ev *event.Event, field, tok string) bool {
	v, ok := ev.Lookup(field)
	if !ok {
		return false
	}
	if s, ok := v.Str(); ok {
		return containsToken(s, tok)
	}
	return containsToken(v.Text(), tok)
}

func anyFieldToken(ev *event.Event, tok string) bool {
	for _, f := range ev.Fields() {
		if hasToken(ev, f.Key, tok) {
			return true
		}
	}
	return false
}

// randFilter returns a random filter whose Clauses are implied by Match.
func randFilter(rng *rand.Rand, maxSeq int) testFilter {
	word := func() string { return Tokenize(words[rng.IntN(len(words))])[0] }
	switch rng.IntN(12) {
	case 11:
		// A sparse field or a dense one: an alternative on a column most
		// blocks lack.
		f, w, svc := fmt.Sprintf("extra.f%d", rng.IntN(20)), word(), services[rng.IntN(len(services))]
		return testFilter{f + ":" + w + " or service:" + svc, Filter{
			Match: func(ev *event.Event) bool {
				a, _ := ev.GetString(f)
				b, _ := ev.GetString("service")
				return a == w || b == svc
			},
			Clauses: [][][]string{{{FieldToken(f, w)}, {FieldToken("service", svc)}}},
			Fields:  []string{"extra", "service"},
		}}
	case 0:
		return testFilter{name: "all"}
	case 1:
		w := word()
		return testFilter{"free text " + w, Filter{
			Match:   func(ev *event.Event) bool { return anyFieldToken(ev, w) },
			Clauses: [][][]string{{{w}}},
		}}
	case 2:
		w := word()
		return testFilter{"message:" + w, Filter{
			Match:   func(ev *event.Event) bool { return hasToken(ev, "message", w) },
			Clauses: [][][]string{{{FieldToken("message", w)}}},
			Fields:  []string{"message"},
		}}
	case 3:
		svc := services[rng.IntN(len(services))]
		return testFilter{"service:" + svc + " and status:500", Filter{
			Match: func(ev *event.Event) bool {
				s, _ := ev.GetString("service")
				st, _ := ev.Lookup("status")
				return s == svc && st.Interface() == int64(500)
			},
			Clauses: [][][]string{{{FieldToken("service", svc)}}, {{FieldToken("status", "500")}}},
			Fields:  []string{"service", "status"},
		}}
	case 4:
		a, b := word(), word()
		return testFilter{a + " or " + b, Filter{
			Match:   func(ev *event.Event) bool { return hasToken(ev, "message", a) || hasToken(ev, "message", b) },
			Clauses: [][][]string{{{a}, {b}}},
		}}
	case 5:
		a, b := word(), word()
		return testFilter{a + " and " + b, Filter{
			Match:   func(ev *event.Event) bool { return hasToken(ev, "message", a) && hasToken(ev, "message", b) },
			Clauses: [][][]string{{{a}}, {{b}}},
		}}
	case 6:
		w := word()
		return testFilter{"not " + w, Filter{
			Match: func(ev *event.Event) bool { return !hasToken(ev, "message", w) },
		}}
	case 7:
		// A needle: one event's unique id.
		id := fmt.Sprint(rng.IntN(maxSeq + 1))
		return testFilter{"needle id " + id, Filter{
			Match:   func(ev *event.Event) bool { return hasToken(ev, "message", id) },
			Clauses: [][][]string{{{"id", id}}},
		}}
	case 8:
		return testFilter{"tags exist", Filter{
			Match:  func(ev *event.Event) bool { return ev.Has("tags") },
			Fields: []string{"tags"},
		}}
	case 9:
		lvl := levels[rng.IntN(len(levels))]
		return testFilter{"log.level:" + lvl + " (prefix fields)", Filter{
			Match: func(ev *event.Event) bool {
				s, _ := ev.GetString("log.level")
				return s == lvl
			},
			Clauses: [][][]string{{{FieldToken("log.level", lvl)}, {"nonexistenttoken"}}},
			Fields:  []string{"log"},
		}}
	default:
		return testFilter{"absent token", Filter{
			Match:   func(ev *event.Event) bool { return hasToken(ev, "message", "zzzabsent") },
			Clauses: [][][]string{{{"zzzabsent"}}},
		}}
	}
}

// corpus writes random events over three days to three indices, in many
// small writes (many parts), with some exact duplicates, and returns the
// model.
func corpus(t testing.TB, s *Store, rng *rand.Rand, n int) []stored {
	base := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
	var all []stored
	indices := []string{"logs-a", "logs-b", "other"}
	seq := 0
	for len(all) < n {
		index := indices[rng.IntN(len(indices))]
		batch := make([]event.Event, 1+rng.IntN(300))
		for i := range batch {
			ts := base.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
			if rng.IntN(10) == 0 && i > 0 {
				ts = batch[i-1].Time // equal timestamps
			}
			batch[i] = randEvent(rng, ts, seq)
			seq++
			if rng.IntN(50) == 0 && i > 0 {
				batch[i] = batch[i-1].Clone() // an exact duplicate
			}
		}
		mustWrite(t, s, index, batch)
		all = append(all, model(index, batch)...)
	}
	return all
}

func matching(all []stored, q *Query) []stored {
	var out []stored
	for _, m := range all {
		t := m.key.t
		if (!q.From.IsZero() && t < q.From.UnixNano()) || (!q.To.IsZero() && t >= q.To.UnixNano()) {
			continue
		}
		if !matchIndex(q.Indices, m.index) {
			continue
		}
		if q.Filter.Match != nil && !q.Filter.Match(&m.ev) {
			continue
		}
		out = append(out, m)
	}
	sortModel(out, q.Reverse)
	return out
}

func randQuery(rng *rand.Rand, maxSeq int) (Query, string) {
	base := time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC)
	tf := randFilter(rng, maxSeq)
	q := Query{Filter: tf.f, Reverse: rng.IntN(3) == 0, Limit: []int{1, 7, 50, 100, 1000}[rng.IntN(5)]}
	switch rng.IntN(4) {
	case 0:
		q.Indices = []string{"logs-*"}
	case 1:
		q.Indices = []string{"other"}
	case 2:
		q.Indices = []string{"logs-a", "other"}
	}
	if rng.IntN(2) == 0 {
		q.From = base.Add(time.Duration(rng.Int64N(int64(80*time.Hour))) - 4*time.Hour)
	}
	if rng.IntN(2) == 0 {
		q.To = base.Add(time.Duration(rng.Int64N(int64(80*time.Hour))) - 4*time.Hour)
	}
	desc := fmt.Sprintf("%s indices=%v from=%v to=%v reverse=%v limit=%d", tf.name, q.Indices, q.From, q.To, q.Reverse, q.Limit)
	return q, desc
}

// checkQuery compares a search, paged to the end, with the model.
func checkQuery(t *testing.T, s *Store, all []stored, q Query, desc string) {
	t.Helper()
	want := matching(all, &q)
	var got []Hit
	complete := false
	for page := 0; page < 5; page++ {
		res, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		if res.Total != int64(len(want)) {
			t.Fatalf("%s: page %d: total %d, want %d", desc, page, res.Total, len(want))
		}
		got = append(got, res.Hits...)
		if res.Cursor == "" || len(got) > len(want) {
			complete = true
			break
		}
		q.Cursor = res.Cursor
	}
	if complete && len(got) != len(want) || len(got) > len(want) {
		t.Fatalf("%s: %d hits over all pages, want %d", desc, len(got), len(want))
	}
	ids := make(map[string]bool)
	for i := range got {
		if g, w := canon(&got[i].Event), want[i].canon; g != w || got[i].Index != want[i].index {
			t.Fatalf("%s: hit %d:\n got %s %s\nwant %s %s", desc, i, got[i].Index, g, want[i].index, w)
		}
		if ids[got[i].ID] {
			t.Fatalf("%s: hit %d: id %s seen twice", desc, i, got[i].ID)
		}
		ids[got[i].ID] = true
	}
}

func TestSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	opts := testOptions()
	s := mustOpen(t, t.TempDir(), opts)
	n, queries := 15000, 120
	if raceEnabled {
		n, queries = 5000, 40
	}
	all := corpus(t, s, rng, n)
	for i := range queries {
		q, desc := randQuery(rng, len(all))
		checkQuery(t, s, all, q, fmt.Sprintf("query %d: %s", i, desc))
	}
	// Aggregations.
	for i := range queries / 4 {
		q, desc := randQuery(rng, len(all))
		checkAggregations(t, s, all, q, fmt.Sprintf("aggregation %d: %s", i, desc))
	}
}

func checkAggregations(t *testing.T, s *Store, all []stored, q Query, desc string) {
	t.Helper()
	ctx := context.Background()
	want := matching(all, &q)
	n, err := s.Count(ctx, q)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("%s: count %d (%v), want %d", desc, n, err, len(want))
	}
	// Histogram with the range bounded.
	q.From = time.Date(2024, 5, 10, 0, 0, 0, 0, time.UTC).Add(-time.Hour)
	q.To = q.From.Add(75 * time.Hour)
	want = matching(all, &q)
	iv := AutoInterval(q.From, q.To, 60)
	buckets, err := s.Histogram(ctx, q, iv)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := make(map[int64]int64)
	for _, m := range want {
		wantCounts[floorDiv(m.key.t, int64(iv))*int64(iv)]++
	}
	var sum int64
	for _, b := range buckets {
		if b.Count != wantCounts[b.Time.UnixNano()] {
			t.Fatalf("%s: bucket %v: %d, want %d", desc, b.Time, b.Count, wantCounts[b.Time.UnixNano()])
		}
		sum += b.Count
	}
	if sum != int64(len(want)) {
		t.Fatalf("%s: histogram sums to %d, want %d", desc, sum, len(want))
	}
	// Top values.
	for _, field := range []string{"service", "status", "tags", "message", "missing"} {
		top, total, err := s.TopValues(ctx, q, field, 5)
		if err != nil {
			t.Fatal(err)
		}
		counts := make(map[string]int64)
		for _, m := range want {
			v, ok := m.ev.Lookup(field)
			if !ok {
				continue
			}
			if a, ok := v.Interface().([]any); ok {
				for _, e := range a {
					counts[event.Any(e).Text()]++
				}
				continue
			}
			counts[v.Text()]++
		}
		var wantTop []ValueCount
		for k, c := range counts {
			wantTop = append(wantTop, ValueCount{k, c})
		}
		slices.SortFunc(wantTop, func(a, b ValueCount) int {
			if a.Count != b.Count {
				return cmpI64(b.Count, a.Count)
			}
			return strings.Compare(a.Value, b.Value)
		})
		if len(wantTop) > 5 {
			wantTop = wantTop[:5]
		}
		if total != int64(len(want)) || !slices.Equal(top, wantTop) {
			t.Fatalf("%s: top %s: %v of %d, want %v of %d", desc, field, top, total, wantTop, len(want))
		}
	}
	// Fields, unsampled.
	fields, err := s.Fields(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantFields := make(map[string]int64)
	for _, m := range want {
		for _, f := range m.ev.Fields() {
			wantFields[f.Key]++
		}
	}
	if len(want) > 0 {
		wantFields["@timestamp"] = int64(len(want))
	}
	gotFields := make(map[string]int64)
	for _, f := range fields {
		gotFields[f.Name] = f.Count
	}
	if fmt.Sprint(gotFields) != fmt.Sprint(wantFields) {
		t.Fatalf("%s: fields\n got %v\nwant %v", desc, gotFields, wantFields)
	}
}
