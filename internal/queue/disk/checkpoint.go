package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Checkpoint layout (FORMAT.md has the why), all integers little endian:
//
//	0  "SLQC"   magic
//	4  uint8    version (1)
//	5  3 bytes  zero
//	8  uint64   floor segment  } everything before the floor is acknowledged
//	16 int64    floor offset   }
//	24 uint64   synced segment } everything before this was fsynced when
//	32 int64    synced offset  } the checkpoint was written
//	40 uint64   next segment number to create
//	48 uint32   n: segments after the floor that are fully acknowledged
//	52 uint64×n their numbers, ascending
//	.. uint32   CRC32C of everything before it
const (
	checkpointMagic   = "SLQC"
	checkpointVersion = 1
	checkpointFixed   = 52
	maxAckedAhead     = 1 << 20
)

type checkpoint struct {
	floor  Position
	synced Position
	next   uint64
	// ackedAhead lists the segments after the floor's that were fully
	// acknowledged (and deleted, or about to be): their absence at Open is
	// expected, not a loss.
	ackedAhead []uint64
}

func (c *checkpoint) equal(o *checkpoint) bool {
	return c.floor == o.floor && c.synced == o.synced && c.next == o.next && slices.Equal(c.ackedAhead, o.ackedAhead)
}

func (c *checkpoint) marshal() []byte {
	b := make([]byte, checkpointFixed, checkpointFixed+8*len(c.ackedAhead)+4)
	copy(b, checkpointMagic)
	b[4] = checkpointVersion
	binary.LittleEndian.PutUint64(b[8:], c.floor.Segment)
	binary.LittleEndian.PutUint64(b[16:], uint64(c.floor.Offset))
	binary.LittleEndian.PutUint64(b[24:], c.synced.Segment)
	binary.LittleEndian.PutUint64(b[32:], uint64(c.synced.Offset))
	binary.LittleEndian.PutUint64(b[40:], c.next)
	binary.LittleEndian.PutUint32(b[48:], uint32(len(c.ackedAhead)))
	for _, s := range c.ackedAhead {
		b = binary.LittleEndian.AppendUint64(b, s)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errBadCheckpoint = errors.New("bad checkpoint")

func parseCheckpoint(b []byte) (checkpoint, error) {
	var c checkpoint
	if len(b) < checkpointFixed+4 {
		return c, fmt.Errorf("%w: %d bytes", errBadCheckpoint, len(b))
	}
	body := b[:len(b)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(body):]); got != want {
		return c, fmt.Errorf("%w: checksum mismatch", errBadCheckpoint)
	}
	if string(b[:4]) != checkpointMagic || b[4] != checkpointVersion {
		return c, fmt.Errorf("%w: unknown magic or version", errBadCheckpoint)
	}
	n := binary.LittleEndian.Uint32(b[48:])
	if n > maxAckedAhead || len(body) != checkpointFixed+8*int(n) {
		return c, fmt.Errorf("%w: length %d does not match %d listed segments", errBadCheckpoint, len(b), n)
	}
	c.floor = Position{binary.LittleEndian.Uint64(b[8:]), int64(binary.LittleEndian.Uint64(b[16:]))}
	c.synced = Position{binary.LittleEndian.Uint64(b[24:]), int64(binary.LittleEndian.Uint64(b[32:]))}
	c.next = binary.LittleEndian.Uint64(b[40:])
	if c.floor.Offset < 0 || c.synced.Offset < 0 {
		return c, fmt.Errorf("%w: negative offset", errBadCheckpoint)
	}
	for i := range int(n) {
		c.ackedAhead = append(c.ackedAhead, binary.LittleEndian.Uint64(b[checkpointFixed+8*i:]))
	}
	if !slices.IsSorted(c.ackedAhead) {
		return c, fmt.Errorf("%w: segment list not sorted", errBadCheckpoint)
	}
	return c, nil
}

type checkpointState int

const (
	checkpointOK checkpointState = iota
	checkpointMissing
	checkpointCorrupt
)

func (s checkpointState) String() string {
	return [...]string{"ok", "missing", "corrupt"}[s]
}

// readCheckpoint reads dir's checkpoint. A missing file is not an error; an
// unreadable or invalid one returns checkpointCorrupt with the reason.
func readCheckpoint(dir string) (checkpoint, checkpointState, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointName))
	if errors.Is(err, fs.ErrNotExist) {
		return checkpoint{}, checkpointMissing, nil
	}
	if err != nil {
		return checkpoint{}, checkpointCorrupt, err
	}
	c, err := parseCheckpoint(b)
	if err != nil {
		return checkpoint{}, checkpointCorrupt, err
	}
	return c, checkpointOK, nil
}

// writeCheckpoint replaces dir's checkpoint atomically and durably: write a
// temporary file, fsync it, rename it over the old one, fsync the directory.
// At every instant the checkpoint file is either the old one or the new
// one, never empty or half written.
func writeCheckpoint(dir string, c *checkpoint) error {
	tmp := filepath.Join(dir, checkpointTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	_, err = f.Write(c.marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, checkpointName))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// syncDir makes the directory's entries (created, renamed files) durable.
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
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}
