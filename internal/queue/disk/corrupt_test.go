package disk

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// logBuffer collects a queue's log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func loggedOptions() (Options, *logBuffer) {
	lb := &logBuffer{}
	opts := testOptions()
	opts.Logger = slog.New(slog.NewTextHandler(lb, nil))
	return opts, lb
}

// fillQueue writes batches 0..n-1 of 5 events into small segments, closes
// the queue and returns the segment files holding records, oldest first.
func fillQueue(t *testing.T, dir string, n int) []string {
	t.Helper()
	opts := testOptions()
	opts.SegmentBytes = 4 << 10
	q := mustOpen(t, dir, opts)
	for id := range n {
		mustPush(t, q, newAcks().batch(id, 5))
	}
	q.Close()
	var files []string
	for _, f := range segFiles(t, dir) {
		if fi, _ := os.Stat(filepath.Join(dir, f)); fi.Size() > 0 {
			files = append(files, f)
		}
	}
	if len(files) < 3 {
		t.Fatalf("want several segments, got %v", files)
	}
	return files
}

// recordsIn returns the batch ids in a segment file.
func recordsIn(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	dec, _ := newZstdDecoder()
	defer dec.Close()
	scanSegment(bytes.NewReader(data), 0, int64(len(data)), make([]byte, 4096), func(off int64, h *recordHeader) {
		b := event.NewBatch("")
		if err := decodeRecord(h, data[off+recordHeaderSize:off+h.size()], dec, b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, batchID(t, b))
	})
	return ids
}

func without(ids []int, drop ...int) []int {
	return slices.DeleteFunc(slices.Clone(ids), func(id int) bool { return slices.Contains(drop, id) })
}

func TestTornTailIsCut(t *testing.T) {
	// A crash in the middle of a write: the checkpoint's synced position is
	// before the torn record.
	dir := t.TempDir()
	opts := testOptions()
	opts.FsyncInterval = time.Hour
	q := mustOpen(t, dir, opts)
	for id := range 10 {
		mustPush(t, q, newAcks().batch(id, 5))
	}
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	q.Close()
	last := segFiles(t, crashed)[0]
	path := filepath.Join(crashed, last)
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, fi.Size()-10); err != nil {
		t.Fatal(err)
	}

	r, err := Inspect(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Healthy() || r.Segments[0].State != SegmentTail || r.Records != 9 {
		t.Fatalf("inspect: healthy=%v %+v", r.Healthy(), r.Segments)
	}

	opts, logs := loggedOptions()
	q = mustOpen(t, crashed, opts)
	c := q.Counters()
	if c.TornBytes == 0 || c.CorruptRecords != 0 {
		t.Fatalf("counters %+v", c)
	}
	if !strings.Contains(logs.String(), "torn tail") {
		t.Fatalf("not logged: %s", logs)
	}
	if ids := drainClosed(t, q); !slices.Equal(ids, seqRange(0, 9)) {
		t.Fatalf("after recovery: %v", ids)
	}
}

func TestTruncatedSyncedSegment(t *testing.T) {
	// Data the checkpoint says was synced is missing: that is corruption,
	// not a torn write. The records before the cut are delivered.
	dir := t.TempDir()
	files := fillQueue(t, dir, 40)
	mid := filepath.Join(dir, files[1])
	ids := recordsIn(t, mid)
	fi, _ := os.Stat(mid)
	if err := os.Truncate(mid, fi.Size()-10); err != nil {
		t.Fatal(err)
	}
	opts, logs := loggedOptions()
	q := mustOpen(t, dir, opts)
	if c := q.Counters(); c.CorruptRecords != 1 || c.TornBytes != 0 {
		t.Fatalf("counters %+v", c)
	}
	if !strings.Contains(logs.String(), "corrupt record") {
		t.Fatalf("not logged: %s", logs)
	}
	if got := drainClosed(t, q); !slices.Equal(got, without(seqRange(0, 40), ids[len(ids)-1])) {
		t.Fatalf("got %v", got)
	}
	if _, err := os.Stat(mid + corruptSuffix); err != nil {
		t.Fatalf("segment not set aside: %v", err)
	}
}

