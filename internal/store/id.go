package store

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// An event's ID names it by content, so it does not change when parts are
// merged, and stays valid while data is appended:
//
//	byte    version (1)
//	varint  time, Unix nanoseconds
//	8 bytes content hash (eventHash), little endian
//	uvarint ordinal among identical events (same index, time and content)
//	bytes   index name (the rest)
//
// encoded with unpadded base64url. The order of events — by time, then
// hash, then index, then ordinal — is the order of searches and cursors;
// a cursor is the ID of the last hit of the previous page.
const idVersion = 1

type eventKey struct {
	t     int64
	h     uint64
	index string
	ord   int
}

func (k eventKey) String() string {
	b := []byte{idVersion}
	b = binary.AppendVarint(b, k.t)
	b = binary.LittleEndian.AppendUint64(b, k.h)
	b = binary.AppendUvarint(b, uint64(k.ord))
	b = append(b, k.index...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseID(id string) (eventKey, error) {
	var k eventKey
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) < 2 || b[0] != idVersion {
		return k, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	b = b[1:]
	t, n := binary.Varint(b)
	if n <= 0 || len(b)-n < 8 {
		return k, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	k.t = t
	k.h = binary.LittleEndian.Uint64(b[n:])
	b = b[n+8:]
	ord, n := binary.Uvarint(b)
	if n <= 0 || ord > 1<<31 {
		return k, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	k.ord = int(ord)
	k.index = string(b[n:])
	if ValidateIndexName(k.index) != nil {
		return k, fmt.Errorf("%w: %q", ErrBadID, id)
	}
	return k, nil
}

// cmpKey orders keys by time, hash, index (not ordinal).
func cmpKey(a, b *eventKey) int {
	switch {
	case a.t < b.t:
		return -1
	case a.t > b.t:
		return 1
	case a.h < b.h:
		return -1
	case a.h > b.h:
		return 1
	}
	return strings.Compare(a.index, b.index)
}

func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func timeOfSecNsec(sec, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }
