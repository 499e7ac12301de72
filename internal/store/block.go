package store

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// Block limits. A block holds at most maxBlockRows events, stops growing
// once its events take maxBlockBytes (in their binary encoding), and holds
// at most maxBlockColumns distinct field names (a field explosion cuts
// blocks short instead of making one huge header).
const (
	maxBlockRows    = 8192
	maxBlockBytes   = 2 << 20
	maxBlockColumns = 2000
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// chunkRef locates one chunk in data.bin.
type chunkRef struct {
	off  uint64 // offset in data.bin
	size uint32 // stored bytes
	raw  uint32 // bytes once decompressed
	comp byte   // compNone or compZstd
	crc  uint32 // CRC32C of the stored bytes
}

const (
	compNone byte = 0
	compZstd byte = 1
)

// colHeader describes one column of a block.
type colHeader struct {
	name       string
	typ        byte
	enc        byte // encPlain, encDict or encConst, | encSparse
	present    uint32
	constVal   []byte   // encConst: the canonical encoding of the value
	chunk      chunkRef // absent (size 0) for a dense constant
	bloomOff   uint32   // in words, from the start of the block's bloom region
	bloomWords uint32
}

func (h *colHeader) hasChunk() bool { return h.enc&^encSparse != encConst || h.enc&encSparse != 0 }

// blockHeader describes one block of a part.
type blockHeader struct {
	minT, maxT int64
	rows       uint32
	ts         chunkRef
	bloomOff   uint64 // in bloom.bin
	bloomLen   uint32 // bytes
	bloomCRC   uint32
	cols       []colHeader // ascending by name
}

// col returns the index of the column named name, or -1.
func (b *blockHeader) col(name string) int {
	i, ok := slices.BinarySearchFunc(b.cols, name, func(c colHeader, n string) int { return strings.Compare(c.name, n) })
	if !ok {
		return -1
	}
	return i
}

// row is one event on its way into a block.
type row struct {
	t   int64 // Unix nanoseconds (the event's Time)
	ev  *event.Event
	n   int    // size of its binary encoding, for the block size limit
	raw []byte // from a write buffer: the binary encoding, until decoded
}

// builtBlock is a block encoded in memory: its header, with chunk and
// bloom offsets relative to the block's own data and bloom bytes.
type builtBlock struct {
	hdr   blockHeader
	data  []byte
	bloom []byte
}

// blockBuilder turns rows into blocks. One builder is used by one goroutine
// at a time; its buffers are reused from block to block.
type blockBuilder struct {
	zenc *zstd.Encoder

	cols      []*colBuilder
	byName    map[string]*colBuilder
	free      []*colBuilder
	last      []*colBuilder // column of the i-th field of the previous row
	scratch   []byte
	payload   []byte
	tokbuf    []byte
	hashes    u64set
	dictIndex map[string]int
	dict      []string      // distinct values: strings, or canonical encodings
	dictVals  []event.Value // the first value of each
	dictIdx   []uint8       // the dictionary index of each value
	evs       []event.Event // decoded write-buffer rows (decodeRows)
}

type colBuilder struct {
	name string
	rows []uint32
	vals []event.Value
}

func newBlockBuilder() *blockBuilder {
	return &blockBuilder{byName: make(map[string]*colBuilder), dictIndex: make(map[string]int)}
}

// cutBlocks returns where to cut rows into blocks by the row and byte
// limits: the end index of each block.
func cutBlocks(rows []row) []int {
	var ends []int
	n, size := 0, 0
	for i := range rows {
		if n > 0 && (n == maxBlockRows || size+rows[i].n > maxBlockBytes) {
			ends = append(ends, i)
			n, size = 0, 0
		}
		n++
		size += rows[i].n
	}
	if n > 0 {
		ends = append(ends, len(rows))
	}
	return ends
}

// build encodes a prefix of rows (time-sorted, at least one) as one block,
// compressing with zenc (nil: no compression), and returns it with the number of rows it took: all of them unless the
// column limit cut the block short.
func (b *blockBuilder) build(rows []row, zenc *zstd.Encoder) (*builtBlock, int) {
	b.reset()
	b.zenc = zenc
	n := len(rows)
	for r := range rows {
		fields := rows[r].ev.Fields()
		if r > 0 && len(b.cols)+len(fields) > maxBlockColumns && b.wouldExceed(fields) {
			n = r
			break
		}
		for i, f := range fields {
			var c *colBuilder
			if i < len(b.last) && b.last[i] != nil && b.last[i].name == f.Key {
				c = b.last[i]
			} else {
				c = b.byName[f.Key]
				if c == nil {
					c = b.newCol(f.Key)
				}
				if i < len(b.last) {
					b.last[i] = c
				} else {
					b.last = append(b.last, c)
				}
			}
			if k := len(c.rows); k > 0 && c.rows[k-1] == uint32(r) {
				// A duplicate key: the last value wins (Write removes
				// duplicates; this keeps the block consistent regardless).
				c.vals[k-1] = f.Value
				continue
			}
			c.rows = append(c.rows, uint32(r))
			c.vals = append(c.vals, f.Value)
		}
	}
	rows = rows[:n]
	slices.SortFunc(b.cols, func(x, y *colBuilder) int { return strings.Compare(x.name, y.name) })

	out := &builtBlock{}
	h := &out.hdr
	h.rows = uint32(n)
	h.minT, h.maxT = rows[0].t, rows[n-1].t
	// Timestamps: the first, then the (non-negative) deltas.
	p := binary.AppendVarint(b.payload[:0], rows[0].t)
	for i := 1; i < n; i++ {
		p = binary.AppendUvarint(p, uint64(rows[i].t-rows[i-1].t))
	}
	b.payload = p
	out.data, h.ts = b.appendChunk(out.data, p)
	h.cols = make([]colHeader, len(b.cols))
	for i, c := range b.cols {
		out.data, out.bloom = b.encodeCol(&h.cols[i], c, n, out.data, out.bloom)
	}
	h.bloomLen = uint32(len(out.bloom))
	h.bloomCRC = crc32.Checksum(out.bloom, castagnoli)
	return out, n
}

// wouldExceed reports whether adding a row with these fields takes the
// block past maxBlockColumns.
func (b *blockBuilder) wouldExceed(fields []event.Field) bool {
	n := len(b.cols)
	for _, f := range fields {
		if b.byName[f.Key] == nil {
			n++
		}
	}
	return n > maxBlockColumns
}

func (b *blockBuilder) reset() {
	for _, c := range b.cols {
		c.rows = c.rows[:0]
		clear(c.vals)
		c.vals = c.vals[:0]
		b.free = append(b.free, c)
	}
	b.cols = b.cols[:0]
	clear(b.byName)
	clear(b.last)
	b.last = b.last[:0]
}

func (b *blockBuilder) newCol(name string) *colBuilder {
	var c *colBuilder
	if k := len(b.free); k > 0 {
		c, b.free = b.free[k-1], b.free[:k-1]
	} else {
		c = &colBuilder{}
	}
	c.name = name
	b.cols = append(b.cols, c)
	b.byName[name] = c
	return c
}

// appendChunk compresses payload (when that pays), appends it to data and
// returns its reference, with the offset relative to the block's data.
func (b *blockBuilder) appendChunk(data, payload []byte) ([]byte, chunkRef) {
	ref := chunkRef{off: uint64(len(data)), raw: uint32(len(payload))}
	if len(payload) >= 64 && b.zenc != nil {
		data = b.zenc.EncodeAll(payload, data)
		if len(data)-int(ref.off) < len(payload)-len(payload)/32 {
			ref.comp = compZstd
		} else {
			data = append(data[:ref.off], payload...)
		}
	} else {
		data = append(data, payload...)
	}
	ref.size = uint32(len(data) - int(ref.off))
	ref.crc = crc32.Checksum(data[ref.off:], castagnoli)
	return data, ref
}

// encodeCol chooses the type and encoding of column c, appends its chunk
// to data and its Bloom filter to bloom, and fills h.
func (b *blockBuilder) encodeCol(h *colHeader, c *colBuilder, rows int, data, bloom []byte) ([]byte, []byte) {
	h.name = c.name
	h.present = uint32(len(c.vals))
	var kinds uint16
	for _, v := range c.vals {
		kinds |= 1 << valueKind(v)
	}
	h.typ = typeOfKinds(kinds)
	sparse := len(c.vals) < rows
	p := b.payload[:0]
	if sparse {
		nb := (rows + 7) / 8
		p = append(p, make([]byte, nb)...)
		for _, r := range c.rows {
			p[r>>3] |= 1 << (r & 7)
		}
	}
	b.hashes.reset()
	switch {
	case b.isConst(h.typ, c.vals):
		h.enc = encConst
		h.constVal = appendCanon(nil, c.vals[0])
		b.addTokens(c.vals[0])
	case (h.typ == typeString || h.typ == typeInt || h.typ == typeFloat) && b.buildDict(h.typ, c.vals) && 2*len(b.dict) <= len(c.vals):
		h.enc = encDict
		p = binary.AppendUvarint(p, uint64(len(b.dict)))
		for i, s := range b.dict {
			p = binary.AppendUvarint(p, uint64(len(s)))
			p = append(p, s...)
			b.addTokens(b.dictVals[i])
		}
		p = append(p, b.dictIdx...)
	default:
		h.enc = encPlain
		p = appendValues(p, h.typ, c.vals)
		for i, v := range c.vals {
			if i > 0 && v.IsString() && sameString(v, c.vals[i-1]) {
				continue
			}
			b.addTokens(v)
		}
	}
	if sparse {
		h.enc |= encSparse
	}
	b.payload = p
	if h.hasChunk() {
		data, h.chunk = b.appendChunk(data, p)
	}
	h.bloomOff = uint32(len(bloom) / 8)
	bloom = bloomBuild(bloom, b.hashes.items())
	h.bloomWords = uint32(len(bloom)/8) - h.bloomOff
	return data, bloom
}

func sameString(a, b event.Value) bool {
	x, ok1 := a.Str()
	y, ok2 := b.Str()
	return ok1 && ok2 && x == y
}

// isConst reports whether every value in vals is the same.
func (b *blockBuilder) isConst(typ byte, vals []event.Value) bool {
	if typ == typeString {
		first, _ := vals[0].Str()
		for _, v := range vals[1:] {
			if s, _ := v.Str(); s != first {
				return false
			}
		}
		return true
	}
	first := appendCanon(nil, vals[0])
	for _, v := range vals[1:] {
		b.scratch = appendCanon(b.scratch[:0], v)
		if !bytes.Equal(first, b.scratch) {
			return false
		}
	}
	return true
}

// buildDict collects the distinct values of vals into b.dict (strings as
// they are, numbers as canonical encodings), in order of first appearance,
// and the index of each value into b.dictIdx. It reports whether there are
// few enough for a dictionary.
func (b *blockBuilder) buildDict(typ byte, vals []event.Value) bool {
	clear(b.dictIndex)
	b.dict, b.dictVals, b.dictIdx = b.dict[:0], b.dictVals[:0], b.dictIdx[:0]
	last := -1
	for i, v := range vals {
		if typ == typeString && i > 0 && sameString(v, vals[i-1]) {
			b.dictIdx = append(b.dictIdx, uint8(last))
			continue
		}
		var key string
		if typ == typeString {
			key, _ = v.Str()
		} else {
			b.scratch = appendCanon(b.scratch[:0], v)
			key = bytesString(b.scratch)
		}
		ix, ok := b.dictIndex[key]
		if !ok {
			if len(b.dict) == maxDictValues {
				return false
			}
			if typ != typeString {
				key = string(b.scratch)
			}
			ix = len(b.dict)
			b.dictIndex[key] = ix
			b.dict = append(b.dict, key)
			b.dictVals = append(b.dictVals, v)
		}
		last = ix
		b.dictIdx = append(b.dictIdx, uint8(ix))
	}
	return true
}

// addTokens adds the hashes of the tokens of v's text form to b.hashes.
func (b *blockBuilder) addTokens(v event.Value) {
	var s string
	if x, ok := v.Str(); ok {
		s = x
	} else {
		b.scratch = appendValueText(b.scratch[:0], v)
		s = bytesString(b.scratch)
	}
	b.tokbuf = forEachToken(s, b.tokbuf, func(tok []byte) { b.hashes.add(tokenHash(tok)) })
}

// u64set is a set of 64-bit hashes (open addressing, linear probing). It
// remembers its members in insertion order, so reading them and clearing a
// large table that holds few members costs only as much as the members.
type u64set struct {
	slots   []uint64
	used    []uint32 // slot of each member
	list    []uint64 // members
	hasZero bool
}

func (s *u64set) reset() {
	if len(s.used)*8 < len(s.slots) {
		for _, i := range s.used {
			s.slots[i] = 0
		}
	} else {
		clear(s.slots)
	}
	s.used = s.used[:0]
	s.list = s.list[:0]
	s.hasZero = false
}

func (s *u64set) add(h uint64) {
	if h == 0 {
		if !s.hasZero {
			s.hasZero = true
			s.list = append(s.list, 0)
		}
		return
	}
	if 2*(len(s.used)+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.used = append(s.used, uint32(i))
			s.list = append(s.list, h)
			return
		}
	}
}

func (s *u64set) grow() {
	s.slots = make([]uint64, max(1024, 2*len(s.slots)))
	mask := uint64(len(s.slots) - 1)
	s.used = s.used[:0]
	for _, h := range s.list {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
		s.used = append(s.used, uint32(i))
	}
}

// items returns the members (valid until the next change).
func (s *u64set) items() []uint64 { return s.list }
