// Package disk is Sluice's durable destination queue: a queue.Queue whose
// batches live in checksummed segment files, so that what a source was told
// is "durably queued" survives a crash, a kill -9 or a reboot, and a
// destination that is down for hours costs disk, not memory.
//
// Open a directory with Open; the *Queue implements queue.Queue. Inspect and
// Verify read a queue directory without changing it (for `sluice queue
// inspect|verify`). FORMAT.md, next to this file, documents the files.
package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/queue"
)

// Options configures a disk queue. The zero value of each field selects its
// default.
type Options struct {
	// MaxBytes and MaxEvents bound the unacknowledged data on disk (bytes as
	// stored, headers and compression included). Zero means no bound. As with
	// the memory queue, a batch bigger than the bound is still accepted when
	// the queue is empty, so nothing is stuck forever.
	MaxBytes  int64
	MaxEvents int
	// DropNewest sheds new batches when full (when_full: drop_newest)
	// instead of blocking.
	DropNewest bool
	// FsyncInterval is how often written records are fsynced (default
	// 500ms). A batch's acknowledgement fires after the fsync that covers it.
	FsyncInterval time.Duration
	// FsyncEvery, when positive, also fsyncs as soon as that many records
	// are waiting for one.
	// GroupCommit fsyncs at once when a batch whose sender waits for its
	// acknowledgement (one that carries an Acker) is written, together with
	// every record written while the previous fsync ran, so acknowledged
	// ingest is not held up by the interval. Data nobody waits on is still
	// synced by FsyncInterval and FsyncEvery.
	GroupCommit bool
	FsyncEvery  int
	// Compression is "none" (the default) or "zstd". It applies to new
	// records; records of either kind are read back.
	Compression string
	// SegmentBytes is the size at which a new segment file is started
	// (default 64 MiB).
	SegmentBytes int64
	// Metrics, when set, gets the queue depth gauges and drop counts.
	Metrics *metrics.Destination
	// Logger gets recovery reports and I/O errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock for push times (default time.Now); for tests.
	Now func() time.Time
}

const (
	defaultFsyncInterval = 500 * time.Millisecond
	defaultSegmentBytes  = 64 << 20
)

// lockWait is how long Open waits for the directory lock: long enough to
// ride out a closed queue of this process writing its last checkpoint.
// A variable for tests.
var lockWait = 2 * time.Second

