package store

import (
	"testing"
	"time"
)

func TestRoundTripEveryValueType(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2024, 3, 1, 23, 59, 0, 0, time.UTC) // spans midnight: two partitions
	evs := allValuesEvents(base)
	want := model("types", evs)
	sortModel(want, false)

	check := func(s *Store, when string) {
		t.Helper()
		hits := searchAll(t, s, "types")
		if len(hits) != len(want) {
			t.Fatalf("%s: %d hits, want %d", when, len(hits), len(want))
		}
		for i, h := range hits {
			if got := canon(&h.Event); got != want[i].canon {
				t.Fatalf("%s: hit %d:\n got %.300s\nwant %.300s", when, i, got, want[i].canon)
			}
			if h.ID != want[i].key.String() {
				t.Fatalf("%s: hit %d: id %s, want %s", when, i, h.ID, want[i].key.String())
			}
		}
	}
	opts := testOptions()
	opts.DisableMerges = true
	s := mustOpen(t, dir, opts)
	mustWrite(t, s, "types", evs[:100])
	mustWrite(t, s, "types", evs[100:])
	check(s, "written")
	s.Close()

	s = mustOpen(t, dir, opts)
	check(s, "reopened")
	mergeAll(t, s)
	st := s.Indices()
	if len(st) != 1 || st[0].Parts != 2 || st[0].Partitions != 2 || st[0].Events != int64(len(evs)) {
		t.Fatalf("after merging: %+v", st)
	}
	check(s, "merged")
	if c := s.Counters(); c.CorruptBlocks+c.CorruptParts+c.FlushErrors+c.MergeErrors != 0 {
		t.Fatalf("counters: %+v", c)
	}
}