func TestFlippedBytesInSegment(t *testing.T) {
	dir := t.TempDir()
	files := fillQueue(t, dir, 40)
	mid := filepath.Join(dir, files[1])
	ids := recordsIn(t, mid)
	data, _ := os.ReadFile(mid)
	// Damage the second record's payload.
	first, _ := parseHeader(data)
	data[first.size()+recordHeaderSize+20] ^= 0xff
	if err := os.WriteFile(mid, data, 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := Inspect(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Healthy() || r.CorruptRecords != 1 {
		t.Fatalf("inspect: %+v", r)
	}
	var bad *SegmentReport
	for i := range r.Segments {
		if r.Segments[i].File == files[1] {
			bad = &r.Segments[i]
		}
	}
	if bad == nil || bad.State != SegmentCorrupt || bad.BadOffset != first.size() || !strings.Contains(bad.Problem, "checksum") {
		t.Fatalf("segment report: %+v", bad)
	}

	q := mustOpen(t, dir, testOptions())
	if c := q.Counters(); c.CorruptRecords != 1 || c.LostBytes == 0 {
		t.Fatalf("counters %+v", c)
	}
	got := drainClosed(t, q)
	if want := without(seqRange(0, 40), ids[1:]...); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if _, err := os.Stat(mid + corruptSuffix); err != nil {
		t.Fatalf("segment not set aside: %v", err)
	}
	r, _ = Inspect(dir)
	if len(r.CorruptFiles) != 1 || r.Healthy() {
		t.Fatalf("inspect after: %+v", r)
	}
	// The queue keeps working, and the set-aside file does not confuse it.
	q = mustOpen(t, dir, testOptions())
	mustPush(t, q, newAcks().batch(100, 1))
	if got := drainClosed(t, q); !slices.Equal(got, []int{100}) {
		t.Fatalf("got %v", got)
	}
}

func TestCorruptionFoundWhenReading(t *testing.T) {
	dir := t.TempDir()
	opts, logs := loggedOptions()
	opts.SegmentBytes = 4 << 10
	q := mustOpen(t, dir, opts)
	defer q.Close()
	for id := range 40 {
		mustPush(t, q, newAcks().batch(id, 5))
	}
	files := segFiles(t, dir)
	mid := filepath.Join(dir, files[1])
	ids := recordsIn(t, mid)
	f, err := os.OpenFile(mid, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xde, 0xad}, 30)
	f.Close()
	got := drain(t, q)
	if want := without(seqRange(0, 40), ids...); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if c := q.Counters(); c.CorruptRecords != 1 {
		t.Fatalf("counters %+v", c)
	}
	if !strings.Contains(logs.String(), "unreadable record") {
		t.Fatalf("not logged: %s", logs)
	}
	if st := q.Stats(); st.Events != 0 {
		t.Fatalf("stats %+v", st)
	}
	q.Sync()
	if _, err := os.Stat(mid + corruptSuffix); err != nil {
		t.Fatalf("segment not set aside: %v", err)
	}
}

func TestBadCheckpoint(t *testing.T) {
	for name, content := range map[string][]byte{
		"empty":     {},
		"garbage":   bytes.Repeat([]byte("garbage!"), 20),
		"truncated": nil, // the first half of a real one
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions()
			opts.SegmentBytes = 4 << 10
			q := mustOpen(t, dir, opts)
			for id := range 40 {
				mustPush(t, q, newAcks().batch(id, 5))
			}
			// Acknowledge some, so the floor is inside the queue.
			popN(t, q, 12, event.Delivered, false)
			q.Close()
			path := filepath.Join(dir, checkpointName)
			if content == nil {
				b, _ := os.ReadFile(path)
				content = b[:len(b)/2]
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			r, _ := Inspect(dir)
			if r.Checkpoint.State != "corrupt" || r.Healthy() {
				t.Fatalf("inspect: %+v", r.Checkpoint)
			}
			opts, logs := loggedOptions()
			q = mustOpen(t, dir, opts)
			if c := q.Counters(); c.CheckpointResets != 1 {
				t.Fatalf("counters %+v", c)
			}
			if !strings.Contains(logs.String(), "checkpoint unreadable") {
				t.Fatalf("not logged: %s", logs)
			}
			// At least once: every unacknowledged batch is there, after
			// whatever acknowledged ones were still on disk.
			got := drainClosed(t, q)
			if len(got) < 28 || !slices.Equal(got[len(got)-28:], seqRange(12, 40)) {
				t.Fatalf("got %v", got)
			}
			// The checkpoint was rewritten.
			if r, _ := Inspect(dir); r.Checkpoint.State != "ok" {
				t.Fatalf("checkpoint not rewritten: %+v", r.Checkpoint)
			}
		})
	}
}

