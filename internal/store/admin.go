package store

import (
	"fmt"

	"slices"
	"strings"
	"time"
)

// IndexStats describes one index.
type IndexStats struct {
	Name string
	// Events and Bytes count what is flushed: events, and the size of
	// their files on disk.
	Events int64
	Bytes  int64
	// RawBytes is the sum of the events' JSON sizes (as written):
	// RawBytes/Bytes is the compression ratio.
	RawBytes int64
	// Oldest and Newest are the extreme @timestamps (zero when empty).
	Oldest, Newest time.Time
	Partitions     int
	Parts          int
}

// Indices describes every index, by name.
func (s *Store) Indices() []IndexStats {
	s.mu.RLock()
	idxs := make([]*index, 0, len(s.indices))
	for _, idx := range s.indices {
		idxs = append(idxs, idx)
	}
	s.mu.RUnlock()
	out := make([]IndexStats, 0, len(idxs))
	for _, idx := range idxs {
		st := IndexStats{Name: idx.name}
		for _, p := range idx.partitionList() {
			p.mu.Lock()
			if len(p.parts) > 0 {
				st.Partitions++
			}
			for _, pt := range p.parts {
				st.Parts++
				st.Events += int64(pt.meta.events)
				st.Bytes += pt.diskBytes()
				st.RawBytes += int64(pt.meta.rawBytes)
				if oldest := timeOf(pt.meta.minT); st.Oldest.IsZero() || oldest.Before(st.Oldest) {
					st.Oldest = oldest
				}
				if newest := timeOf(pt.meta.maxT); newest.After(st.Newest) {
					st.Newest = newest
				}
			}
			p.mu.Unlock()
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b IndexStats) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// IndexExists reports whether the index exists.
func (s *Store) IndexExists(name string) bool {
	idx, _ := s.getIndex(name, false)
	return idx != nil
}

// CreateIndex creates an empty index (durably). Writing to a missing
// index creates it too.
func (s *Store) CreateIndex(name string) error {
	if err := ValidateIndexName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.indices[name] != nil {
		return fmt.Errorf("%w: %s", ErrIndexExists, name)
	}
	idx := s.newIndex(name)
	if err := idx.ensureDir(); err != nil {
		return fmt.Errorf("store: create index %s: %w", name, err)
	}
	s.indices[name] = idx
	return nil
}

// DeleteIndex deletes an index and its data. Searches already running
// finish on the data they had; writes waiting on its buffers return nil
// (their events were stored, then deleted).
func (s *Store) DeleteIndex(name string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	idx := s.indices[name]
	if idx == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrIndexNotFound, name)
	}
	delete(s.indices, name)
	var parts []*part
	for _, p := range idx.partitionList() {
		parts = append(parts, p.markDropped(s)...)
	}
	// Renamed away under the lock: a write recreating the index starts
	// from an empty directory.
	trash, err := s.moveToTrash(idx.dir)
	s.mu.Unlock()
	for _, pt := range parts {
		pt.release()
	}
	s.removeTrash(trash)
	if err != nil {
		return fmt.Errorf("store: delete index %s: %w", name, err)
	}
	return nil
}
