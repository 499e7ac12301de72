package disk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/queue"
)

func TestFIFOAndResume(t *testing.T) {
	for _, compression := range []string{"none", "zstd"} {
		t.Run(compression, func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions()
			opts.Compression = compression
			opts.SegmentBytes = 16 << 10 // several segments
			q := mustOpen(t, dir, opts)
			a := newAcks()
			for id := range 100 {
				mustPush(t, q, a.batch(id, 1+id%7))
			}
			if st := q.Stats(); st.Events != 100*4-3 && st.Events == 0 {
				t.Fatalf("stats: %+v", st)
			}
			ids, _ := popN(t, q, 40, event.Delivered, false)
			if !slices.Equal(ids, seqRange(0, 40)) {
				t.Fatalf("popped %v", ids)
			}
			q.Close()
			if err := q.Push(context.Background(), a.batch(999, 1)); !errors.Is(err, queue.ErrClosed) {
				t.Fatalf("push after close: %v", err)
			}
			for id := range 100 {
				if s, ok := a.get(id); !ok || s != event.Delivered {
					t.Fatalf("batch %d: ack %v %v after Close", id, s, ok)
				}
			}

			q = mustOpen(t, dir, opts)
			events := 0
			for id := 40; id < 100; id++ {
				events += 1 + id%7
			}
			if st := q.Stats(); st.Events != events {
				t.Fatalf("after reopen: %d events, want %d", st.Events, events)
			}
			ids = drainClosed(t, q)
			if !slices.Equal(ids, seqRange(40, 100)) {
				t.Fatalf("after reopen popped %v", ids)
			}
			// Everything was acknowledged: a reopened queue is empty and the
			// segments are gone (but the new one).
			q = mustOpen(t, dir, opts)
			if st := q.Stats(); st.Events != 0 || st.Bytes != 0 || !st.Oldest.IsZero() {
				t.Fatalf("stats of an empty queue: %+v", st)
			}
			if files := segFiles(t, dir); len(files) != 1 {
				t.Fatalf("segments left: %v", files)
			}
			q.Close()
		})
	}
}

func TestPushAckFiresAfterFsync(t *testing.T) {
	opts := testOptions()
	opts.FsyncInterval = time.Hour
	q := mustOpen(t, t.TempDir(), opts)
	defer q.Close()
	a := newAcks()
	mustPush(t, q, a.batch(1, 3))
	// Readable at once, before the fsync...
	b := q.TryPop(10)
	if b == nil || batchID(t, b) != 1 {
		t.Fatal("record not readable before fsync")
	}
	b.Ack(event.Delivered)
	b.Release()
	time.Sleep(50 * time.Millisecond)
	// ...but not acknowledged to its source.
	if _, ok := a.get(1); ok {
		t.Fatal("push acknowledged before fsync")
	}
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if s, ok := a.get(1); !ok || s != event.Delivered {
		t.Fatalf("after Sync: %v %v", s, ok)
	}
}

func TestFsyncEvery(t *testing.T) {
	opts := testOptions()
	opts.FsyncInterval = time.Hour
	opts.FsyncEvery = 3
	q := mustOpen(t, t.TempDir(), opts)
	defer q.Close()
	a := newAcks()
	mustPush(t, q, a.batch(1, 1))
	mustPush(t, q, a.batch(2, 1))
	time.Sleep(50 * time.Millisecond)
	if a.count() != 0 {
		t.Fatal("acknowledged before FsyncEvery records")
	}
	mustPush(t, q, a.batch(3, 1))
	waitFor(t, "acks after the third record", func() bool { return a.count() == 3 })
}

