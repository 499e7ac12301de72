package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Files of a part directory (FORMAT.md has the layout).
const (
	indexFile = "index.bin"
	dataFile  = "data.bin"
	bloomFile = "bloom.bin"

	indexMagic     = "SLSI"
	indexVersion   = 1
	indexHeaderLen = 16

	// Bounds that keep a damaged header from asking for absurd memory.
	maxIndexBody  = 1 << 30
	maxChunkRaw   = 1 << 30
	maxBlockRowsD = 1 << 20
)

// partMeta is the part-level header in index.bin.
type partMeta struct {
	events     uint64
	minT, maxT int64
	rawBytes   uint64 // sum of the events' JSON sizes
	dataSize   uint64
	bloomSize  uint64
}

// part is an immutable, published part of a partition: its block headers
// in memory, its data and bloom files open for reads.
//
// A part is reference counted: the partition's list holds one reference,
// and every search or merge that uses it takes one. When the last goes,
// the files are closed and, if the part was merged away or dropped, its
// directory deleted — so a search never reads a deleted file.
type part struct {
	num       uint64
	dir       string
	meta      partMeta
	blocks    []blockHeader
	indexSize int64
	data      *os.File
	bloom     *os.File

	refs      atomic.Int64
	removeDir atomic.Bool
	reported  atomic.Bool // a damaged block was logged
}

func partName(num uint64) string { return fmt.Sprintf("%016x", num) }

func (p *part) acquire() { p.refs.Add(1) }

func (p *part) release() {
	switch n := p.refs.Add(-1); {
	case n == 0:
		p.data.Close()
		p.bloom.Close()
		if p.removeDir.Load() {
			os.RemoveAll(p.dir)
		}
	case n < 0:
		panic("store: part released more often than acquired")
	}
}

// diskBytes is the size of the part's files.
func (p *part) diskBytes() int64 {
	return p.indexSize + int64(p.meta.dataSize) + int64(p.meta.bloomSize)
}

// partWriter writes a new part into a temporary directory.
type partWriter struct {
	dir         string
	data, bloom *os.File
	dw, bw      *bufio.Writer
	blocks      []blockHeader
	meta        partMeta
}

func createPartWriter(dir string) (*partWriter, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	w := &partWriter{dir: dir, meta: partMeta{minT: 1<<63 - 1, maxT: -1 << 63}}
	var err error
	if w.data, err = os.Create(filepath.Join(dir, dataFile)); err == nil {
		w.bloom, err = os.Create(filepath.Join(dir, bloomFile))
	}
	if err != nil {
		w.abort()
		return nil, err
	}
	w.dw = bufio.NewWriterSize(w.data, 1<<20)
	w.bw = bufio.NewWriterSize(w.bloom, 256<<10)
	return w, nil
}

// add appends a built block.
func (w *partWriter) add(b *builtBlock) error {
	h := b.hdr
	h.ts.off += w.meta.dataSize
	h.cols = slices.Clone(h.cols)
	for i := range h.cols {
		if h.cols[i].hasChunk() {
			h.cols[i].chunk.off += w.meta.dataSize
		}
	}
	h.bloomOff = w.meta.bloomSize
	if _, err := w.dw.Write(b.data); err != nil {
		return err
	}
	if _, err := w.bw.Write(b.bloom); err != nil {
		return err
	}
	w.meta.dataSize += uint64(len(b.data))
	w.meta.bloomSize += uint64(len(b.bloom))
	w.meta.events += uint64(h.rows)
	w.meta.minT = min(w.meta.minT, h.minT)
	w.meta.maxT = max(w.meta.maxT, h.maxT)
	w.blocks = append(w.blocks, h)
	return nil
}

