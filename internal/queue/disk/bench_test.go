package disk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// benchEvents returns n distinct log events of about 200 bytes each in
// their JSON form.
func benchEvents(n int) []event.Event {
	evs := make([]event.Event, n)
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	rnd := uint64(88172645463325252)
	for i := range evs {
		// xorshift: a request id that compresses as badly as real ones.
		rnd ^= rnd << 13
		rnd ^= rnd >> 7
		rnd ^= rnd << 17
		ev := event.NewSized(ts.Add(time.Duration(i)*time.Millisecond), 4)
		ev.AppendField(event.MessageField, event.String(fmt.Sprintf(`10.0.%d.%d - "GET /api/v1/orders/%06d HTTP/1.1" 200 %d req=%016x`, i%256, rnd%256, i, 1000+rnd%9000, rnd)))
		ev.AppendField("host.name", event.String(fmt.Sprintf("web-%d", i%16)))
		ev.AppendField("log.level", event.String("info"))
		ev.AppendField("_source", event.String("http"))
		evs[i] = ev
	}
	return evs
}

func jsonSize(evs []event.Event) int {
	n := 0
	var buf []byte
	for i := range evs {
		buf = event.AppendJSON(buf[:0], &evs[i], true)
		n += len(buf)
	}
	return n
}

// BenchmarkPushPop measures sustained write+read: one goroutine pushes
// batches of ~200-byte events while another pops and acknowledges them,
// with the default fsync policy (every 500ms). MB/s counts each event's
// JSON size once.
func BenchmarkPushPop(b *testing.B) {
	for _, bc := range []struct {
		batch       int
		compression string
	}{{500, "none"}, {500, "zstd"}, {100, "none"}, {10, "none"}, {1, "none"}} {
		b.Run(fmt.Sprintf("batch=%d/%s", bc.batch, bc.compression), func(b *testing.B) {
			benchPushPop(b, bc.batch, bc.compression)
		})
	}
}

func benchPushPop(b *testing.B, batch int, compression string) {
	q, err := Open(b.TempDir(), Options{
		Compression: compression,
		MaxBytes:    256 << 20,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(batch)
	b.SetBytes(int64(jsonSize(evs)))
	b.ReportAllocs()
	var acked atomic.Int64
	var diskBytes atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range b.N {
			bt, err := q.Pop(context.Background())
			if err != nil {
				b.Error(err)
				return
			}
			diskBytes.Add(int64(bt.Bytes))
			bt.Ack(event.Delivered)
			bt.Release()
		}
	}()
	for range b.N {
		bt := event.NewBatch("bench")
		bt.Events = append(bt.Events, evs...)
		bt.AddAcker(event.NewAcker(func(event.Status) { acked.Add(1) }))
		if err := q.Push(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	q.Close()
	if acked.Load() != int64(b.N) {
		b.Fatalf("%d of %d pushes acknowledged", acked.Load(), b.N)
	}
	b.ReportMetric(float64(diskBytes.Load())/float64(b.N*batch), "disk-B/event")
}

// TestSpaceOverhead reports what a record costs on disk, per batch size and
// compression, against the events' JSON size and their binary encoding,
// and holds the record framing to at most 5% for batches of 500
// 200-byte events.
func TestSpaceOverhead(t *testing.T) {
	for _, compression := range []string{"none", "zstd"} {
		for _, batch := range []int{1, 10, 100, 500} {
			dir := t.TempDir()
			opts := testOptions()
			opts.Compression = compression
			q := mustOpen(t, dir, opts)
			evs := benchEvents(batch)
			js := jsonSize(evs)
			var bin int
			for i := range evs {
				bin += len(event.AppendBinary(nil, &evs[i]))
			}
			const records = 20
			for range records {
				bt := event.NewBatch("")
				bt.Events = append(bt.Events, evs...)
				mustPush(t, q, bt)
			}
			q.Close()
			disk := int64(0)
			for _, f := range segFiles(t, dir) {
				fi, _ := os.Stat(filepath.Join(dir, f))
				disk += fi.Size()
			}
			perEvent := float64(disk) / float64(records*batch)
			framing := float64(disk-int64(records*bin)) / float64(records*bin)
			t.Logf("%-4s batch=%3d: %6.1f B/event on disk, JSON %5.1f B/event (%5.1f%%), binary %5.1f B/event, record framing %+6.2f%%",
				compression, batch, perEvent, float64(js)/float64(batch), 100*perEvent/(float64(js)/float64(batch)), float64(bin)/float64(batch), 100*framing)
			if batch == 500 && compression == "none" && framing > 0.05 {
				t.Errorf("record framing %.2f%% over 5%%", 100*framing)
			}
		}
	}
}

// bigTests reports whether the slow, disk-hungry tests are enabled.
func bigTests() bool { return os.Getenv("SLUICE_BIG_TESTS") == "1" }

// buildQueue fills dir with about size bytes of unacknowledged records of
// 500 ~200-byte events.
func buildQueue(tb testing.TB, dir string, size int64) (events int) {
	q, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	evs := benchEvents(500)
	for q.Stats().Bytes < size {
		bt := event.NewBatch("")
		bt.Events = append(bt.Events, evs...)
		if err := q.Push(context.Background(), bt); err != nil {
			tb.Fatal(err)
		}
		events += 500
	}
	q.Close()
	return events
}

// BenchmarkRecover times Open of a queue holding 64 MiB of unacknowledged
// records (1 GiB with SLUICE_BIG_TESTS=1): a full scan with CRC checks.
func BenchmarkRecover(b *testing.B) {
	size := int64(64 << 20)
	if bigTests() {
		size = 1 << 30
	}
	dir := b.TempDir()
	events := buildQueue(b, dir, size)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		q, err := Open(dir, Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		if st := q.Stats(); st.Events != events {
			b.Fatalf("recovered %d events, want %d", st.Events, events)
		}
		q.Close()
	}
}

// TestRecover1GB checks that Open of a 1 GiB queue takes under 5 s, with
// the file data in the page cache and cold from disk (the segments evicted
// with posix_fadvise). Opt in with SLUICE_BIG_TESTS=1.
func TestRecover1GB(t *testing.T) {
	if !bigTests() {
		t.Skip("set SLUICE_BIG_TESTS=1 to build a 1 GiB queue and time its recovery")
	}
	dir := t.TempDir()
	began := time.Now()
	events := buildQueue(t, dir, 1<<30)
	t.Logf("built 1 GiB queue (%d events) in %v", events, time.Since(began).Round(time.Millisecond))
	open := func(what string) {
		began := time.Now()
		q := mustOpen(t, dir, testOptions())
		took := time.Since(began)
		st := q.Stats()
		q.Close()
		t.Logf("recovery (%s cache): %v for %d MiB, %d events", what, took.Round(time.Millisecond), st.Bytes>>20, st.Events)
		if st.Events != events {
			t.Fatalf("recovered %d events, want %d", st.Events, events)
		}
		if took > 5*time.Second {
			t.Errorf("recovery took %v, over 5 s", took)
		}
	}
	open("warm")
	if err := dropFileCache(dir); err != nil {
		t.Logf("cannot evict the segments from the page cache (%v): cold recovery not measured", err)
		return
	}
	open("cold")
}