func TestOutOfOrderAcksDeleteSegments(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentBytes = 4 << 10
	q := mustOpen(t, dir, opts)
	defer q.Close()
	for id := range 60 {
		mustPush(t, q, newAcks().batch(id, 5))
	}
	if n := len(segFiles(t, dir)); n < 10 {
		t.Fatalf("want many segments, got %d", n)
	}
	ids, held := popN(t, q, 60, 0, true)
	if !slices.Equal(ids, seqRange(0, 60)) {
		t.Fatalf("popped %v", ids)
	}
	// Acknowledge newest first: every segment but the one being written
	// goes once its records are all in, whatever the order.
	for i := len(held) - 1; i >= 0; i-- {
		st := event.Delivered
		if i%3 == 0 {
			st = event.Rejected // done too
		}
		held[i].Ack(st)
		held[i].Release()
	}
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	if files := segFiles(t, dir); len(files) != 1 {
		t.Fatalf("segments left after every record was acknowledged: %v", files)
	}
	if st := q.Stats(); st.Events != 0 || st.Bytes != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestSlowRecordPinsOnlyItsSegment(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.SegmentBytes = 4 << 10
	q := mustOpen(t, dir, opts)
	for id := range 60 {
		mustPush(t, q, newAcks().batch(id, 5))
	}
	_, held := popN(t, q, 60, 0, true)
	const slow = 17
	for i, b := range held {
		if i != slow {
			b.Ack(event.Delivered)
			b.Release()
		}
	}
	if err := q.Sync(); err != nil {
		t.Fatal(err)
	}
	files := segFiles(t, dir)
	if len(files) != 2 {
		t.Fatalf("want the slow record's segment and the current one, got %v", files)
	}
	if st := q.Stats(); st.Events != 5 {
		t.Fatalf("stats with one record out: %+v", st)
	}
	// After a restart the slow record comes back (with the records after it
	// in its segment: at least once), and nothing from other segments.
	q.Close()
	q = mustOpen(t, dir, opts)
	ids := drainClosed(t, q)
	if len(ids) == 0 || ids[0] != slow || len(ids) > 10 {
		t.Fatalf("redelivered %v", ids)
	}
	held[slow].Ack(event.Delivered) // late answer to the old queue: harmless
	held[slow].Release()
}

func TestErroredIsRedeliveredAfterRestart(t *testing.T) {
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	a := newAcks()
	for id := range 5 {
		mustPush(t, q, a.batch(id, 2))
	}
	popN(t, q, 2, event.Delivered, false)
	popN(t, q, 1, event.Errored, false)
	popN(t, q, 2, event.Delivered, false)
	if b := q.TryPop(100); b != nil {
		t.Fatal("errored record delivered again in-process")
	}
	if st := q.Stats(); st.Events != 2 {
		t.Fatalf("errored record not counted as queued: %+v", st)
	}
	q.Close()
	q = mustOpen(t, dir, testOptions())
	ids := drainClosed(t, q)
	if len(ids) == 0 || ids[0] != 2 {
		t.Fatalf("after restart: %v", ids)
	}
}

func TestCloseDrainsAndCheckpoints(t *testing.T) {
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	for id := range 20 {
		mustPush(t, q, newAcks().batch(id, 2))
	}
	popN(t, q, 5, event.Delivered, false)
	// Drained after Close; those acknowledgements are checkpointed too.
	ids := drainClosed(t, q)
	if !slices.Equal(ids, seqRange(5, 20)) {
		t.Fatalf("drained %v", ids)
	}
	if b, err := q.Pop(context.Background()); b != nil || !errors.Is(err, io.EOF) {
		t.Fatalf("pop after drain: %v %v", b, err)
	}
	q.Close() // twice is fine
	q = mustOpen(t, dir, testOptions())
	defer q.Close()
	if st := q.Stats(); st.Events != 0 {
		t.Fatalf("drained queue reopened with %+v", st)
	}
}

func TestPopWaitsAndHonoursContext(t *testing.T) {
	q := mustOpen(t, t.TempDir(), testOptions())
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := q.Pop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pop on empty queue: %v", err)
	}
	got := make(chan int)
	go func() {
		b, err := q.Pop(context.Background())
		if err != nil {
			got <- -1
			return
		}
		got <- batchID(t, b)
		b.Ack(event.Delivered)
		b.Release()
	}()
	time.Sleep(10 * time.Millisecond)
	mustPush(t, q, newAcks().batch(7, 1))
	if id := <-got; id != 7 {
		t.Fatalf("waiting pop got %d", id)
	}
}

