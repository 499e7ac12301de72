package store

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// smallPart writes a part of a few hundred varied events (every column
// type and encoding) with the builder and writer directly, and returns its
// directory.
func smallPart(t testing.TB, n int, compress bool) string {
	t.Helper()
	var zenc *zstd.Encoder
	if compress {
		var err error
		if zenc, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1)); err != nil {
			t.Fatal(err)
		}
		defer zenc.Close()
	}
	evs := allValuesEvents(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 100 {
		evs = append(evs, randEvent(rng, time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC).Add(time.Duration(i)), i))
	}
	if n < len(evs) {
		evs = evs[:n]
	}
	rows := make([]row, len(evs))
	for i := range evs {
		rows[i] = row{t: evs[i].Time.UnixNano(), ev: &evs[i], n: 100}
	}
	dir := filepath.Join(t.TempDir(), "part")
	w, err := createPartWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := newBlockBuilder()
	// Blocks of at most 64 rows: several blocks.
	for len(rows) > 0 {
		bb, k := b.build(rows[:min(64, len(rows))], zenc)
		if err := w.add(bb); err != nil {
			t.Fatal(err)
		}
		rows = rows[k:]
	}
	if err := w.finish(12345, zenc); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readPart reads every block of the part in dir: timestamps, columns and
// Bloom filters.
func readPart(dir string, zdec *zstd.Decoder) (events int, err error) {
	p, err := openPart(dir, 1, zdec)
	if err != nil {
		return 0, err
	}
	defer p.release()
	r := blockReader{zdec: zdec}
	var ev event.Event
	for i := range p.blocks {
		r.reset(p, &p.blocks[i])
		if _, err := r.timestamps(); err != nil {
			return 0, err
		}
		if err := r.loadAll(); err != nil {
			return 0, err
		}
		if _, err := r.bloom(); err != nil {
			return 0, err
		}
		for row := range int(p.blocks[i].rows) {
			r.fillEvent(row, &ev)
			events++
		}
	}
	return events, nil
}

func newTestDecoder(t testing.TB) *zstd.Decoder {
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(zdec.Close)
	return zdec
}

// FuzzPart feeds arbitrary bytes as the three files of a part to the
// reader (open, then every block and column): nothing may panic.
func FuzzPart(f *testing.F) {
	for _, compress := range []bool{false, true} {
		dir := smallPart(f, 300, compress)
		idx, _ := os.ReadFile(filepath.Join(dir, indexFile))
		data, _ := os.ReadFile(filepath.Join(dir, dataFile))
		bloom, _ := os.ReadFile(filepath.Join(dir, bloomFile))
		f.Add(idx, data, bloom)
		f.Add(idx[:len(idx)/2], data, bloom)
	}
	zdec := newTestDecoder(f)
	f.Fuzz(func(t *testing.T, idx, data, bloom []byte) {
		dir := filepath.Join(t.TempDir(), "p")
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, indexFile), idx, 0o644)
		os.WriteFile(filepath.Join(dir, dataFile), data, 0o644)
		os.WriteFile(filepath.Join(dir, bloomFile), bloom, 0o644)
		readPart(dir, zdec)
	})
}

// FuzzIndexBody feeds arbitrary bytes as the (checksummed, uncompressed)
// body of index.bin, so the fuzzer gets past the checksum: parsing must
// not panic, and what parses must be safe to read.
func FuzzIndexBody(f *testing.F) {
	src := smallPart(f, 200, false)
	idx, _ := os.ReadFile(filepath.Join(src, indexFile))
	data, _ := os.ReadFile(filepath.Join(src, dataFile))
	bloom, _ := os.ReadFile(filepath.Join(src, bloomFile))
	f.Add(idx[indexHeaderLen : len(idx)-4])
	zdec := newTestDecoder(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		file := make([]byte, indexHeaderLen, indexHeaderLen+len(body)+4)
		copy(file, indexMagic)
		file[4] = indexVersion
		file = append(file, body...)
		putU32(file[8:], uint32(len(body)))
		putU32(file[12:], uint32(len(body)))
		file = appendCRC(file)
		if _, _, err := parseIndex(file, zdec); err != nil {
			return
		}
		// It parses: reading it with the real data and bloom files must
		// fail cleanly or succeed, never panic.
		dir := filepath.Join(t.TempDir(), "p")
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, indexFile), file, 0o644)
		os.WriteFile(filepath.Join(dir, dataFile), data, 0o644)
		os.WriteFile(filepath.Join(dir, bloomFile), bloom, 0o644)
		readPart(dir, zdec)
	})
}

