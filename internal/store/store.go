// Package store is Sluice's log store engine: indices of events
// partitioned by UTC day, each partition a set of immutable parts, each
// part blocks of time-sorted events stored column by column, compressed,
// with per-block time ranges and per-column token Bloom filters so that
// searches skip most of the data. FORMAT.md, next to this file, documents
// the files.
//
// Open a directory with Open. Write stores events durably (group commit:
// Write returns once the part holding them is fsynced and published);
// Search, Histogram, TopValues, Fields, Surrounding and Subscribe read
// them back; background merges keep the number of parts low; retention
// and disk watermarks keep the disk from filling.
//
// The store does not parse queries: a Filter carries an exact match
// function and the tokens it implies (see Filter), built by the caller from
// KQL or from the Elasticsearch query DSL.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

const (
	lockName   = "LOCK"
	indicesDir = "indices"
	trashDir   = "trash"
	tmpPrefix  = "tmp-"
	corruptExt = ".corrupt"
)

// lockWait is how long Open waits for the directory lock.
var lockWait = 2 * time.Second

// Counters are problem and activity counts since Open.
type Counters struct {
	// CorruptParts counts parts found damaged at Open (set aside as
	// NAME.corrupt) and parts whose blocks failed to read later.
	CorruptParts int64
	// CorruptBlocks counts blocks skipped by searches because their data
	// failed a checksum or did not decode.
	CorruptBlocks int64
	// MissingParts counts parts named by a parts list but absent at Open.
	MissingParts int64
	// BadPartLists counts parts lists found unreadable at Open: every
	// valid part directory of that partition was then loaded (duplicates
	// are possible, losses are not).
	BadPartLists int64
	// FlushErrors counts failed flushes; their writers got the error.
	FlushErrors int64
	// Flushes and Merges count parts created by each.
	Flushes int64
	Merges  int64
	// MergeErrors counts failed (or aborted) merges.
	MergeErrors int64
	// DroppedPartitions counts day partitions removed by retention.
	DroppedPartitions int64
	// TailDropped counts events not delivered to slow subscribers.
	TailDropped int64
}

type counters struct {
	corruptParts, corruptBlocks, missingParts, badPartLists atomic.Int64
	flushErrors, flushes, merges, mergeErrors               atomic.Int64
	droppedPartitions, tailDropped                          atomic.Int64
}

// Store is a log store in one directory.
//
// # Design
//
// Every index is a directory of day partitions; a partition is a directory
// of immutable parts plus a "parts" list naming the published ones. Write
// validates and encodes events (event.AppendBinary) into a buffer per
// partition and waits; the flusher goroutine, every FlushInterval (or
// sooner when a buffer reaches FlushBytes), turns each buffer into a new
// part: events sorted by time, cut into blocks, encoded column by column
// in parallel, written into a temporary directory, fsynced, renamed into
// place, then the parts list is replaced (write-temp-fsync-rename) and the
// part published. Only then do the writers waiting on that buffer return
// (nil, or the flush's error: nothing they were told is stored can be
// lost). Merge workers combine small parts of a partition into bigger
// ones in the background, swapping the parts list the same way; parts are
// reference counted so the files of a merged-away part are deleted only
// when no search uses them.
//
// # Concurrency
//
// Every method may be called from any goroutine. Locks, in the order they
// nest: Store.mu (the index map; held briefly), partition.flushMu (one
// flush at a time per partition), partition.listMu (changes to the parts
// list), partition.mu (the in-memory part slice and write buffer; never
// held across I/O), Store.subMu (subscribers). Searches copy the part
// slices they need and take references, then run without locks.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File

	zdec      *zstd.Decoder
	zencFlush *zstd.Encoder
	zencMerge *zstd.Encoder

	mu      sync.RWMutex
	closed  bool
	indices map[string]*index

	kick     chan struct{}
	stop     chan struct{}
	bgCtx    context.Context
	bgCancel context.CancelFunc
	wg       sync.WaitGroup
	mergeQ   chan *partition

	buffered  atomic.Int64 // bytes in write buffers
	flushedMu sync.Mutex
	flushed   chan struct{} // closed (and replaced) after each flush round

	diskFull  atomic.Pointer[DiskFullError]
	retention atomic.Pointer[[]RetentionRule]
	diskMu    sync.Mutex
	trashSeq  atomic.Uint64
	subMu     sync.Mutex
	subs      map[*subscriber]struct{}
	builders  sync.Pool // *blockBuilder
	scanners  sync.Pool // *scanner
	closeOnce sync.Once
	c         counters
}

// index is one index: its day partitions.
type index struct {
	name     string
	dir      string
	mu       sync.Mutex
	parts    map[int64]*partition
	dirReady atomic.Bool
}