// finish writes index.bin and makes the part durable: every file and the
// directory fsynced. The caller renames the directory into place.
func (w *partWriter) finish(rawBytes uint64, zenc *zstd.Encoder) error {
	w.meta.rawBytes = rawBytes
	err := w.dw.Flush()
	if err == nil {
		err = w.bw.Flush()
	}
	for _, f := range []*os.File{w.data, w.bloom} {
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	w.data, w.bloom = nil, nil
	if err == nil {
		err = writeFileSync(filepath.Join(w.dir, indexFile), marshalIndex(&w.meta, w.blocks, zenc))
	}
	if err == nil {
		err = syncDir(w.dir)
	}
	return err
}

// abort closes and removes what was written.
func (w *partWriter) abort() {
	if w.data != nil {
		w.data.Close()
	}
	if w.bloom != nil {
		w.bloom.Close()
	}
	os.RemoveAll(w.dir)
}

// marshalIndex encodes index.bin.
func marshalIndex(m *partMeta, blocks []blockHeader, zenc *zstd.Encoder) []byte {
	var names []string
	for i := range blocks {
		for j := range blocks[i].cols {
			names = append(names, blocks[i].cols[j].name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	ids := make(map[string]int, len(names))
	for i, n := range names {
		ids[n] = i
	}

	b := binary.AppendUvarint(nil, m.events)
	b = binary.AppendVarint(b, m.minT)
	b = binary.AppendVarint(b, m.maxT)
	b = binary.AppendUvarint(b, m.rawBytes)
	b = binary.AppendUvarint(b, m.dataSize)
	b = binary.AppendUvarint(b, m.bloomSize)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = binary.AppendUvarint(b, uint64(len(n)))
		b = append(b, n...)
	}
	b = binary.AppendUvarint(b, uint64(len(blocks)))
	for i := range blocks {
		h := &blocks[i]
		b = binary.AppendVarint(b, h.minT)
		b = binary.AppendUvarint(b, uint64(h.maxT-h.minT))
		b = binary.AppendUvarint(b, uint64(h.rows))
		b = appendChunkRef(b, &h.ts)
		b = binary.AppendUvarint(b, h.bloomOff)
		b = binary.AppendUvarint(b, uint64(h.bloomLen))
		b = binary.LittleEndian.AppendUint32(b, h.bloomCRC)
		b = binary.AppendUvarint(b, uint64(len(h.cols)))
		for j := range h.cols {
			c := &h.cols[j]
			b = binary.AppendUvarint(b, uint64(ids[c.name]))
			b = append(b, c.typ, c.enc)
			b = binary.AppendUvarint(b, uint64(c.present))
			if c.enc&^encSparse == encConst {
				b = binary.AppendUvarint(b, uint64(len(c.constVal)))
				b = append(b, c.constVal...)
			}
			if c.hasChunk() {
				b = appendChunkRef(b, &c.chunk)
			}
			b = binary.AppendUvarint(b, uint64(c.bloomOff))
			b = binary.AppendUvarint(b, uint64(c.bloomWords))
		}
	}

	out := make([]byte, indexHeaderLen, indexHeaderLen+len(b)/4+64)
	copy(out, indexMagic)
	out[4] = indexVersion
	out[5] = compNone
	binary.LittleEndian.PutUint32(out[8:], uint32(len(b)))
	if zenc != nil && len(b) >= 256 {
		out = zenc.EncodeAll(b, out)
		if len(out)-indexHeaderLen < len(b) {
			out[5] = compZstd
		} else {
			out = append(out[:indexHeaderLen], b...)
		}
	} else {
		out = append(out, b...)
	}
	binary.LittleEndian.PutUint32(out[12:], uint32(len(out)-indexHeaderLen))
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
}

func appendChunkRef(b []byte, r *chunkRef) []byte {
	b = binary.AppendUvarint(b, r.off)
	b = binary.AppendUvarint(b, uint64(r.size))
	b = binary.AppendUvarint(b, uint64(r.raw))
	b = append(b, r.comp)
	return binary.LittleEndian.AppendUint32(b, r.crc)
}

// parseIndex decodes and validates index.bin. Every offset is checked
// against the sizes the header announces, so a part that parses can be
// read without bounds surprises (the chunks themselves are checked by
// their CRCs when read).
func parseIndex(file []byte, zdec *zstd.Decoder) (partMeta, []blockHeader, error) {
	var m partMeta
	if len(file) < indexHeaderLen+4 {
		return m, nil, fmt.Errorf("index of %d bytes is too short", len(file))
	}
	body := file[:len(file)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(file[len(body):]) {
		return m, nil, errors.New("index checksum mismatch")
	}
	if string(file[:4]) != indexMagic || file[4] != indexVersion {
		return m, nil, errors.New("unknown index magic or version")
	}
	rawLen := binary.LittleEndian.Uint32(file[8:])
	storedLen := binary.LittleEndian.Uint32(file[12:])
	if int(storedLen) != len(body)-indexHeaderLen || rawLen > maxIndexBody {
		return m, nil, errors.New("index length fields do not match the file")
	}
	b := body[indexHeaderLen:]
	switch file[5] {
	case compNone:
	case compZstd:
		raw, err := zdec.DecodeAll(b, make([]byte, 0, rawLen))
		if err != nil {
			return m, nil, fmt.Errorf("decompress index: %w", err)
		}
		b = raw
	default:
		return m, nil, fmt.Errorf("unknown index compression %d", file[5])
	}
	if len(b) != int(rawLen) {
		return m, nil, errors.New("index body length mismatch")
	}
	d := decbuf{b: b}
	m.events = d.uvarint()
	m.minT = d.varint()
	m.maxT = d.varint()
	m.rawBytes = d.uvarint()
	m.dataSize = d.uvarint()
	m.bloomSize = d.uvarint()
	nn := d.count(1)
	names := make([]string, nn)
	for i := range names {
		names[i] = string(d.bytes())
		if i > 0 && names[i] <= names[i-1] {
			d.fail("column names not ascending")
		}
	}
	nb := d.count(8)
	blocks := make([]blockHeader, nb)
	var events uint64
	for i := range blocks {
		h := &blocks[i]
		h.minT = d.varint()
		span := d.uvarint()
		if span > uint64(1<<63-1-max(h.minT, 0)) {
			d.fail("bad block time span")
		}
		h.maxT = h.minT + int64(span)
		h.rows = uint32(d.uvarint())
		if h.rows == 0 || h.rows > maxBlockRowsD {
			d.fail("bad block row count")
		}
		if i > 0 && h.minT < blocks[i-1].maxT {
			d.fail("blocks not in time order")
		}
		events += uint64(h.rows)
		d.chunkRef(&h.ts, m.dataSize)
		h.bloomOff = d.uvarint()
		h.bloomLen = uint32(d.uvarint())
		h.bloomCRC = d.u32()
		if h.bloomOff > m.bloomSize || uint64(h.bloomLen) > m.bloomSize-h.bloomOff || h.bloomLen%8 != 0 {
			d.fail("bloom region out of bounds")
		}
		nc := d.count(6)
		h.cols = make([]colHeader, nc)
		prev := -1
		for j := range h.cols {
			c := &h.cols[j]
			id := int(d.uvarint())
			if id <= prev || id >= len(names) {
				d.fail("bad column name id")
				break
			}
			prev = id
			c.name = names[id]
			c.typ = d.byte()
			c.enc = d.byte()
			if c.typ >= numTypes || c.enc&^encSparse >= numEncs {
				d.fail("unknown column type or encoding")
			}
			c.present = uint32(d.uvarint())
			if c.present == 0 || c.present > h.rows || (c.enc&encSparse == 0) != (c.present == h.rows) {
				d.fail("bad column presence")
			}
			if c.enc&^encSparse == encConst {
				c.constVal = d.bytes()
				if len(c.constVal) == 0 {
					d.fail("empty constant")
				}
			}
			if c.hasChunk() {
				d.chunkRef(&c.chunk, m.dataSize)
			}
			c.bloomOff = uint32(d.uvarint())
			c.bloomWords = uint32(d.uvarint())
			if c.bloomWords == 0 || uint64(c.bloomOff)+uint64(c.bloomWords) > uint64(h.bloomLen/8) {
				d.fail("column bloom out of bounds")
			}
		}
		if d.err != nil {
			break
		}
	}
	if d.err == nil && len(d.b) != d.off {
		d.fail("trailing bytes")
	}
	if d.err == nil && events != m.events {
		d.fail("block rows do not add up to the part's events")
	}
	if d.err == nil && nb == 0 {
		d.fail("part without blocks")
	}
	if d.err == nil && (m.minT != blocks[0].minT || m.maxT != blocks[nb-1].maxT) {
		d.fail("part time range does not match its blocks")
	}
	if d.err != nil {
		return m, nil, d.err
	}
	return m, blocks, nil
}

// decbuf reads varints and bytes with a sticky error.
type decbuf struct {
	b   []byte
	off int
	err error
}

func (d *decbuf) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("index offset %d: %s", d.off, msg)
	}
	d.off = len(d.b)
}

func (d *decbuf) uvarint() uint64 {
	x, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return x
}

func (d *decbuf) varint() int64 {
	x, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return x
}

func (d *decbuf) byte() byte {
	if d.off >= len(d.b) {
		d.fail("unexpected end")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decbuf) u32() uint32 {
	if len(d.b)-d.off < 4 {
		d.fail("unexpected end")
		return 0
	}
	d.off += 4
	return binary.LittleEndian.Uint32(d.b[d.off-4:])
}

func (d *decbuf) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.off) {
		d.fail("length past the end")
		return nil
	}
	d.off += int(n)
	return d.b[d.off-int(n) : d.off : d.off]
}

// count reads an element count and checks it against the bytes left, at
// least minSize bytes per element.
func (d *decbuf) count(minSize int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.off)/uint64(minSize) {
		d.fail("count exceeds input")
		return 0
	}
	return int(n)
}

