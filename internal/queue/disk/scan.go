package disk

import (
	"fmt"
	"hash/crc32"
	"io"
)

// scanResult describes the records of one segment file from an offset on.
type scanResult struct {
	records   int
	events    int
	bytes     int64 // size of the valid records
	end       int64 // offset after the last valid record
	firstPush int64
	lastPush  int64
	// bad is set when the valid records do not reach the end of the file.
	bad *badRecord
}

// badRecord is where a scan stopped before the end of the file.
type badRecord struct {
	off    int64
	reason string
	// toEOF is set when the bad record claims to run to (or past) the end of
	// the file: what a write cut short by a crash looks like.
	toEOF bool
}

// scanBufSize is the read size of a scan: large sequential reads are what
// makes recovering a big queue fast.
const scanBufSize = 1 << 20

// scanSegment verifies the records of r between start and size, reading
// through buf (any size of at least recordHeaderSize; scanBufSize in
// production). Payloads are checked with their CRC but not decoded: the
// header has all a scan needs. onRecord, when set, is called for each valid
// record.
func scanSegment(r io.ReaderAt, start, size int64, buf []byte, onRecord func(off int64, h *recordHeader)) scanResult {
	res := scanResult{end: start}
	w := window{r: r, buf: buf, size: size}
	pos := start
	for pos < size {
		if size-pos < recordHeaderSize {
			res.bad = &badRecord{off: pos, reason: fmt.Sprintf("incomplete record header (%d bytes)", size-pos), toEOF: true}
			return res
		}
		hb, err := w.get(pos, recordHeaderSize)
		if err != nil {
			res.bad = &badRecord{off: pos, reason: "read: " + err.Error()}
			return res
		}
		h, err := parseHeader(hb)
		if err != nil {
			res.bad = &badRecord{off: pos, reason: err.Error(), toEOF: pos+h.size() >= size}
			return res
		}
		end := pos + h.size()
		if end > size {
			res.bad = &badRecord{off: pos, reason: fmt.Sprintf("record of %d bytes runs past the end of the file (%d bytes left)", h.size(), size-pos), toEOF: true}
			return res
		}
		// Stream the CRC over the body: a record never needs to fit in buf.
		crc := crc32.Update(0, castagnoli, hb[lenCRCSize:])
		for p := pos + recordHeaderSize; p < end; {
			n := min(end-p, int64(len(buf)))
			chunk, err := w.get(p, int(n))
			if err != nil {
				res.bad = &badRecord{off: pos, reason: "read: " + err.Error()}
				return res
			}
			crc = crc32.Update(crc, castagnoli, chunk)
			p += n
		}
		if crc != h.crc {
			res.bad = &badRecord{off: pos, reason: fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", h.crc, crc), toEOF: end == size}
			return res
		}
		if onRecord != nil {
			onRecord(pos, &h)
		}
		if res.records == 0 {
			res.firstPush = h.push
		}
		res.lastPush = h.push
		res.records++
		res.events += int(h.events)
		res.bytes += h.size()
		pos = end
		res.end = pos
	}
	return res
}

// window reads a file through one buffer, keeping what it read last.
type window struct {
	r    io.ReaderAt
	buf  []byte
	off  int64 // file offset of buf[0]
	n    int   // valid bytes in buf
	size int64 // bytes to read at most (end of the file)
}

// get returns the n bytes at off (n <= len(buf), off+n <= size).
func (w *window) get(off int64, n int) ([]byte, error) {
	if off >= w.off && off+int64(n) <= w.off+int64(w.n) {
		i := int(off - w.off)
		return w.buf[i : i+n], nil
	}
	want := int(min(int64(len(w.buf)), w.size-off))
	m, err := w.r.ReadAt(w.buf[:want], off)
	if m < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		w.n = 0
		return nil, err
	}
	w.off, w.n = off, m
	return w.buf[:n], nil
}

// zeroFrom reports whether every byte of r from off to size is zero: the
// tail that some file systems leave after a crash extended a file whose data
// never reached the disk.
func zeroFrom(r io.ReaderAt, off, size int64, buf []byte) bool {
	for off < size {
		n := int(min(int64(len(buf)), size-off))
		m, err := r.ReadAt(buf[:n], off)
		for _, c := range buf[:m] {
			if c != 0 {
				return false
			}
		}
		if m < n {
			return err == nil || err == io.EOF
		}
		off += int64(m)
	}
	return true
}