func (o *Options) setDefaults() error {
	if o.FsyncInterval <= 0 {
		o.FsyncInterval = defaultFsyncInterval
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = defaultSegmentBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch o.Compression {
	case "":
		o.Compression = "none"
	case "none", "zstd":
	default:
		return fmt.Errorf("unknown compression %q (want none or zstd)", o.Compression)
	}
	if o.MaxBytes < 0 || o.MaxEvents < 0 || o.FsyncEvery < 0 {
		return errors.New("max_bytes, max_events and fsync_every must not be negative")
	}
	return nil
}

// Counters are the queue's problem counts since Open (recovery included).
type Counters struct {
	// CheckpointResets counts checkpoints found unreadable at Open: the
	// queue then replayed every segment present (duplicates, no loss).
	CheckpointResets int
	// TornBytes counts bytes cut off torn tails at Open: records whose write
	// a crash interrupted, which were never acknowledged to their senders.
	TornBytes int64
	// CorruptRecords counts records that failed their checksum or did not
	// decode, at Open or when read. The rest of their segment from there on
	// is skipped, and the segment is renamed aside (*.corrupt) once done.
	CorruptRecords int
	// LostBytes counts the bytes skipped because of corrupt records.
	LostBytes int64
	// MissingSegments counts segment files absent from the sequence at Open
	// that the checkpoint did not know as acknowledged.
	MissingSegments int
	// WriteErrors counts failed appends (Push returned the error).
	WriteErrors int
	// SyncErrors counts failed fsyncs; the batches they covered were
	// acknowledged Errored, so their senders send them again.
	SyncErrors int
	// CheckpointErrors counts failed checkpoint writes.
	CheckpointErrors int
}

// Queue is a durable FIFO of batches in a directory of segment files.
//
// # Design
//
// Push encodes a batch into one record (header with length, CRC32C, flags,
// event count and push time; payload of binary-encoded events, optionally
// zstd-compressed) and appends it to the current segment file, starting a
// new segment at SegmentBytes. Push returns once the record is written; the
// batch's acknowledgements are kept and fired (Delivered) by the flusher
// after the fsync that covers the record, so a source is told "queued" only
// for data on stable storage. A write that fails (disk full) is truncated
// away, Push returns the error and the queue keeps working; the next Push
// simply tries again.
//
// Pop reads records in order from a read cursor and hands each out as a
// batch carrying its own Acker. Acknowledgements may come back in any order:
// each segment counts its records and the acknowledged ones, and keeps the
// records handed out but not yet acknowledged (its "flights"). The ack floor
// is the oldest unacknowledged record: everything before it is done. A
// segment that has been read to its end and whose records are all
// acknowledged is deleted (after the checkpoint that records it), even when
// older segments are still pinned by a slow record, so one slow record pins
// at most its own segment. Delivered and Rejected acknowledge a record;
// Errored leaves it unacknowledged, to be delivered again after a restart.
//
// One goroutine, the flusher, owns durability: every FsyncInterval (or
// after FsyncEvery records, or on Sync or Close) it fsyncs the segments
// written since the last time (and the directory when a segment was
// created), fires the acknowledgements that fsync covered, then writes the
// checkpoint (the ack floor, the synced position, the segments acknowledged
// ahead of the floor) by write-temp, fsync, rename, fsync-dir, and deletes
// the segments that are done.
//
// Open recovers: it reads the checkpoint (falling back to the oldest segment
// when it is torn or corrupt: at-least-once, never loss of acknowledged
// data), scans the segments from the floor with large sequential reads,
// checking CRCs and summing event counts from the record headers without
// decoding payloads, truncates torn tails (records after the synced
// position that a crash cut short), sets aside segments with corruption in
// their middle, logs missing segments, and starts a new segment to write.
//
// # Concurrency
//
// Push, Pop, TryPop, Stats and Sync may be called from any goroutine. Four
// locks, always taken in this order when nested: rsem (the read cursor's
// I/O), wmu (appends to the current segment), fmu (fsync, checkpoint,
// deletion), mu (all in-memory state, held only briefly and never across
// I/O, except closing files). Encoding and decoding run outside all locks,
// so several pushers or poppers use several cores.
type Queue struct {
	dir  string
	opts Options
	log  *slog.Logger
	zenc *zstd.Encoder // nil without compression
	zdec *zstd.Decoder

	// rsem serializes readers; it guards rd.
	rsem chan struct{}
	rd   reader

	// wmu serializes appends; it guards wclosed and the writer's use of the
	// current segment's file.
	wmu          sync.Mutex
	wclosed      bool
	writeFailing atomic.Bool
	forceRotate  atomic.Bool

	// fmu serializes flushes and checkpoints; it guards lock, lastCkpt,
	// lastCkptAt, syncFailing, ckptFailing and the file handles of sealed
	// segments.
	fmu         sync.Mutex
	lastCkpt    checkpoint
	lastCkptAt  time.Time
	syncFailing bool
	ckptFailing bool

	lock *os.File // the directory lock, until Close (guarded by fmu)

	mu       sync.Mutex
	closed   bool
	segs     []*segment // live segments by sequence; the last is the one written
	wseg     *segment
	nextSeq  uint64
	cur      *segment // read cursor: segment and offset
	curOff   int64
	curPush  int64 // push time of the record at the cursor, 0 if unknown
	lastRead int64 // push time of the last record read
	events   int   // unacknowledged (and reserved by Pushes in progress)
	bytes    int64
	inflight int // records handed out and not answered
	// pending holds the acknowledgements of written records waiting for the
	// fsync that covers them, in write order.
	pending         []*event.Batch
	unsynced        []*segment
	unsyncedRecords int
	dirDirty        bool
	synced          Position
	doomed          []*segment // done, to delete after the next checkpoint
	ackedAhead      []uint64   // done segments after the floor's, as checkpointed
	wantCkpt        bool
	counters        Counters
	space, data     chan struct{} // closed and replaced to wake waiters

	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

var _ queue.Queue = (*Queue)(nil)

// Open opens (creating it if needed) the queue in dir, recovers what a
// previous run left there, and starts the flusher. Only one Queue may have a
// directory open at a time; Open fails if another has it.
func Open(dir string, opts Options) (*Queue, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("disk queue %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("disk queue: %w", err)
	}
	lock, err := lockDir(dir, lockWait)
	if err != nil {
		return nil, fmt.Errorf("disk queue %s: %w", dir, err)
	}
	q := &Queue{
		dir:   dir,
		opts:  opts,
		log:   opts.Logger.With("queue_dir", dir),
		rsem:  make(chan struct{}, 1),
		rd:    reader{dir: dir},
		lock:  lock,
		space: make(chan struct{}),
		data:  make(chan struct{}),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
	}
	if opts.Compression == "zstd" {
		// Our own CRC covers the record, so zstd's frame checksum is dropped.
		if q.zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false)); err != nil {
			unlockDir(lock)
			return nil, fmt.Errorf("disk queue %s: %w", dir, err)
		}
	}
	if q.zdec, err = newZstdDecoder(); err != nil {
		unlockDir(lock)
		return nil, fmt.Errorf("disk queue %s: %w", dir, err)
	}
	if err := q.recover(); err != nil {
		q.closeFiles()
		unlockDir(lock)
		return nil, fmt.Errorf("disk queue %s: %w", dir, err)
	}
	q.gauges()
	q.wg.Add(1)
	go q.run()
	return q, nil
}