func TestMissingSegment(t *testing.T) {
	dir := t.TempDir()
	files := fillQueue(t, dir, 40)
	mid := filepath.Join(dir, files[2])
	ids := recordsIn(t, mid)
	os.Remove(mid)
	r, _ := Inspect(dir)
	if len(r.MissingSegments) != 1 || r.Healthy() {
		t.Fatalf("inspect: %+v", r)
	}
	opts, logs := loggedOptions()
	q := mustOpen(t, dir, opts)
	if c := q.Counters(); c.MissingSegments != 1 {
		t.Fatalf("counters %+v", c)
	}
	if !strings.Contains(logs.String(), "missing") {
		t.Fatalf("not logged: %s", logs)
	}
	if got := drainClosed(t, q); !slices.Equal(got, without(seqRange(0, 40), ids...)) {
		t.Fatalf("got %v", got)
	}
}

func TestZeroFilledTailWithoutCheckpoint(t *testing.T) {
	// Some file systems extend a file with zeros when a crash lands between
	// the size update and the data. Without a checkpoint to say what was
	// synced, a zero tail is taken for a torn write.
	dir := t.TempDir()
	files := fillQueue(t, dir, 10)
	last := filepath.Join(dir, files[len(files)-1])
	f, _ := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(make([]byte, 5000))
	f.Close()
	os.Remove(filepath.Join(dir, checkpointName))
	q := mustOpen(t, dir, testOptions())
	if c := q.Counters(); c.TornBytes != 5000 || c.CorruptRecords != 0 {
		t.Fatalf("counters %+v", c)
	}
	if got := drainClosed(t, q); !slices.Equal(got, seqRange(0, 10)) {
		t.Fatalf("got %v", got)
	}
}

func TestInspectLiveQueueAndVerify(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentBytes = 8 << 10
	opts.Compression = "zstd"
	now := testTime
	opts.Now = func() time.Time { return now }
	q := mustOpen(t, dir, opts)
	defer q.Close()
	for id := range 30 {
		mustPush(t, q, newAcks().batch(id, 5))
	}
	popN(t, q, 10, event.Delivered, false)
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, inspect := range []func(string) (Report, error){Inspect, Verify} {
		r, err := inspect(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Healthy() || r.Records != 20 || r.Events != 100 {
			t.Fatalf("report: %+v", r)
		}
		if st := q.Stats(); int64(r.Bytes) != st.Bytes || r.Events != st.Events {
			t.Fatalf("report %d events %d bytes, stats %+v", r.Events, r.Bytes, st)
		}
		if !r.Oldest.Equal(testTime) || r.Age <= 0 {
			t.Fatalf("oldest %v age %v", r.Oldest, r.Age)
		}
	}
	// A record whose CRC matches but does not decode: only Verify sees it.
	q.mu.Lock()
	path := segPath(dir, q.wseg.seq)
	q.mu.Unlock()
	bad := encodeRecord(nil, nil, testTime.UnixNano(), nil)
	bad[9] = 3 // claims 3 events, holds none
	bad = fixCRC(bad)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(bad)
	f.Close()
	if r, _ := Inspect(dir); !r.Healthy() {
		t.Fatalf("inspect: %+v", r)
	}
	if r, _ := Verify(dir); r.Healthy() || !strings.Contains(r.Segments[len(r.Segments)-1].Problem, "does not decode") {
		t.Fatalf("verify: %+v", r.Segments)
	}
}

func fixCRC(rec []byte) []byte {
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[lenCRCSize:], castagnoli))
	return rec
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		dst.Close()
	}
}