func TestTryPopMaxEvents(t *testing.T) {
	q := mustOpen(t, t.TempDir(), testOptions())
	defer q.Close()
	mustPush(t, q, newAcks().batch(1, 5))
	if b := q.TryPop(4); b != nil {
		t.Fatal("TryPop returned a batch bigger than maxEvents")
	}
	b := q.TryPop(5)
	if b == nil || len(b.Events) != 5 {
		t.Fatalf("TryPop(5): %v", b)
	}
	b.Ack(event.Delivered)
	b.Release()
	if b := q.TryPop(5); b != nil {
		t.Fatal("TryPop on empty queue")
	}
}

func TestFullBlocksOrDrops(t *testing.T) {
	t.Run("block", func(t *testing.T) {
		opts := testOptions()
		opts.MaxEvents = 10
		q := mustOpen(t, t.TempDir(), opts)
		defer q.Close()
		mustPush(t, q, newAcks().batch(1, 8))
		a := newAcks()
		b := a.batch(2, 5)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		if err := q.Push(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("push into a full queue: %v", err)
		}
		if len(b.Events) != 5 || !b.HasAcks() {
			t.Fatal("caller must still own the batch after a failed push")
		}
		// Room appears when the first record is acknowledged.
		done := make(chan error)
		go func() { done <- q.Push(context.Background(), b) }()
		time.Sleep(10 * time.Millisecond)
		popN(t, q, 1, event.Delivered, false)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := q.Sync(); err != nil {
			t.Fatal(err)
		}
		if s, ok := a.get(2); !ok || s != event.Delivered {
			t.Fatalf("ack %v %v", s, ok)
		}
	})
	t.Run("drop_newest", func(t *testing.T) {
		m := metrics.New()
		opts := testOptions()
		opts.MaxBytes = 1 // only the first batch fits (an empty queue takes anything)
		opts.DropNewest = true
		opts.Metrics = m.Destination("es")
		q := mustOpen(t, t.TempDir(), opts)
		defer q.Close()
		mustPush(t, q, newAcks().batch(1, 3))
		a := newAcks()
		mustPush(t, q, a.batch(2, 4))
		if s, ok := a.get(2); !ok || s != event.Delivered {
			t.Fatalf("dropped batch ack %v %v", s, ok)
		}
		if got := counterValue(t, m, "sluice_events_dropped_total"); got != 4 {
			t.Fatalf("dropped counter %v, want 4", got)
		}
		if got := counterValue(t, m, "sluice_queue_events"); got != 3 {
			t.Fatalf("queue_events gauge %v, want 3", got)
		}
	})
}

func counterValue(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.Metric {
			sum += metricValue(mt)
		}
	}
	return sum
}

func metricValue(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return 0
}

func TestStatsOldest(t *testing.T) {
	now := testTime
	opts := testOptions()
	opts.Now = func() time.Time { return now }
	dir := t.TempDir()
	q := mustOpen(t, dir, opts)
	for id := range 3 {
		mustPush(t, q, newAcks().batch(id, 1))
		now = now.Add(time.Minute)
	}
	if st := q.Stats(); !st.Oldest.Equal(testTime) {
		t.Fatalf("oldest %v, want %v", st.Oldest, testTime)
	}
	_, held := popN(t, q, 2, 0, true)
	held[1].Ack(event.Delivered)
	if st := q.Stats(); !st.Oldest.Equal(testTime) {
		t.Fatalf("oldest with the first record out: %v", st.Oldest)
	}
	held[0].Ack(event.Delivered)
	if st := q.Stats(); !st.Oldest.Equal(testTime.Add(2 * time.Minute)) {
		t.Fatalf("oldest after two acks: %v", st.Oldest)
	}
	q.Close()
	q = mustOpen(t, dir, opts)
	if st := q.Stats(); st.Events != 1 || !st.Oldest.Equal(testTime.Add(2*time.Minute)) {
		t.Fatalf("after reopen: %+v", st)
	}
	drainClosed(t, q)
}

