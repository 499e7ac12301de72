package store

import (
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// blockReader reads one block of a part at a time, decoding columns on
// demand. It is used by one goroutine and reused from block to block: the
// strings of the values it returns are only valid until the next reset.
type blockReader struct {
	zdec   *zstd.Decoder
	p      *part
	bh     *blockHeader
	ts     []int64
	tsOK   bool
	cols   []colData
	bloomB []byte
	bloomK bool
	stored []byte
	tsRaw  []byte
}

func (r *blockReader) reset(p *part, bh *blockHeader) {
	r.p, r.bh = p, bh
	r.tsOK, r.bloomK = false, false
	if cap(r.cols) < len(bh.cols) {
		r.cols = append(r.cols[:cap(r.cols)], make([]colData, len(bh.cols)-cap(r.cols))...)
	}
	r.cols = r.cols[:len(bh.cols)]
	for i := range r.cols {
		r.cols[i].loaded = false
	}
}

func (r *blockReader) timestamps() ([]int64, error) {
	if r.tsOK {
		return r.ts, nil
	}
	raw, err := r.p.readChunk(&r.bh.ts, r.zdec, &r.stored, r.tsRaw)
	r.tsRaw = raw
	if err != nil {
		return nil, err
	}
	n := int(r.bh.rows)
	r.ts = resize(r.ts, n)
	t, k := binary.Varint(raw)
	if k <= 0 {
		return nil, r.corrupt("bad first timestamp")
	}
	raw = raw[k:]
	r.ts[0] = t
	for i := 1; i < n; i++ {
		d, k := binary.Uvarint(raw)
		if k <= 0 || d > uint64(r.bh.maxT-t) {
			return nil, r.corrupt("bad timestamp delta")
		}
		raw = raw[k:]
		t += int64(d)
		r.ts[i] = t
	}
	if len(raw) != 0 || r.ts[0] != r.bh.minT || t != r.bh.maxT {
		return nil, r.corrupt("timestamps do not match the block header")
	}
	r.tsOK = true
	return r.ts, nil
}

// column decodes column i of the block.
func (r *blockReader) column(i int) (*colData, error) {
	c := &r.cols[i]
	if c.loaded {
		return c, nil
	}
	h := &r.bh.cols[i]
	var payload []byte
	if h.hasChunk() {
		raw, err := r.p.readChunk(&h.chunk, r.zdec, &r.stored, c.raw)
		c.raw = raw
		if err != nil {
			return nil, err
		}
		payload = raw
	}
	if err := decodeColumn(h, int(r.bh.rows), payload, c); err != nil {
		return nil, r.corrupt("column %q: %v", h.name, err)
	}
	c.loaded = true
	return c, nil
}

// loadAll decodes every column.
func (r *blockReader) loadAll() error {
	for i := range r.cols {
		if _, err := r.column(i); err != nil {
			return err
		}
	}
	return nil
}

// bloom returns the block's bloom region.
func (r *blockReader) bloom() ([]byte, error) {
	if r.bloomK {
		return r.bloomB, nil
	}
	b, err := r.p.readBloom(r.bh, r.bloomB)
	r.bloomB = b
	if err != nil {
		return nil, err
	}
	r.bloomK = true
	return b, nil
}

// fillEvent sets ev to row of the block with the loaded columns (all of
// them after loadAll). ev's strings point into the reader's buffers.
func (r *blockReader) fillEvent(row int, ev *event.Event) {
	ev.Reset()
	ev.Time = timeOf(r.ts[row])
	for i := range r.cols {
		c := &r.cols[i]
		if c.loaded && c.present(row) {
			ev.AppendField(r.bh.cols[i].name, c.value(row))
		}
	}
}

func (r *blockReader) corrupt(format string, args ...any) error {
	return corruptf(r.p.dir, "block at time %d: %s", r.bh.minT, fmt.Sprintf(format, args...))
}