// kickFlusher wakes the flusher without waiting.
func (q *Queue) kickFlusher() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// Stats implements queue.Queue: the unacknowledged records (unread or
// handed out and not yet acknowledged), their size on disk and the push
// time of the oldest.
func (q *Queue) Stats() queue.Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := queue.Stats{Events: q.events, Bytes: q.bytes}
	if q.events > 0 {
		if p := q.oldestLocked(); p != 0 {
			st.Oldest = time.Unix(0, p)
		}
	}
	return st
}

// oldestLocked returns the push time of the oldest unacknowledged record.
func (q *Queue) oldestLocked() int64 {
	for _, s := range q.segs {
		if len(s.flights) > 0 {
			return s.flights[0].push
		}
		if s.records == s.acked {
			continue
		}
		// s has unread records, from the cursor on or from its start.
		if q.cur != s || q.curOff == s.start {
			return s.firstPush
		}
		if q.curPush != 0 {
			return q.curPush
		}
		// The record at the cursor was pushed after the last one read;
		// its own time is known only once its header is read.
		return q.lastRead
	}
	return 0
}

// Counters returns the queue's problem counts.
func (q *Queue) Counters() Counters {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.counters
}

// Dir returns the queue's directory.
func (q *Queue) Dir() string { return q.dir }

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

func (q *Queue) gauges() {
	q.mu.Lock()
	q.gaugesLocked()
	q.mu.Unlock()
}

func (q *Queue) gaugesLocked() {
	if m := q.opts.Metrics; m != nil {
		m.QueueEvents.Set(float64(q.events))
		m.QueueBytes.Set(float64(q.bytes))
	}
}

// pathCause drops the file name from an *fs.PathError: the messages it
// goes into name the directory and segment already.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func wake(ch *chan struct{}) {
	close(*ch)
	*ch = make(chan struct{})
}

// Sync fsyncs every record written so far, fires their acknowledgements and
// writes the checkpoint, without waiting for the next FsyncInterval.
func (q *Queue) Sync() error {
	if q.isClosed() {
		return queue.ErrClosed
	}
	return q.flush(true)
}

// Close implements queue.Queue: it stops Push (queue.ErrClosed), fsyncs
// what was written, fires the pending acknowledgements, writes the
// checkpoint, stops the flusher and releases the directory. Pop keeps
// returning the records left unread, then io.EOF; their acknowledgements
// are checkpointed as they come (every FsyncInterval, and when all are in),
// as long as no other Queue has opened the directory since. Reopen the
// directory to resume where this queue stopped. Close is safe to call more
// than once.
func (q *Queue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	wake(&q.space)
	q.mu.Unlock()

	// Wait out a write in progress; none starts after this.
	q.wmu.Lock()
	q.wclosed = true
	q.wmu.Unlock()

	close(q.stop)
	q.wg.Wait()

	q.mu.Lock()
	q.wseg.sealed = true
	if !q.wseg.dirtyListed {
		q.wseg.dirtyListed = true
		q.unsynced = append(q.unsynced, q.wseg)
	}
	wake(&q.data)
	q.mu.Unlock()

	if err := q.flush(true); err != nil {
		q.log.Error("disk queue: final flush failed; the batches it covered were acknowledged Errored", "error", err)
	}
	q.closeFiles()
	// The zstd encoder is not closed: a Push racing with Close may still be
	// encoding, and EncodeAll holds no goroutine or file to release.
	q.fmu.Lock()
	unlockDir(q.lock)
	q.lock = nil
	q.fmu.Unlock()
}

// closeFiles closes the write handles left open.
func (q *Queue) closeFiles() {
	q.fmu.Lock()
	defer q.fmu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range q.segs {
		if s.wf != nil {
			s.wf.Close()
			s.wf = nil
		}
	}
	for _, s := range q.doomed {
		if s.wf != nil {
			s.wf.Close()
			s.wf = nil
		}
	}
}
