package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Column types: what the present values of a column in one block are.
const (
	typeNull   byte = iota // every value is null
	typeString             // strings
	typeInt                // int64
	typeFloat              // float64
	typeBool               // booleans
	typeTime               // timestamps
	typeJSON               // arrays and objects
	typeMixed              // values of several kinds
	numTypes
)

var typeNames = [numTypes]string{"null", "string", "int", "float", "bool", "time", "json", "mixed"}

// Column encodings.
const (
	encPlain byte = iota // the values, one after the other
	encDict              // strings only: a dictionary of at most 256 values and one byte per value
	encConst             // one value for every present row, kept in the column header
	numEncs
)

// encSparse is or'ed into the encoding byte when not every row of the
// block has the column: the chunk then starts with a presence bitmap.
const encSparse = 0x80

const maxDictValues = 256

// typeOfKinds maps the set of kinds seen (a bit per kind) to a column type.
func typeOfKinds(mask uint16) byte {
	switch mask {
	case 1 << kindString:
		return typeString
	case 1 << kindInt:
		return typeInt
	case 1 << kindFloat:
		return typeFloat
	case 1 << kindFalse, 1 << kindTrue, 1<<kindFalse | 1<<kindTrue:
		return typeBool
	case 1 << kindNull:
		return typeNull
	case 1 << kindTime:
		return typeTime
	case 1 << kindArray:
		return typeJSON
	}
	return typeMixed
}

// appendValues appends the plain encoding of vals (all of column type typ)
// to dst.
func appendValues(dst []byte, typ byte, vals []event.Value) []byte {
	switch typ {
	case typeString:
		for _, v := range vals {
			s, _ := v.Str()
			dst = binary.AppendUvarint(dst, uint64(len(s)))
		}
		for _, v := range vals {
			s, _ := v.Str()
			dst = append(dst, s...)
		}
	case typeInt:
		for _, v := range vals {
			dst = binary.AppendVarint(dst, v.Interface().(int64))
		}
	case typeFloat:
		for _, v := range vals {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Interface().(float64)))
		}
	case typeBool:
		for _, v := range vals {
			b := byte(0)
			if v.Interface().(bool) {
				b = 1
			}
			dst = append(dst, b)
		}
	case typeTime:
		for _, v := range vals {
			dst = appendTime(dst, v.Interface().(time.Time))
		}
	case typeNull:
	default: // typeJSON, typeMixed: length-prefixed canonical encodings
		start := len(dst)
		var tmp []byte
		for _, v := range vals {
			tmp = appendCanon(tmp[:0], v)
			dst = binary.AppendUvarint(dst, uint64(len(tmp)))
			dst = append(dst, tmp...)
		}
		_ = start
	}
	return dst
}

// colData is one decoded column of a block: a value per row (read with
// value). Strings point into raw (or into the part's header, for
// constants), which the block reader reuses for the next block: anything
// kept longer must be cloned.
type colData struct {
	loaded bool
	raw    []byte
	vals   []event.Value // plain encoding: one per row; zero where absent
	has    []bool        // nil when every row has the column
	dict   []event.Value // encDict only: the dictionary
	idx    []uint8       // encDict only: dictionary index per row (where present)
	cnst   event.Value   // encConst only: the value
	enc    byte          // encoding, without encSparse
	ints   []int64       // typeInt backing store, to box values in bulk
}

func (c *colData) present(row int) bool { return c.has == nil || c.has[row] }

// value returns the value of a row that has the column.
func (c *colData) value(row int) event.Value {
	switch c.enc {
	case encDict:
		return c.dict[c.idx[row]]
	case encConst:
		return c.cnst
	}
	return c.vals[row]
}