// FuzzColumn feeds arbitrary headers and payloads to the column decoder.
func FuzzColumn(f *testing.F) {
	f.Add(byte(typeString), byte(encPlain), uint32(3), 3, []byte{}, []byte{1, 1, 1, 'a', 'b', 'c'})
	f.Add(byte(typeString), byte(encDict|encSparse), uint32(2), 9, []byte{}, []byte{0x81, 0x00, 2, 1, 'x', 1, 'y', 0, 1})
	f.Add(byte(typeInt), byte(encPlain), uint32(2), 2, []byte{}, []byte{2, 3})
	f.Add(byte(typeMixed), byte(encConst), uint32(1), 1, []byte{kindArray, 1, kindInt, 4}, []byte{})
	f.Add(byte(typeTime), byte(encPlain), uint32(1), 1, []byte{}, []byte{2, 2})
	f.Fuzz(func(t *testing.T, typ, enc byte, present uint32, rows int, constVal, payload []byte) {
		if rows <= 0 || rows > 1<<12 || present > uint32(rows) || typ >= numTypes || enc&^encSparse >= numEncs {
			return
		}
		h := &colHeader{name: "f", typ: typ, enc: enc, present: present, constVal: constVal}
		var c colData
		if decodeColumn(h, rows, payload, &c) != nil {
			return
		}
		n := 0
		for r := range rows {
			if c.present(r) {
				c.value(r)
				n++
			}
		}
		if n != int(present) {
			t.Fatalf("%d values present, header says %d", n, present)
		}
	})
}

// TestEveryFlippedByteIsDetected flips each byte of a part's files in
// turn: the part must then fail to open or fail to read, never return
// other data silently.
func TestEveryFlippedByteIsDetected(t *testing.T) {
	zdec := newTestDecoder(t)
	for _, compress := range []bool{false, true} {
		dir := smallPart(t, 150, compress)
		want, err := readPart(dir, zdec)
		if err != nil || want != 150 {
			t.Fatalf("clean part: %d events, %v", want, err)
		}
		for _, name := range []string{indexFile, dataFile, bloomFile} {
			path := filepath.Join(dir, name)
			orig, _ := os.ReadFile(path)
			step := 1
			if raceEnabled {
				step = 7
			}
			for off := 0; off < len(orig); off += step {
				b := append([]byte(nil), orig...)
				b[off] ^= 0x10
				os.WriteFile(path, b, 0o644)
				if _, err := readPart(dir, zdec); err == nil {
					t.Fatalf("compress=%v: byte %d of %s flipped, and the part still read fine", compress, off, name)
				}
			}
			os.WriteFile(path, orig, 0o644)
		}
	}
}

// FuzzDecodeInto checks the flush's event decoder against the codec's:
// same events for what the codec accepts, no panic on anything.
func FuzzDecodeInto(f *testing.F) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, ev := range allValuesEvents(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))[:20] {
		f.Add(event.AppendBinary(nil, &ev))
	}
	for i := range 5 {
		ev := randEvent(rng, time.Now(), i)
		f.Add(event.AppendBinary(nil, &ev))
	}
	var ev event.Event
	f.Fuzz(func(t *testing.T, data []byte) {
		ok := decodeInto(&ev, data)
		want, n, err := event.DecodeBinary(data)
		if err != nil || n != len(data) {
			return
		}
		if !ok {
			t.Fatalf("decodeInto failed on a valid encoding")
		}
		if canon(&ev) != canon(&want) {
			t.Fatalf("decodeInto: %s, codec: %s", canon(&ev), canon(&want))
		}
	})
}
