package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
)

// The parts list of a partition names its published parts. It is replaced
// with write-temp, fsync, rename, fsync-dir, so it is always the old list or
// the new one: a part directory is part of the partition only once the list
// that names it is durable, and a merged-away part stops being part of it
// the moment the new list is.
//
//	0  "SLSP"
//	4  uint8  version (1)
//	5  3      zero
//	8  uint64 next part number
//	16 uint32 n
//	20 n × uint64 part numbers, ascending
//	.. uint32 CRC32C of everything before
const (
	partsFile     = "parts"
	partsTemp     = "parts.tmp"
	partsMagic    = "SLSP"
	partsVersion  = 1
	partsFixedLen = 20
)

type partList struct {
	next uint64
	nums []uint64
}

func (l *partList) marshal() []byte {
	b := make([]byte, partsFixedLen, partsFixedLen+8*len(l.nums)+4)
	copy(b, partsMagic)
	b[4] = partsVersion
	binary.LittleEndian.PutUint64(b[8:], l.next)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(l.nums)))
	for _, n := range l.nums {
		b = binary.LittleEndian.AppendUint64(b, n)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errBadPartList = errors.New("bad parts list")

func parsePartList(b []byte) (partList, error) {
	var l partList
	if len(b) < partsFixedLen+4 {
		return l, fmt.Errorf("%w: %d bytes", errBadPartList, len(b))
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(body):]) {
		return l, fmt.Errorf("%w: checksum mismatch", errBadPartList)
	}
	if string(b[:4]) != partsMagic || b[4] != partsVersion {
		return l, fmt.Errorf("%w: unknown magic or version", errBadPartList)
	}
	l.next = binary.LittleEndian.Uint64(b[8:])
	n := binary.LittleEndian.Uint32(b[16:])
	if uint64(len(body)) != partsFixedLen+8*uint64(n) {
		return l, fmt.Errorf("%w: length does not match %d parts", errBadPartList, n)
	}
	for i := range int(n) {
		l.nums = append(l.nums, binary.LittleEndian.Uint64(b[partsFixedLen+8*i:]))
	}
	if !slices.IsSorted(l.nums) || len(slices.Compact(slices.Clone(l.nums))) != len(l.nums) {
		return l, fmt.Errorf("%w: part numbers not ascending", errBadPartList)
	}
	for _, n := range l.nums {
		if n >= l.next {
			return l, fmt.Errorf("%w: part %d not below next %d", errBadPartList, n, l.next)
		}
	}
	return l, nil
}

// writePartList replaces dir's parts list. renamed reports whether the new
// list took the old one's place (after which a failure, of the directory
// fsync, leaves the new list in place but perhaps not durable).
func writePartList(dir string, l *partList) (renamed bool, err error) {
	tmp := filepath.Join(dir, partsTemp)
	if err := writeFileSync(tmp, l.marshal()); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("write parts list: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, partsFile)); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("write parts list: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return true, fmt.Errorf("write parts list: %w", err)
	}
	return true, nil
}
