package disk

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	// readAheadSize is the reader's buffer: records up to this size are read
	// through it, several per system call; bigger ones are read directly into
	// their own buffer.
	readAheadSize = 1 << 20
)

// reader reads records at the read cursor. It belongs to whoever holds
// Queue.rsem.
type reader struct {
	dir string
	seq uint64 // segment f is open on
	f   *os.File
	win window
}

func (r *reader) open(seq uint64) error {
	if r.f != nil && r.seq == seq {
		return nil
	}
	r.close()
	f, err := os.Open(segPath(r.dir, seq))
	if err != nil {
		return fmt.Errorf("open segment %d: %w", seq, err)
	}
	if r.win.buf == nil {
		r.win.buf = make([]byte, readAheadSize)
	}
	r.f, r.seq = f, seq
	r.win.r, r.win.off, r.win.n = f, 0, 0
	return nil
}

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
		r.f, r.win.r, r.win.n = nil, nil, 0
	}
}

// release drops the buffer too (after the queue is drained).
func (r *reader) release() {
	r.close()
	r.win.buf = nil
}

// readResult is a record read from disk, its CRC verified.
type readResult struct {
	h       recordHeader
	payload []byte // a fresh buffer the record's events may point into
	// nextPush is the push time of the record after this one when its
	// header was already in the buffer (0 if not).
	nextPush int64
}

// peek returns the header of the record at off; limit is the end of the
// published records.
func (r *reader) peek(off, limit int64) (recordHeader, error) {
	if limit-off < recordHeaderSize {
		return recordHeader{}, fmt.Errorf("%w: incomplete header at offset %d", errCorrupt, off)
	}
	r.win.size = limit
	hb, err := r.win.get(off, recordHeaderSize)
	if err != nil {
		return recordHeader{}, fmt.Errorf("read segment %d at %d: %w", r.seq, off, err)
	}
	h, err := parseHeader(hb)
	if err != nil {
		return h, err
	}
	if off+h.size() > limit {
		return h, fmt.Errorf("%w: record of %d bytes runs past the end of the data", errCorrupt, h.size())
	}
	return h, nil
}

// read reads the record at off whose header peek returned.
func (r *reader) read(off, limit int64, h *recordHeader) (readResult, error) {
	size := h.size()
	res := readResult{h: *h}
	var rec []byte
	if size <= int64(len(r.win.buf)) {
		w, err := r.win.get(off, int(size))
		if err != nil {
			return res, fmt.Errorf("read segment %d at %d: %w", r.seq, off, err)
		}
		if err := checkCRC(h, w); err != nil {
			return res, err
		}
		res.payload = append([]byte(nil), w[recordHeaderSize:]...)
		next := off + size
		if next+recordHeaderSize <= limit && next >= r.win.off && next+recordHeaderSize <= r.win.off+int64(r.win.n) {
			i := next - r.win.off
			res.nextPush = int64(binary.LittleEndian.Uint64(r.win.buf[i+13:]))
		}
		return res, nil
	}
	rec = make([]byte, size)
	if _, err := r.win.r.ReadAt(rec, off); err != nil {
		return res, fmt.Errorf("read segment %d at %d: %w", r.seq, off, err)
	}
	if err := checkCRC(h, rec); err != nil {
		return res, err
	}
	res.payload = rec[recordHeaderSize:]
	return res, nil
}
