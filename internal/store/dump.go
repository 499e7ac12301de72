package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// Dump writes a readable description of a store directory to w: every
// index, partition, parts list, part, block and column, with the decoded
// values. It reads without changing anything and does not need the
// directory lock (for `sluice store inspect`, tests and debugging); a
// damaged file is reported in the output and the dump goes on.
func Dump(w io.Writer, dir string) error {
	zdec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(2*maxChunkRaw))
	if err != nil {
		return err
	}
	defer zdec.Close()
	root := filepath.Join(dir, indicesDir)
	idxs, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, ie := range idxs {
		fmt.Fprintf(w, "index %s\n", ie.Name())
		days, _ := os.ReadDir(filepath.Join(root, ie.Name()))
		for _, de := range days {
			pdir := filepath.Join(root, ie.Name(), de.Name())
			fmt.Fprintf(w, "  partition %s\n", de.Name())
			b, err := os.ReadFile(filepath.Join(pdir, partsFile))
			if err != nil {
				fmt.Fprintf(w, "    parts list: %v\n", err)
				continue
			}
			l, err := parsePartList(b)
			if err != nil {
				fmt.Fprintf(w, "    parts list: %v\n", err)
				continue
			}
			fmt.Fprintf(w, "    parts list: next %d, parts %v\n", l.next, l.nums)
			for _, num := range l.nums {
				dumpPart(w, filepath.Join(pdir, partName(num)), num, zdec)
			}
		}
	}
	return nil
}

func dumpPart(w io.Writer, dir string, num uint64, zdec *zstd.Decoder) {
	p, err := openPart(dir, num, zdec)
	if err != nil {
		fmt.Fprintf(w, "    part %s: %v\n", partName(num), err)
		return
	}
	defer p.release()
	m := p.meta
	fmt.Fprintf(w, "    part %s: events %d, time %s..%s, raw %d, data %d, bloom %d, index %d bytes\n",
		partName(num), m.events, timeOf(m.minT).Format("2006-01-02T15:04:05.999999999Z"), timeOf(m.maxT).Format("2006-01-02T15:04:05.999999999Z"),
		m.rawBytes, m.dataSize, m.bloomSize, p.indexSize)
	r := blockReader{zdec: zdec}
	for bi := range p.blocks {
		bh := &p.blocks[bi]
		r.reset(p, bh)
		fmt.Fprintf(w, "      block %d: rows %d, time %d..%d, timestamps %s, bloom %d+%d crc %08x\n",
			bi, bh.rows, bh.minT, bh.maxT, refString(&bh.ts), bh.bloomOff, bh.bloomLen, bh.bloomCRC)
		ts, err := r.timestamps()
		if err != nil {
			fmt.Fprintf(w, "        timestamps: %v\n", err)
		} else {
			fmt.Fprintf(w, "        timestamps: %v\n", ts)
		}
		bits, berr := r.bloom()
		for ci := range bh.cols {
			h := &bh.cols[ci]
			enc := []string{"plain", "dict", "const"}[h.enc&^encSparse]
			if h.enc&encSparse != 0 {
				enc += "+sparse"
			}
			fmt.Fprintf(w, "        column %q: %s %s, present %d", h.name, typeNames[h.typ], enc, h.present)
			if h.hasChunk() {
				fmt.Fprintf(w, ", chunk %s", refString(&h.chunk))
			}
			if berr == nil {
				fmt.Fprintf(w, ", bloom %x", bits[8*h.bloomOff:8*(h.bloomOff+h.bloomWords)])
			}
			fmt.Fprintln(w)
			c, err := r.column(ci)
			if err != nil {
				fmt.Fprintf(w, "          %v\n", err)
				continue
			}
			var vals []string
			for row := range int(bh.rows) {
				if c.present(row) {
					vals = append(vals, strconv.Itoa(row)+":"+string(event.AppendValueJSON(nil, c.value(row))))
				}
			}
			fmt.Fprintf(w, "          %v\n", vals)
		}
		if berr != nil {
			fmt.Fprintf(w, "        bloom: %v\n", berr)
		}
	}
}

func refString(r *chunkRef) string {
	comp := "raw"
	if r.comp == compZstd {
		comp = "zstd"
	}
	return fmt.Sprintf("%d+%d (%s %d) crc %08x", r.off, r.size, comp, r.raw, r.crc)
}
