package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// loghubDir holds the loghub samples, outside the repository (never copy
// them in).
const loghubDir = "../../../shared/testdata/loghub"

// loadLoghub reads every dataset's *_2k.log as message events, one index
// per dataset ("loghub-apache", ...), one event per line, a second apart.
// It skips the test when the samples are absent.
func loadLoghub(t testing.TB) map[string][]event.Event {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(loghubDir, "*", "*_2k.log"))
	if len(files) == 0 {
		t.Skipf("loghub samples not found in %s", loghubDir)
	}
	base := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	out := make(map[string][]event.Event)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		name := "loghub-" + strings.ToLower(filepath.Base(filepath.Dir(f)))
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for i := 0; sc.Scan(); i++ {
			ev := event.New(base.Add(time.Duration(i)*time.Second), sc.Text())
			ev.AppendField("dataset", event.String(name))
			out[name] = append(out[name], ev)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestLoghubTokenSearch stores the loghub samples and searches random
// tokens of random lines (and tokens that are absent), comparing every
// result with a scan of the lines.
func TestLoghubTokenSearch(t *testing.T) {
	data := loadLoghub(t)
	s := mustOpen(t, t.TempDir(), testOptions())
	var all []stored
	names := make([]string, 0, len(data))
	for name, evs := range data {
		names = append(names, name)
		// In a few writes per dataset: several parts, merged in the
		// background.
		for i := 0; i < len(evs); i += 500 {
			batch := evs[i:min(i+500, len(evs))]
			mustWrite(t, s, name, batch)
			all = append(all, model(name, batch)...)
		}
	}
	slices.Sort(names)
	rng := rand.New(rand.NewPCG(3, 4))
	queries := 300
	if raceEnabled {
		queries = 60
	}
	for i := range queries {
		m := all[rng.IntN(len(all))]
		toks := Tokenize(m.ev.Message())
		tok := "zzzabsent"
		if len(toks) > 0 && rng.IntN(10) > 0 {
			tok = toks[rng.IntN(len(toks))]
		}
		var q Query
		if rng.IntN(3) == 0 {
			q.Indices = []string{names[rng.IntN(len(names))]}
		}
		if rng.IntN(2) == 0 {
			// A phrase of two consecutive tokens of the line.
			if len(toks) >= 2 {
				j := rng.IntN(len(toks) - 1)
				a, b := toks[j], toks[j+1]
				q.Filter = Filter{
					Match: func(ev *event.Event) bool {
						mt := Tokenize(ev.Message())
						for k := 0; k+1 < len(mt); k++ {
							if mt[k] == a && mt[k+1] == b {
								return true
							}
						}
						return false
					},
					Clauses: [][][]string{{{FieldToken("message", a), FieldToken("message", b)}}},
					Fields:  []string{"message"},
				}
				checkQuery(t, s, all, q, fmt.Sprintf("query %d: phrase %q %q in %v", i, a, b, q.Indices))
				continue
			}
		}
		q.Filter = Filter{
			Match:   func(ev *event.Event) bool { return containsToken(ev.Message(), tok) },
			Clauses: [][][]string{{{tok}}},
		}
		checkQuery(t, s, all, q, fmt.Sprintf("query %d: token %q in %v", i, tok, q.Indices))
	}
	// Counts per dataset.
	for _, name := range names {
		n, err := s.Count(context.Background(), Query{Indices: []string{name}})
		if err != nil || n != int64(len(data[name])) {
			t.Fatalf("%s: count %d (%v), want %d", name, n, err, len(data[name]))
		}
	}
	st := s.Indices()
	var raw, disk int64
	for _, x := range st {
		raw += x.RawBytes
		disk += x.Bytes
	}
	t.Logf("%d loghub events in %d indices: %d raw JSON bytes, %d on disk (1/%.1f)", len(all), len(st), raw, disk, float64(raw)/float64(disk))
}