// Open opens (creating if needed) the store in dir and recovers it: temp
// directories of interrupted flushes and merges are removed, parts not
// named by their partition's parts list are deleted, damaged parts are set
// aside and reported. Only one Store may have a directory open.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{
		dir:     dir,
		opts:    opts,
		log:     opts.Logger.With("store", dir),
		indices: make(map[string]*index),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		mergeQ:  make(chan *partition, 4096),
		subs:    make(map[*subscriber]struct{}),
		flushed: make(chan struct{}),
	}
	rules := slices.Clone(opts.Retention)
	s.retention.Store(&rules)
	for _, d := range []string{dir, filepath.Join(dir, indicesDir), filepath.Join(dir, trashDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	var err error
	if s.lock, err = lockDir(dir, lockWait); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	fail := func(err error) (*Store, error) {
		s.closeCodecs()
		unlockDir(s.lock)
		return nil, fmt.Errorf("store: %w", err)
	}
	if s.zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(2*maxChunkRaw)); err != nil {
		return fail(err)
	}
	if s.zencFlush, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1)); err != nil {
		return fail(err)
	}
	if s.zencMerge, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1)); err != nil {
		return fail(err)
	}
	s.emptyTrash()
	if err := s.load(); err != nil {
		s.closeParts()
		return fail(err)
	}
	s.checkDisk()
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.flushLoop()
	go s.housekeepLoop()
	if !opts.DisableMerges {
		for range opts.MergeWorkers {
			s.wg.Add(1)
			go s.mergeLoop()
		}
		s.mu.RLock()
		for _, idx := range s.indices {
			for _, p := range idx.parts {
				s.scheduleMerge(p)
			}
		}
		s.mu.RUnlock()
	}
	return s, nil
}

// Close flushes what was written (the writers waiting for it return),
// stops the background work (a merge in progress is abandoned, its temp
// directory removed), ends every subscription (closing its channel) and
// releases the directory. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		s.bgCancel()
		s.wg.Wait()
		// No Write can add to a buffer any more: flush the last ones.
		s.flushAll(false)
		s.subMu.Lock()
		for sub := range s.subs {
			close(sub.ch)
			delete(s.subs, sub)
		}
		s.subMu.Unlock()
		s.closeParts()
		s.closeCodecs()
		unlockDir(s.lock)
	})
	return nil
}

func (s *Store) closeCodecs() {
	if s.zdec != nil {
		s.zdec.Close()
	}
	if s.zencFlush != nil {
		s.zencFlush.Close()
	}
	if s.zencMerge != nil {
		s.zencMerge.Close()
	}
}

// closeParts drops the partitions' references to their parts (files close
// when searches still running finish).
func (s *Store) closeParts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, idx := range s.indices {
		for _, p := range idx.parts {
			p.mu.Lock()
			parts := p.parts
			p.parts = nil
			p.mu.Unlock()
			for _, pt := range parts {
				pt.release()
			}
		}
	}
}

// Counters returns the problem and activity counts since Open.
func (s *Store) Counters() Counters {
	return Counters{
		CorruptParts:      s.c.corruptParts.Load(),
		CorruptBlocks:     s.c.corruptBlocks.Load(),
		MissingParts:      s.c.missingParts.Load(),
		BadPartLists:      s.c.badPartLists.Load(),
		FlushErrors:       s.c.flushErrors.Load(),
		Flushes:           s.c.flushes.Load(),
		Merges:            s.c.merges.Load(),
		MergeErrors:       s.c.mergeErrors.Load(),
		DroppedPartitions: s.c.droppedPartitions.Load(),
		TailDropped:       s.c.tailDropped.Load(),
	}
}

// getIndex returns the index named name, creating it in memory when create
// is set (its directory is created by the first flush, or by CreateIndex).
func (s *Store) getIndex(name string, create bool) (*index, error) {
	s.mu.RLock()
	idx, closed := s.indices[name], s.closed
	s.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if idx != nil || !create {
		return idx, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if idx = s.indices[name]; idx == nil {
		idx = s.newIndex(name)
		s.indices[name] = idx
	}
	return idx, nil
}

func (s *Store) newIndex(name string) *index {
	return &index{name: name, dir: filepath.Join(s.dir, indicesDir, name), parts: make(map[int64]*partition)}
}

// ensureDir creates the index directory durably.
func (idx *index) ensureDir() error {
	if idx.dirReady.Load() {
		return nil
	}
	if err := os.Mkdir(idx.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := syncDir(filepath.Dir(idx.dir)); err != nil {
		return err
	}
	idx.dirReady.Store(true)
	return nil
}

// partition returns the partition of day, creating it in memory.
func (idx *index) partition(day int64) *partition {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	p := idx.parts[day]
	if p == nil {
		p = &partition{idx: idx, day: day, dir: filepath.Join(idx.dir, dayName(day)), next: 1}
		idx.parts[day] = p
	}
	return p
}

// partitions returns the index's partitions, oldest first.
func (idx *index) partitionList() []*partition {
	idx.mu.Lock()
	ps := make([]*partition, 0, len(idx.parts))
	for _, p := range idx.parts {
		ps = append(ps, p)
	}
	idx.mu.Unlock()
	slices.SortFunc(ps, func(a, b *partition) int { return int(a.day - b.day) })
	return ps
}

// forget removes a dropped partition from the map, if it is still there.
func (idx *index) forget(p *partition) {
	idx.mu.Lock()
	if idx.parts[p.day] == p {
		delete(idx.parts, p.day)
	}
	idx.mu.Unlock()
}
