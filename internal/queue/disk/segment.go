package disk

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	segNameLen     = 20
	corruptSuffix  = ".corrupt"
	checkpointName = "checkpoint"
	checkpointTemp = "checkpoint.tmp"
	lockName       = "LOCK"
)

func segName(seq uint64) string { return fmt.Sprintf("%020d", seq) }

func segPath(dir string, seq uint64) string { return filepath.Join(dir, segName(seq)) }

// parseSegName returns the sequence number of a segment file name, and
// whether the name is one of a segment set aside as corrupt.
func parseSegName(name string) (seq uint64, corrupt, ok bool) {
	base, corrupt := strings.CutSuffix(name, corruptSuffix)
	if len(base) != segNameLen {
		return 0, false, false
	}
	for i := 0; i < len(base); i++ {
		if base[i] < '0' || base[i] > '9' {
			return 0, false, false
		}
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, corrupt, err == nil
}

// dirListing is what a queue directory holds.
type dirListing struct {
	segs    []uint64 // segment files, ascending
	corrupt []uint64 // segments set aside, ascending
}

func (l *dirListing) maxSeq() uint64 {
	var m uint64
	if n := len(l.segs); n > 0 {
		m = l.segs[n-1]
	}
	if n := len(l.corrupt); n > 0 {
		m = max(m, l.corrupt[n-1])
	}
	return m
}

func listDir(dir string) (dirListing, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return dirListing{}, err
	}
	var l dirListing
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		seq, corrupt, ok := parseSegName(e.Name())
		if !ok {
			continue
		}
		if corrupt {
			l.corrupt = append(l.corrupt, seq)
		} else {
			l.segs = append(l.segs, seq)
		}
	}
	slices.Sort(l.segs)
	slices.Sort(l.corrupt)
	return l, nil
}

// Position is a place in the queue: a segment and a byte offset in it.
type Position struct {
	Segment uint64
	Offset  int64
}

// Before reports whether p comes before o.
func (p Position) Before(o Position) bool {
	return p.Segment < o.Segment || (p.Segment == o.Segment && p.Offset < o.Offset)
}

// String formats p as SEGMENT:OFFSET.
func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Segment, p.Offset) }

// flight is a record handed out by Pop and not yet acknowledged.
type flight struct {
	off    int64
	size   int64
	push   int64
	events int
	state  uint8
}

const (
	flightOut     uint8 = iota // handed out, no answer yet
	flightDone                 // Delivered or Rejected: acknowledged
	flightErrored              // Errored: answered but not acknowledged
)

// segment is the in-memory state of one live segment file. The fields are
// guarded by Queue.mu, except wf and broken, which only the writer (holding
// Queue.wmu) and the flusher (holding Queue.fmu, for sealed segments) use.
type segment struct {
	seq uint64
	// start is the offset of the first record tracked: the ack floor for the
	// oldest segment at Open, 0 otherwise.
	start int64
	// size is the end of the records written and published to readers.
	size   int64
	sealed bool // no more records will be appended
	// corrupt segments are renamed aside instead of deleted when done.
	corrupt bool
	// firstPush is the push time of the first tracked record (0 if none).
	firstPush int64

	// Writer and flusher.
	wf          *os.File // write handle: the current segment, or sealed until synced
	broken      bool     // a failed write could not be truncated away: rotate
	dirtyListed bool     // in Queue.unsynced

	// Totals of tracked records.
	records int
	events  int
	bytes   int64

	// Reader.
	readRecords int
	readEvents  int
	readBytes   int64
	readDone    bool // the read cursor has moved past the segment
	acked       int  // records acknowledged (Delivered or Rejected)
	// flights holds the records handed out and not yet acknowledged, in
	// offset order, from the oldest unacknowledged one; the record with id
	// i is flights[i-flBase].
	flights []flight
	flBase  int
}

// done reports whether every record of the segment was read and
// acknowledged, so that the file can go.
func (s *segment) done() bool {
	return s.sealed && s.readDone && s.readRecords == s.records && s.acked == s.records
}

// popAcked drops the acknowledged records at the front of flights.
func (s *segment) popAcked() {
	i := 0
	for i < len(s.flights) && s.flights[i].state == flightDone {
		i++
	}
	if i == 0 {
		return
	}
	s.flBase += i
	if i == len(s.flights) {
		s.flights = s.flights[:0]
		return
	}
	// Slide down rather than reslice, so the backing array is reused.
	n := copy(s.flights, s.flights[i:])
	s.flights = s.flights[:n]
}
