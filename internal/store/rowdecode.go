package store

import (
	"encoding/binary"
	"math"

	"github.com/sluicehq/sluice/internal/event"
)

// decodeInto decodes one event in event.AppendBinary form (as Append
// encoded it) into ev, reusing ev's field slice: the flush decodes every
// buffered event once, and allocating a slice for each was most of its
// garbage. Strings point into data. It handles the scalar kinds and
// falls back to event.DecodeBinary for events with arrays or objects. ok
// is false for input it cannot read (which Append never produces).
func decodeInto(ev *event.Event, data []byte) (ok bool) {
	ev.Reset()
	d := data
	sec, k := binary.Varint(d)
	if k <= 0 {
		return false
	}
	d = d[k:]
	nsec, k := binary.Uvarint(d)
	if k <= 0 || nsec >= 1e9 {
		return false
	}
	d = d[k:]
	n, k := binary.Uvarint(d)
	if k <= 0 || n > uint64(len(d)) {
		return false
	}
	d = d[k:]
	ev.Grow(int(n))
	for range n {
		l, k := binary.Uvarint(d)
		if k <= 0 || l > uint64(len(d)-k) {
			return false
		}
		key := bytesString(d[k : k+int(l)])
		d = d[k+int(l):]
		if len(d) == 0 {
			return false
		}
		kind := d[0]
		d = d[1:]
		var v event.Value
		switch kind {
		case kindString:
			l, k := binary.Uvarint(d)
			if k <= 0 || l > uint64(len(d)-k) {
				return false
			}
			v = event.String(bytesString(d[k : k+int(l)]))
			d = d[k+int(l):]
		case kindInt:
			x, k := binary.Varint(d)
			if k <= 0 {
				return false
			}
			v = event.Int(x)
			d = d[k:]
		case kindFloat:
			if len(d) < 8 {
				return false
			}
			v = event.Float(math.Float64frombits(binary.LittleEndian.Uint64(d)))
			d = d[8:]
		case kindFalse, kindTrue:
			v = event.Bool(kind == kindTrue)
		case kindNull:
			v = event.Null
		case kindTime:
			t, k, err := decodeTime(d)
			if err != nil {
				return false
			}
			v = event.Time(t)
			d = d[k:]
		default:
			// Arrays and objects: let the codec do it all.
			full, _, err := event.DecodeBinary(data)
			if err != nil {
				return false
			}
			*ev = full
			return true
		}
		ev.AppendField(key, v)
	}
	ev.Time = timeOfSecNsec(sec, int64(nsec))
	return true
}
