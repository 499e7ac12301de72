package store

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// threeParts writes three batches (three parts) to index "c" in one day
// partition and returns the store's directory, the partition directory and
// the part directories, with the store closed.
func threeParts(t *testing.T) (dir, pdir string, parts []string, evs [][]event.Event) {
	t.Helper()
	dir = t.TempDir()
	opts := testOptions()
	opts.DisableMerges = true
	s := mustOpen(t, dir, opts)
	rng := rand.New(rand.NewPCG(5, 6))
	base := time.Date(2024, 7, 1, 10, 0, 0, 0, time.UTC)
	for b := range 3 {
		batch := make([]event.Event, 3000)
		for i := range batch {
			batch[i] = randEvent(rng, base.Add(time.Duration(b*3000+i)*time.Second), b*3000+i)
		}
		mustWrite(t, s, "c", batch)
		evs = append(evs, batch)
	}
	s.Close()
	pdir = filepath.Join(dir, indicesDir, "c", dayName(dayOf(base.UnixNano())))
	ents, _ := os.ReadDir(pdir)
	for _, e := range ents {
		if e.IsDir() {
			parts = append(parts, filepath.Join(pdir, e.Name()))
		}
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3", len(parts))
	}
	return dir, pdir, parts, evs
}

func countAll(t *testing.T, s *Store) int {
	t.Helper()
	n, err := s.Count(context.Background(), Query{Filter: Filter{Match: func(*event.Event) bool { return true }}})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptPartsAreSetAside(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, part string)
	}{
		{"truncated data", func(t *testing.T, part string) {
			st, _ := os.Stat(filepath.Join(part, dataFile))
			os.Truncate(filepath.Join(part, dataFile), st.Size()/2)
		}},
		{"truncated bloom", func(t *testing.T, part string) { os.Truncate(filepath.Join(part, bloomFile), 8) }},
		{"flipped index byte", func(t *testing.T, part string) { flipByte(t, filepath.Join(part, indexFile), 20) }},
		{"empty index", func(t *testing.T, part string) { os.Truncate(filepath.Join(part, indexFile), 0) }},
		{"missing data", func(t *testing.T, part string) { os.Remove(filepath.Join(part, dataFile)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, parts, evs := threeParts(t)
			tc.damage(t, parts[1])
			s := mustOpen(t, dir, testOptions())
			if c := s.Counters(); c.CorruptParts != 1 {
				t.Fatalf("counters %+v, want one corrupt part", c)
			}
			if n := countAll(t, s); n != len(evs[0])+len(evs[2]) {
				t.Fatalf("%d events, want %d (the other two parts)", n, len(evs[0])+len(evs[2]))
			}
			if _, err := os.Stat(parts[1] + corruptExt); err != nil {
				t.Fatalf("damaged part not set aside: %v", err)
			}
			// Still writable, and the next open is clean.
			mustWrite(t, s, "c", evs[1][:10])
			s.Close()
			s = mustOpen(t, dir, testOptions())
			if c := s.Counters(); c.CorruptParts != 0 || c.MissingParts != 0 {
				t.Fatalf("second open: %+v", c)
			}
			if n := countAll(t, s); n != len(evs[0])+len(evs[2])+10 {
				t.Fatalf("%d events after the second open", n)
			}
		})
	}
}

func TestCorruptBlocksAreSkipped(t *testing.T) {
	for _, file := range []string{dataFile, bloomFile} {
		t.Run(file, func(t *testing.T) {
			dir, _, parts, evs := threeParts(t)
			st, _ := os.Stat(filepath.Join(parts[2], file))
			// A byte in the middle: sizes stay right, a checksum fails.
			flipByte(t, filepath.Join(parts[2], file), st.Size()/2)
			s := mustOpen(t, dir, testOptions())
			if c := s.Counters(); c.CorruptParts != 0 {
				t.Fatalf("counters %+v: the damage is only visible on read", c)
			}
			// A filter with clauses reads the bloom filters; Match reads
			// every column.
			q := Query{Filter: Filter{
				Match:   func(ev *event.Event) bool { return strings.Contains(ev.Message(), "id=") },
				Clauses: [][][]string{{{"id"}}},
			}, Limit: 10000}
			res, err := s.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			c := s.Counters()
			if c.CorruptBlocks == 0 {
				t.Fatalf("no corrupt block reported: %+v", c)
			}
			total := len(evs[0]) + len(evs[1]) + len(evs[2])
			if res.Total >= int64(total) || res.Total < int64(len(evs[0])+len(evs[1])) {
				t.Fatalf("total %d: want the undamaged blocks only (less than %d, at least %d)", res.Total, total, len(evs[0])+len(evs[1]))
			}
		})
	}
}

func TestRecoveryCleansLeftovers(t *testing.T) {
	dir, pdir, parts, evs := threeParts(t)
	// An interrupted flush, an interrupted list update, a part written but
	// never listed.
	os.MkdirAll(filepath.Join(pdir, tmpPrefix+partName(99)), 0o755)
	os.WriteFile(filepath.Join(pdir, tmpPrefix+partName(99), dataFile), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(pdir, partsTemp), []byte("garbage"), 0o644)
	unlisted := filepath.Join(pdir, partName(77))
	if err := os.Rename(parts[0], unlisted); err != nil {
		t.Fatal(err)
	}
	// parts[0] is now missing from the list, and 77 is unlisted.
	os.MkdirAll(filepath.Join(dir, trashDir, "x"), 0o755)
	s := mustOpen(t, dir, testOptions())
	if c := s.Counters(); c.MissingParts != 1 || c.CorruptParts != 0 {
		t.Fatalf("counters %+v, want one missing part", c)
	}
	if n := countAll(t, s); n != len(evs[1])+len(evs[2]) {
		t.Fatalf("%d events, want %d", n, len(evs[1])+len(evs[2]))
	}
	for _, p := range []string{filepath.Join(pdir, tmpPrefix+partName(99)), filepath.Join(pdir, partsTemp), unlisted, filepath.Join(dir, trashDir, "x")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not removed at open", p)
		}
	}
}

func TestBadPartListLoadsEveryPart(t *testing.T) {
	dir, pdir, _, evs := threeParts(t)
	flipByte(t, filepath.Join(pdir, partsFile), 9)
	s := mustOpen(t, dir, testOptions())
	if c := s.Counters(); c.BadPartLists != 1 {
		t.Fatalf("counters %+v, want one bad parts list", c)
	}
	if n := countAll(t, s); n != len(evs[0])+len(evs[1])+len(evs[2]) {
		t.Fatalf("%d events", n)
	}
	s.Close()
	// The list was rewritten.
	s = mustOpen(t, dir, testOptions())
	if c := s.Counters(); c.BadPartLists != 0 {
		t.Fatalf("second open: %+v", c)
	}
}

func TestOpenIsExclusive(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, testOptions())
	old := lockWait
	lockWait = 50 * time.Millisecond
	defer func() { lockWait = old }()
	if _, err := Open(dir, testOptions()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v", err)
	}
	s.Close()
	s2 := mustOpen(t, dir, testOptions())
	s2.Close()
}