func TestOpenLocksDirectory(t *testing.T) {
	defer func(d time.Duration) { lockWait = d }(lockWait)
	lockWait = 100 * time.Millisecond
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	start := time.Now()
	if _, err := Open(dir, testOptions()); err == nil {
		t.Fatal("second Open of a directory in use succeeded")
	}
	if time.Since(start) < lockWait/2 {
		t.Fatal("Open did not wait for the lock")
	}
	q.Close()
	q = mustOpen(t, dir, testOptions())
	q.Close()
}

func TestOptionsValidation(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{Compression: "lz4"}); err == nil {
		t.Fatal("unknown compression accepted")
	}
	if _, err := Open(t.TempDir(), Options{MaxBytes: -1}); err == nil {
		t.Fatal("negative max accepted")
	}
}

func TestMixedCompression(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	q := mustOpen(t, dir, opts)
	for id := range 5 {
		mustPush(t, q, newAcks().batch(id, 20))
	}
	q.Close()
	opts.Compression = "zstd"
	q = mustOpen(t, dir, opts)
	for id := 5; id < 10; id++ {
		mustPush(t, q, newAcks().batch(id, 20))
	}
	ids := drainClosed(t, q)
	if !slices.Equal(ids, seqRange(0, 10)) {
		t.Fatalf("got %v", ids)
	}
}

// A closed queue answered late must not overwrite the checkpoint of a queue
// that opened the directory after it.
func TestStaleQueueKeepsOffTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	q1 := mustOpen(t, dir, testOptions())
	for id := range 3 {
		mustPush(t, q1, newAcks().batch(id, 1))
	}
	_, held := popN(t, q1, 3, 0, true)
	held[1].Ack(event.Delivered)
	held[2].Ack(event.Delivered)
	q1.Close()

	q2 := mustOpen(t, dir, testOptions())
	if ids, _ := popN(t, q2, 3, event.Delivered, false); !slices.Equal(ids, []int{0, 1, 2}) {
		t.Fatalf("q2 got %v", ids)
	}
	mustPush(t, q2, newAcks().batch(3, 1))
	q2.Close()
	before, _ := os.ReadFile(filepath.Join(dir, checkpointName))

	// q1 is drained now (nothing unread, nothing out): it would checkpoint.
	held[0].Ack(event.Delivered)
	if after, _ := os.ReadFile(filepath.Join(dir, checkpointName)); !bytes.Equal(before, after) {
		t.Fatal("a stale queue overwrote the checkpoint")
	}
	q3 := mustOpen(t, dir, testOptions())
	if ids := drainClosed(t, q3); !slices.Equal(ids, []int{3}) {
		t.Fatalf("q3 got %v", ids)
	}
}

// A closed queue drained by its consumer checkpoints that progress, so a
// restart does not deliver it again.
func TestDrainAfterCloseIsCheckpointed(t *testing.T) {
	dir := t.TempDir()
	q := mustOpen(t, dir, testOptions())
	for id := range 10 {
		mustPush(t, q, newAcks().batch(id, 1))
	}
	q.Close()
	before, _ := os.ReadFile(filepath.Join(dir, checkpointName))
	popN(t, q, 10, event.Delivered, false)
	if _, err := q.Pop(context.Background()); !errors.Is(err, io.EOF) {
		t.Fatalf("pop: %v", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, checkpointName)); bytes.Equal(before, after) {
		t.Fatal("drain after Close not checkpointed")
	}
	q = mustOpen(t, dir, testOptions())
	if ids := drainClosed(t, q); len(ids) != 0 {
		t.Fatalf("delivered again: %v", ids)
	}
}

func TestGroupCommit(t *testing.T) {
	opts := testOptions()
	opts.FsyncInterval = time.Hour
	opts.GroupCommit = true
	q := mustOpen(t, t.TempDir(), opts)
	defer q.Close()
	a := newAcks()
	mustPush(t, q, a.batch(1, 2))
	waitFor(t, "a waited-for batch synced without the interval", func() bool { return a.count() == 1 })
}