func (d *decbuf) chunkRef(r *chunkRef, dataSize uint64) {
	r.off = d.uvarint()
	size, raw := d.uvarint(), d.uvarint()
	r.comp = d.byte()
	r.crc = d.u32()
	if size > maxChunkRaw || raw > maxChunkRaw || r.comp > compZstd {
		d.fail("bad chunk reference")
	}
	r.size, r.raw = uint32(size), uint32(raw)
	if r.off > dataSize || uint64(r.size) > dataSize-r.off {
		d.fail("chunk out of bounds")
	}
	if r.comp == compNone && r.size != r.raw {
		d.fail("uncompressed chunk sizes differ")
	}
}

// openPart opens and checks the part in dir: index.bin must parse and
// match its checksum, data.bin and bloom.bin must have the announced sizes.
// The chunks are checked when read.
func openPart(dir string, num uint64, zdec *zstd.Decoder) (*part, error) {
	file, err := os.ReadFile(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, err
	}
	meta, blocks, err := parseIndex(file, zdec)
	if err != nil {
		return nil, corruptf(filepath.Join(dir, indexFile), "%v", err)
	}
	p := &part{num: num, dir: dir, meta: meta, blocks: blocks, indexSize: int64(len(file))}
	open := func(name string, size uint64) (*os.File, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err == nil && uint64(st.Size()) != size {
			err = corruptf(filepath.Join(dir, name), "%d bytes, the index says %d", st.Size(), size)
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	if p.data, err = open(dataFile, meta.dataSize); err != nil {
		return nil, err
	}
	if p.bloom, err = open(bloomFile, meta.bloomSize); err != nil {
		p.data.Close()
		return nil, err
	}
	p.refs.Store(1)
	return p, nil
}

// readChunk reads, checks and decompresses a chunk into dst (reused).
// stored is scratch space for compressed bytes.
func (p *part) readChunk(ref *chunkRef, zdec *zstd.Decoder, stored *[]byte, dst []byte) ([]byte, error) {
	if ref.comp == compNone {
		dst = resize(dst, int(ref.size))
		if err := preadFull(p.data, dst, ref.off); err != nil {
			return dst, err
		}
		if crc32.Checksum(dst, castagnoli) != ref.crc {
			return dst, corruptf(filepath.Join(p.dir, dataFile), "chunk at offset %d: checksum mismatch", ref.off)
		}
		return dst, nil
	}
	*stored = resize(*stored, int(ref.size))
	if err := preadFull(p.data, *stored, ref.off); err != nil {
		return dst, err
	}
	if crc32.Checksum(*stored, castagnoli) != ref.crc {
		return dst, corruptf(filepath.Join(p.dir, dataFile), "chunk at offset %d: checksum mismatch", ref.off)
	}
	if cap(dst) < int(ref.raw) {
		dst = make([]byte, 0, ref.raw)
	}
	out, err := zdec.DecodeAll(*stored, dst[:0])
	if err != nil || len(out) != int(ref.raw) {
		return dst, corruptf(filepath.Join(p.dir, dataFile), "chunk at offset %d: does not decompress to %d bytes (%v)", ref.off, ref.raw, err)
	}
	return out, nil
}

// readBloom reads and checks the bloom region of block h into dst.
func (p *part) readBloom(h *blockHeader, dst []byte) ([]byte, error) {
	dst = resize(dst, int(h.bloomLen))
	if err := preadFull(p.bloom, dst, h.bloomOff); err != nil {
		return dst, err
	}
	if crc32.Checksum(dst, castagnoli) != h.bloomCRC {
		return dst, corruptf(filepath.Join(p.dir, bloomFile), "bloom region at offset %d: checksum mismatch", h.bloomOff)
	}
	return dst, nil
}

func preadFull(f *os.File, b []byte, off uint64) error {
	_, err := f.ReadAt(b, int64(off))
	if errors.Is(err, io.EOF) {
		return corruptf(f.Name(), "short read at offset %d", off)
	}
	return err
}

// writeFileSync writes a file and fsyncs it.
func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a directory's entries (created, renamed, removed files)
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func putU32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }

// appendCRC appends the CRC32C of b to b.
func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}
