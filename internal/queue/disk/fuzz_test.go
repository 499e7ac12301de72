package disk

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// FuzzSegment feeds arbitrary bytes, as a segment file, to both readers of
// records: the recovery scanner and the read path of Pop (header, CRC,
// decompression, event decoding). Neither may panic, and they must agree on
// where the valid records end.
func FuzzSegment(f *testing.F) {
	zenc, _ := zstd.NewWriter(nil, zstd.WithEncoderCRC(false))
	defer zenc.Close()
	for _, z := range []*zstd.Encoder{nil, zenc} {
		var seg []byte
		for id := range 3 {
			b := (*acks)(nil).batch(id, 1+id)
			seg = append(seg, encodeRecord(nil, b.Events, time.Now().UnixNano(), z)...)
		}
		f.Add(seg)
		f.Add(seg[:len(seg)-7])
	}
	f.Add(make([]byte, 64))
	dec, err := newZstdDecoder()
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		// A small buffer, so records straddle reads.
		res := scanSegment(bytes.NewReader(data), 0, size, make([]byte, 64), nil)
		if res.end > size || (res.bad == nil && res.end != size) || res.bytes != res.end {
			t.Fatalf("scan result %+v for %d bytes", res, size)
		}
		if res.bad != nil && res.bad.off != res.end {
			t.Fatalf("bad record at %d, valid end %d", res.bad.off, res.end)
		}
		r := reader{win: window{r: bytes.NewReader(data), buf: make([]byte, 256)}}
		var off int64
		records := 0
		for off < size {
			h, err := r.peek(off, size)
			if err == nil {
				var rr readResult
				rr, err = r.read(off, size, &h)
				if err == nil {
					b := event.NewBatch("")
					if decodeRecord(&h, rr.payload, dec, b) == nil && len(b.Events) != int(h.events) {
						t.Fatalf("decoded %d events, header says %d", len(b.Events), h.events)
					}
					b.Release()
				}
			}
			if err != nil {
				break
			}
			records++
			off += h.size()
		}
		if off != res.end || records != res.records {
			t.Fatalf("reader stopped at %d after %d records, scanner at %d after %d", off, records, res.end, res.records)
		}
	})
}

// FuzzRecordPayload builds records with a valid CRC around arbitrary
// payloads (which random bytes almost never get past), so the decoding
// behind the CRC check is fuzzed too: zstd frames and event encodings from
// a buggy or newer writer must fail cleanly.
func FuzzRecordPayload(f *testing.F) {
	b := (*acks)(nil).batch(1, 3)
	rec := encodeRecord(nil, b.Events, 1, nil)
	f.Add(byte(compressionNone), uint32(3), rec[recordHeaderSize:])
	zenc, _ := zstd.NewWriter(nil, zstd.WithEncoderCRC(false))
	rec = encodeRecord(nil, b.Events, 1, zenc)
	zenc.Close()
	f.Add(byte(compressionZstd), uint32(3), rec[recordHeaderSize:])
	dec, err := newZstdDecoder()
	if err != nil {
		f.Fatal(err)
	}
	defer dec.Close()
	f.Fuzz(func(t *testing.T, flags byte, events uint32, payload []byte) {
		rec := encodeRecord(nil, nil, 1, nil)
		rec = append(rec, payload...)
		binary.LittleEndian.PutUint32(rec[0:], uint32(len(rec)-lenCRCSize))
		rec[8] = flags
		binary.LittleEndian.PutUint32(rec[9:], events)
		rec = fixCRC(rec)
		r := reader{win: window{r: bytes.NewReader(rec), buf: make([]byte, 256)}}
		h, err := r.peek(0, int64(len(rec)))
		if err != nil {
			return // unknown flags
		}
		rr, err := r.read(0, int64(len(rec)), &h)
		if err != nil {
			t.Fatalf("valid CRC rejected: %v", err)
		}
		bt := event.NewBatch("")
		if err := decodeRecord(&h, rr.payload, dec, bt); err == nil && len(bt.Events) != int(events) {
			t.Fatalf("decoded %d events, header says %d", len(bt.Events), events)
		}
		bt.Release()
	})
}