// decodeColumn decodes the payload of column h of a block of rows rows
// into c.
func decodeColumn(h *colHeader, rows int, payload []byte, c *colData) error {
	c.enc = h.enc &^ encSparse
	c.vals = c.vals[:0]
	c.dict = c.dict[:0]
	c.idx = c.idx[:0]
	c.has = c.has[:0]
	n := rows
	if h.enc&encSparse != 0 {
		nb := (rows + 7) / 8
		if len(payload) < nb {
			return fmt.Errorf("short presence bitmap")
		}
		c.has = resize(c.has, rows)
		n = 0
		for r := range rows {
			c.has[r] = payload[r>>3]&(1<<(r&7)) != 0
			if c.has[r] {
				n++
			}
		}
		if n != int(h.present) {
			return fmt.Errorf("presence bitmap has %d rows, header says %d", n, h.present)
		}
		for r := rows; r < nb*8; r++ {
			if payload[r>>3]&(1<<(r&7)) != 0 {
				return fmt.Errorf("presence bitmap has bits past the last row")
			}
		}
		payload = payload[nb:]
	} else {
		c.has = nil
		if int(h.present) != rows {
			return fmt.Errorf("dense column with %d of %d rows present", h.present, rows)
		}
	}
	// vals is filled in row order, skipping absent rows.
	next := func(r int) int {
		for c.has != nil && !c.has[r] {
			r++
		}
		return r
	}
	switch h.enc &^ encSparse {
	case encConst:
		if len(payload) != 0 {
			return fmt.Errorf("%d bytes of values in a constant column", len(payload))
		}
		v, err := decodeCanon(h.constVal)
		if err != nil {
			return fmt.Errorf("constant: %w", err)
		}
		c.cnst = v
		return nil
	case encDict:
		if h.typ != typeString && h.typ != typeInt && h.typ != typeFloat {
			return fmt.Errorf("dictionary encoding of a %s column", typeNames[h.typ])
		}
		nd, k := binary.Uvarint(payload)
		if k <= 0 || nd == 0 || nd > maxDictValues {
			return fmt.Errorf("bad dictionary size")
		}
		payload = payload[k:]
		for range nd {
			l, k := binary.Uvarint(payload)
			if k <= 0 || l > uint64(len(payload)-k) {
				return fmt.Errorf("bad dictionary entry")
			}
			entry := payload[k : k+int(l)]
			payload = payload[k+int(l):]
			if h.typ == typeString {
				c.dict = append(c.dict, event.String(bytesString(entry)))
				continue
			}
			v, err := decodeCanon(entry)
			if err != nil || typeOfKinds(1<<valueKind(v)) != h.typ {
				return fmt.Errorf("bad dictionary entry")
			}
			c.dict = append(c.dict, v)
		}
		if len(payload) != n {
			return fmt.Errorf("dictionary indexes: %d bytes for %d values", len(payload), n)
		}
		for _, ix := range payload {
			if int(ix) >= len(c.dict) {
				return fmt.Errorf("dictionary index %d out of %d", ix, len(c.dict))
			}
		}
		if c.has == nil {
			c.idx = append(c.idx[:0], payload...)
			return nil
		}
		c.idx = resize(c.idx, rows)
		r := 0
		for _, ix := range payload {
			r = next(r)
			c.idx[r] = ix
			r++
		}
		return nil
	case encPlain:
	default:
		return fmt.Errorf("unknown encoding %d", h.enc)
	}
	c.vals = resize(c.vals, rows)
	clear(c.vals)
	r := 0
	switch h.typ {
	case typeString:
		lens := payload
		total := 0
		for range n {
			l, k := binary.Uvarint(payload)
			if k <= 0 || l > uint64(len(lens)) {
				return fmt.Errorf("bad string length")
			}
			total += int(l)
			payload = payload[k:]
		}
		if total != len(payload) {
			return fmt.Errorf("strings: %d bytes for %d announced", len(payload), total)
		}
		for range n {
			l, k := binary.Uvarint(lens)
			lens = lens[k:]
			r = next(r)
			c.vals[r] = event.String(bytesString(payload[:l]))
			payload = payload[l:]
			r++
		}
		return nil
	case typeInt:
		c.ints = resize(c.ints, n)
		for i := range n {
			x, k := binary.Varint(payload)
			if k <= 0 {
				return fmt.Errorf("bad int")
			}
			c.ints[i] = x
			payload = payload[k:]
		}
		for i := range n {
			r = next(r)
			c.vals[r] = event.Int(c.ints[i])
			r++
		}
	case typeFloat:
		if len(payload) != 8*n {
			return fmt.Errorf("floats: %d bytes for %d values", len(payload), n)
		}
		for i := range n {
			r = next(r)
			c.vals[r] = event.Float(math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:])))
			r++
		}
		return nil
	case typeBool:
		if len(payload) != n {
			return fmt.Errorf("bools: %d bytes for %d values", len(payload), n)
		}
		for _, b := range payload {
			if b > 1 {
				return fmt.Errorf("bad bool %d", b)
			}
			r = next(r)
			c.vals[r] = event.Bool(b == 1)
			r++
		}
		return nil
	case typeTime:
		for range n {
			t, k, err := decodeTime(payload)
			if err != nil {
				return err
			}
			payload = payload[k:]
			r = next(r)
			c.vals[r] = event.Time(t)
			r++
		}
	case typeNull:
		for range n {
			r = next(r)
			c.vals[r] = event.Null
			r++
		}
	case typeJSON, typeMixed:
		for range n {
			l, k := binary.Uvarint(payload)
			if k <= 0 || l > uint64(len(payload)-k) {
				return fmt.Errorf("bad value length")
			}
			v, err := decodeCanon(payload[k : k+int(l)])
			if err != nil {
				return err
			}
			if h.typ == typeJSON && valueKind(v) != kindArray {
				return fmt.Errorf("scalar in a json column")
			}
			payload = payload[k+int(l):]
			r = next(r)
			c.vals[r] = v
			r++
		}
	default:
		return fmt.Errorf("unknown column type %d", h.typ)
	}
	if len(payload) != 0 {
		return fmt.Errorf("%d bytes after the last value", len(payload))
	}
	return nil
}

// appendValueText appends the text form of v (event.Value.AppendText),
// which is what the Bloom filters tokenize and TopValues counts.
func appendValueText(dst []byte, v event.Value) []byte {
	if s, ok := v.Str(); ok {
		return append(dst, s...)
	}
	if i, ok := v.Interface().(int64); ok {
		return strconv.AppendInt(dst, i, 10)
	}
	return v.AppendText(dst)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
