package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// Report describes a queue directory as Inspect or Verify found it.
type Report struct {
	Dir        string
	Checkpoint CheckpointReport
	// Segments lists the segment files from the ack floor on, oldest first.
	Segments []SegmentReport
	// Records, Events and Bytes are the unacknowledged records: their
	// number, the events in them and their size on disk, counted from the
	// checkpoint's floor. On a queue in use, records acknowledged since the
	// last checkpoint (at most FsyncInterval ago), or acknowledged out of
	// order in a segment not yet done, are still counted.
	Records int
	Events  int
	Bytes   int64
	// Oldest is the push time of the oldest unacknowledged record (zero
	// when there is none); Age is how old it was when the report was made.
	Oldest time.Time
	Age    time.Duration
	// CorruptRecords counts the records that failed their checksum (or,
	// for Verify, did not decode) before the synced position.
	CorruptRecords int
	// MissingSegments lists segments absent from the sequence that the
	// checkpoint does not know as acknowledged (at most 1000).
	MissingSegments []uint64
	// CorruptFiles lists the segments set aside as *.corrupt.
	CorruptFiles []string
}

// Healthy reports whether nothing is wrong: a readable checkpoint (or none,
// for a queue that never wrote one), no corrupt record, no missing segment,
// no file set aside. A torn tail alone is not a problem: it is what a crash
// leaves, and Open cuts it.
func (r *Report) Healthy() bool {
	return r.Checkpoint.State != "corrupt" && r.CorruptRecords == 0 && len(r.MissingSegments) == 0 && len(r.CorruptFiles) == 0
}

// CheckpointReport describes the checkpoint file.
type CheckpointReport struct {
	// State is "ok", "missing" or "corrupt" (then Error says why, and Open
	// will deliver every segment from the oldest).
	State string
	Error string
	// Floor: everything before it is acknowledged.
	Floor Position
	// Synced: everything before it was fsynced when the checkpoint was
	// written.
	Synced Position
	// Next is the number the next segment will get.
	Next uint64
	// AckedAhead lists segments after the floor's known to be fully
	// acknowledged.
	AckedAhead []uint64
}

// Segment states in SegmentReport.State.
const (
	SegmentOK           = "ok"           // every record from Start verified
	SegmentAcknowledged = "acknowledged" // fully acknowledged, to be deleted
	SegmentTail         = "tail"         // ends in an incomplete record: a write in progress, or torn by a crash (Open cuts it)
	SegmentCorrupt      = "corrupt"      // a bad record before the synced position
	SegmentUnreadable   = "unreadable"   // cannot be opened or read
)

// SegmentReport describes one segment file.
type SegmentReport struct {
	Seq  uint64
	File string
	Size int64
	// Start is where unacknowledged records begin (the floor, in the
	// oldest segment; 0 in the others).
	Start     int64
	Records   int
	Events    int
	Bytes     int64
	FirstPush time.Time
	LastPush  time.Time
	State     string
	// Problem describes a bad record (State tail, corrupt or unreadable).
	Problem string
	// BadOffset is where the bad record starts (-1 when there is none).
	BadOffset int64
}

// Inspect reports on the queue in dir without changing anything: the
// checkpoint, each segment with its records verified by CRC (payloads are
// not decoded), the depth and the oldest record's age. It takes no lock and
// is safe to run on a queue in use: it reads a snapshot, which may be
// slightly behind.
func Inspect(dir string) (Report, error) { return inspect(dir, false) }

// Verify is Inspect that also decompresses and decodes every event of every
// unacknowledged record, reporting records that do not decode as corrupt.
// It reads the whole queue: expect it to take as long as reading the data.
func Verify(dir string) (Report, error) { return inspect(dir, true) }

