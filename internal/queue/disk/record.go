package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// Record layout (FORMAT.md has the why):
//
//	0  uint32 LE  length: bytes after the length and CRC fields
//	4  uint32 LE  CRC32C (Castagnoli) of those bytes
//	8  uint8      flags: bits 0-1 compression (0 none, 1 zstd), others zero
//	9  uint32 LE  number of events
//	13 int64  LE  push time, Unix nanoseconds
//	21 payload    the events, each as event.AppendBinary; zstd-compressed as
//	              one frame when flagged
const (
	recordHeaderSize = 21
	lenCRCSize       = 8
	minRecordBody    = recordHeaderSize - lenCRCSize
	// maxRecordBytes bounds one record. A batch is never this big in
	// practice; the bound lets a scan reject a garbage length at once.
	maxRecordBytes = 256 << 20

	compressionMask = 0x03
	compressionNone = 0
	compressionZstd = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is wrapped by every error that means "these bytes are not a
// valid record".
var errCorrupt = errors.New("corrupt record")

type recordHeader struct {
	length uint32
	crc    uint32
	flags  byte
	events uint32
	push   int64
}

// size is the record's size on disk.
func (h *recordHeader) size() int64 { return lenCRCSize + int64(h.length) }

// parseHeader decodes and sanity-checks the first recordHeaderSize bytes of a
// record. It cannot check the CRC: that needs the whole record.
func parseHeader(b []byte) (recordHeader, error) {
	h := recordHeader{
		length: binary.LittleEndian.Uint32(b[0:]),
		crc:    binary.LittleEndian.Uint32(b[4:]),
		flags:  b[8],
		events: binary.LittleEndian.Uint32(b[9:]),
		push:   int64(binary.LittleEndian.Uint64(b[13:])),
	}
	switch {
	case h.length < minRecordBody:
		return h, fmt.Errorf("%w: length %d too small", errCorrupt, h.length)
	case h.size() > maxRecordBytes:
		return h, fmt.Errorf("%w: length %d too large", errCorrupt, h.length)
	case h.flags&^compressionMask != 0 || h.flags&compressionMask > compressionZstd:
		return h, fmt.Errorf("%w: unknown flags %#x", errCorrupt, h.flags)
	}
	return h, nil
}

// checkCRC verifies a whole record (header included) against its header.
func checkCRC(h *recordHeader, rec []byte) error {
	if got := crc32.Checksum(rec[lenCRCSize:], castagnoli); got != h.crc {
		return fmt.Errorf("%w: checksum mismatch (stored %08x, computed %08x)", errCorrupt, h.crc, got)
	}
	return nil
}

// bufPool holds record buffers. Buffers that grew past maxPooledBuf are
// dropped rather than kept forever.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooledBuf = 8 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// encodeRecord appends the record for events to dst (which must be empty)
// and returns it. zenc is nil for no compression; a batch that zstd cannot
// shrink is stored uncompressed.
func encodeRecord(dst []byte, events []event.Event, push int64, zenc *zstd.Encoder) []byte {
	dst = append(dst[:0], make([]byte, recordHeaderSize)...)
	flags := byte(compressionNone)
	if zenc != nil {
		rawp := getBuf()
		raw := *rawp
		for i := range events {
			raw = event.AppendBinary(raw, &events[i])
		}
		dst = zenc.EncodeAll(raw, dst)
		if len(dst)-recordHeaderSize < len(raw) {
			flags = compressionZstd
		} else {
			dst = append(dst[:recordHeaderSize], raw...)
		}
		*rawp = raw
		putBuf(rawp)
	} else {
		for i := range events {
			dst = event.AppendBinary(dst, &events[i])
		}
	}
	binary.LittleEndian.PutUint32(dst[0:], uint32(len(dst)-lenCRCSize))
	dst[8] = flags
	binary.LittleEndian.PutUint32(dst[9:], uint32(len(events)))
	binary.LittleEndian.PutUint64(dst[13:], uint64(push))
	binary.LittleEndian.PutUint32(dst[4:], crc32.Checksum(dst[lenCRCSize:], castagnoli))
	return dst
}

// decodeRecord appends the events of a record to b. payload is the part
// after the header, in a buffer the caller gives up: the events' strings
// point into it (or into its decompressed copy).
func decodeRecord(h *recordHeader, payload []byte, dec *zstd.Decoder, b *event.Batch) error {
	if h.flags&compressionMask == compressionZstd {
		raw, err := dec.DecodeAll(payload, nil)
		if err != nil {
			return fmt.Errorf("%w: decompress: %v", errCorrupt, err)
		}
		payload = raw
	}
	// An encoded event takes at least 3 bytes: bound the count before
	// growing the slice.
	n := int(h.events)
	if n > len(payload)/3 {
		return fmt.Errorf("%w: %d events in %d bytes", errCorrupt, n, len(payload))
	}
	b.Events = slices.Grow(b.Events, n)
	for i := range n {
		ev, used, err := event.DecodeBinary(payload)
		if err != nil {
			return fmt.Errorf("%w: event %d: %v", errCorrupt, i, err)
		}
		b.Events = append(b.Events, ev)
		payload = payload[used:]
	}
	if len(payload) != 0 {
		return fmt.Errorf("%w: %d bytes after the last event", errCorrupt, len(payload))
	}
	return nil
}

func newZstdDecoder() (*zstd.Decoder, error) {
	// DecodeAll starts no goroutines; the bound keeps a damaged frame
	// header from asking for absurd memory.
	return zstd.NewReader(nil, zstd.WithDecoderMaxMemory(4*maxRecordBytes), zstd.WithDecoderConcurrency(1))
}
