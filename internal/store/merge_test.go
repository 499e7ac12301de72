package store

import (
	"context"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// TestMergesKeepPartsFewAndSearchesRight writes many small batches (one
// part per flush) while merges run, and checks that searches running at
// the same time always see exactly what was acknowledged (or more: writes
// in flight), and that the parts end up few.
func TestMergesKeepPartsFewAndSearchesRight(t *testing.T) {
	opts := testOptions()
	opts.MergeWorkers = 2
	s := mustOpen(t, t.TempDir(), opts)
	rng := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	var acked atomic.Int64
	var attempted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := context.Background()
		for {
			select {
			case <-stop:
				return
			default:
			}
			lo := acked.Load()
			n, err := s.Count(ctx, Query{Indices: []string{"m"}, Filter: Filter{Match: func(*event.Event) bool { return true }}})
			hi := attempted.Load()
			if err != nil {
				t.Error(err)
				return
			}
			if n < lo || n > hi {
				t.Errorf("search during merges counted %d events, want %d..%d", n, lo, hi)
				return
			}
		}
	}()
	writes := 300
	if raceEnabled {
		writes = 120
	}
	seq := 0
	for range writes {
		batch := make([]event.Event, 1+rng.IntN(50))
		for i := range batch {
			batch[i] = randEvent(rng, base.Add(time.Duration(rng.IntN(3600))*time.Second), seq)
			seq++
		}
		attempted.Add(int64(len(batch)))
		mustWrite(t, s, "m", batch)
		acked.Add(int64(len(batch)))
	}
	close(stop)
	wg.Wait()
	// Let the merges settle.
	deadline := time.Now().Add(10 * time.Second)
	var st []IndexStats
	for time.Now().Before(deadline) {
		st = s.Indices()
		if st[0].Parts <= 12 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := s.Counters()
	t.Logf("%d flushes, %d merges, %d parts left", c.Flushes, c.Merges, st[0].Parts)
	if c.Merges == 0 || st[0].Parts > 12 || st[0].Events != int64(seq) {
		t.Fatalf("after merging: %+v, counters %+v", st, c)
	}
	if c.MergeErrors != 0 {
		t.Fatalf("merge errors: %+v", c)
	}
}

// TestMergedPartsOutliveSearches checks the reference counting: a part
// merged away while a search holds it keeps its files until the search
// lets go, and the search reads it correctly.
func TestMergedPartsOutliveSearches(t *testing.T) {
	dir, _, parts, evs := threeParts(t)
	opts := testOptions()
	opts.DisableMerges = true
	s := mustOpen(t, dir, opts)
	q := Query{Filter: Filter{Match: func(*event.Event) bool { return true }}}
	pl, err := s.prepare(&q) // holds references, as a running search does
	if err != nil {
		t.Fatal(err)
	}
	mergeAll(t, s)
	if st := s.Indices(); st[0].Parts != 1 {
		t.Fatalf("%d parts after merging", st[0].Parts)
	}
	for _, p := range parts {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("part %s deleted while a search uses it", p)
		}
	}
	vs, err := s.scan(context.Background(), pl, true, 0, func() visitor { return &searchVisitor{limit: 10, desc: true} })
	if err != nil {
		t.Fatal(err)
	}
	want := int64(len(evs[0]) + len(evs[1]) + len(evs[2]))
	if res := mergeSearch(vs, 10, true, nil); res.Total != want {
		t.Fatalf("old snapshot counts %d, want %d", res.Total, want)
	}
	pl.release()
	for _, p := range parts {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("part %s still there after the last search let go", p)
		}
	}
	if n := countAll(t, s); n != int(want) {
		t.Fatalf("%d events after merging", n)
	}
}