func inspect(dir string, decode bool) (Report, error) {
	now := time.Now()
	r := Report{Dir: dir}
	if _, err := os.Stat(dir); err != nil {
		return r, fmt.Errorf("inspect queue: %w", err)
	}
	l, err := listDir(dir)
	if err != nil {
		return r, fmt.Errorf("inspect queue %s: %w", dir, err)
	}
	for _, seq := range l.corrupt {
		r.CorruptFiles = append(r.CorruptFiles, segName(seq)+corruptSuffix)
	}
	ck, state, ckErr := readCheckpoint(dir)
	r.Checkpoint = CheckpointReport{State: state.String(), Floor: ck.floor, Synced: ck.synced, Next: ck.next, AckedAhead: ck.ackedAhead}
	if ckErr != nil {
		r.Checkpoint.Error = ckErr.Error()
	}
	floor := ck.floor
	if state != checkpointOK && len(l.segs) > 0 {
		floor = Position{Segment: l.segs[0]}
	}

	var dec *zstd.Decoder
	if decode {
		if dec, err = newZstdDecoder(); err != nil {
			return r, err
		}
		defer dec.Close()
	}
	buf := make([]byte, scanBufSize)
	prev := floor.Segment
	for _, seq := range l.segs {
		if seq < floor.Segment {
			continue // acknowledged; Open deletes it
		}
		for m := prev + 1; m < seq && len(r.MissingSegments) < 1000; m++ {
			if !slices.Contains(ck.ackedAhead, m) && !slices.Contains(l.corrupt, m) {
				r.MissingSegments = append(r.MissingSegments, m)
			}
		}
		prev = max(prev, seq)
		sr := SegmentReport{Seq: seq, File: segName(seq), BadOffset: -1}
		if seq == floor.Segment {
			sr.Start = floor.Offset
		}
		if slices.Contains(ck.ackedAhead, seq) {
			sr.State = SegmentAcknowledged
			r.Segments = append(r.Segments, sr)
			continue
		}
		if !inspectSegment(dir, &sr, state == checkpointOK, ck.synced, buf, dec) {
			continue // deleted meanwhile: it was acknowledged
		}
		if sr.State == SegmentCorrupt {
			r.CorruptRecords++
		}
		r.Segments = append(r.Segments, sr)
		r.Records += sr.Records
		r.Events += sr.Events
		r.Bytes += sr.Bytes
		if r.Oldest.IsZero() && sr.Records > 0 {
			r.Oldest = sr.FirstPush
		}
	}
	if !r.Oldest.IsZero() {
		r.Age = now.Sub(r.Oldest)
	}
	return r, nil
}

// inspectSegment fills sr; it returns false if the file is gone.
func inspectSegment(dir string, sr *SegmentReport, ckOK bool, synced Position, buf []byte, dec *zstd.Decoder) bool {
	f, err := os.Open(segPath(dir, sr.Seq))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		sr.State, sr.Problem = SegmentUnreadable, err.Error()
		return true
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		sr.State, sr.Problem = SegmentUnreadable, err.Error()
		return true
	}
	sr.Size = fi.Size()
	start := min(sr.Start, sr.Size)
	var decodeErr error
	var decodeOff int64
	var onRecord func(off int64, h *recordHeader)
	if dec != nil {
		onRecord = func(off int64, h *recordHeader) {
			if decodeErr != nil {
				return
			}
			rec := make([]byte, h.size())
			if _, err := f.ReadAt(rec, off); err != nil {
				decodeErr, decodeOff = err, off
				return
			}
			b := event.NewBatch("")
			if err := decodeRecord(h, rec[recordHeaderSize:], dec, b); err != nil {
				decodeErr, decodeOff = err, off
			}
			b.Release()
		}
	}
	res := scanSegment(f, start, sr.Size, buf, onRecord)
	sr.Records, sr.Events, sr.Bytes = res.records, res.events, res.bytes
	if res.records > 0 {
		sr.FirstPush, sr.LastPush = time.Unix(0, res.firstPush), time.Unix(0, res.lastPush)
	}
	sr.State = SegmentOK
	if b := res.bad; b != nil {
		sr.BadOffset, sr.Problem = b.off, b.reason
		var tail bool
		if ckOK {
			tail = !(Position{sr.Seq, b.off}).Before(synced)
		} else {
			tail = b.toEOF || zeroFrom(f, b.off, sr.Size, buf)
		}
		if tail {
			sr.State = SegmentTail
		} else {
			sr.State = SegmentCorrupt
		}
	}
	if decodeErr != nil {
		sr.State, sr.BadOffset = SegmentCorrupt, decodeOff
		sr.Problem = fmt.Sprintf("record at offset %d does not decode: %v", decodeOff, decodeErr)
	}
	return true
}
