package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func dayEvents(day time.Time, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.New(day.Add(time.Duration(i)*time.Minute), "event of "+day.Format("2006-01-02"))
	}
	return evs
}

func TestRetentionMaxAge(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{}
	clock.set(time.Date(2024, 9, 10, 12, 0, 0, 0, time.UTC))
	opts := testOptions()
	opts.Now = clock.now
	opts.Retention = []RetentionRule{{Indices: "logs-*", MaxAge: 48 * time.Hour}}
	s := mustOpen(t, dir, opts)
	for d := 8; d <= 10; d++ {
		day := time.Date(2024, 9, d, 0, 0, 0, 0, time.UTC)
		mustWrite(t, s, "logs-x", dayEvents(day, 10))
		mustWrite(t, s, "keep", dayEvents(day, 10))
	}
	// Older than max_age: rejected one by one.
	err := s.Write(context.Background(), "logs-x", dayEvents(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), 2))
	var rej *RejectedError
	if !errors.As(err, &rej) || len(rej.Rejected) != 2 || !errors.Is(rej.Rejected[0].Err, ErrOlderThanRetained) {
		t.Fatalf("old events: %v", err)
	}
	// Two days later, the 8th and 9th are past 48h.
	clock.set(time.Date(2024, 9, 12, 1, 0, 0, 0, time.UTC))
	s.applyRetention()
	st := s.Indices()
	if st[1].Name != "logs-x" || st[1].Partitions != 1 || st[1].Events != 10 || st[0].Partitions != 3 {
		t.Fatalf("after retention: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, indicesDir, "logs-x", "20240908")); !os.IsNotExist(err) {
		t.Fatal("dropped partition still on disk")
	}
	if n, _ := s.Count(context.Background(), Query{Indices: []string{"logs-x"}}); n != 10 {
		t.Fatalf("count %d", n)
	}
	if c := s.Counters(); c.DroppedPartitions != 2 {
		t.Fatalf("counters %+v", c)
	}
	// A write to a dropped day makes a new partition.
	clock.set(time.Date(2024, 9, 10, 12, 0, 0, 0, time.UTC))
	mustWrite(t, s, "logs-x", dayEvents(time.Date(2024, 9, 9, 0, 0, 0, 0, time.UTC), 3))
	if n, _ := s.Count(context.Background(), Query{Indices: []string{"logs-x"}}); n != 13 {
		t.Fatalf("count %d after writing again", n)
	}
}

func TestRetentionMaxSize(t *testing.T) {
	clock := &fakeClock{}
	clock.set(time.Date(2024, 9, 20, 12, 0, 0, 0, time.UTC))
	opts := testOptions()
	opts.Now = clock.now
	opts.DisableMerges = true
	s := mustOpen(t, t.TempDir(), opts)
	for d := 10; d <= 20; d++ {
		mustWrite(t, s, "big", dayEvents(time.Date(2024, 9, d, 0, 0, 0, 0, time.UTC), 200))
	}
	st := s.Indices()[0]
	per := st.Bytes / 11
	// Room for about three and a half partitions.
	if err := s.SetRetention([]RetentionRule{{Indices: "big", MaxSize: per*3 + per/2}}); err != nil {
		t.Fatal(err)
	}
	s.applyRetention()
	st = s.Indices()[0]
	if st.Partitions != 3 || st.Oldest.Day() != 18 || st.Bytes > per*3+per/2 {
		t.Fatalf("after max_size retention: %+v (partition ~%d bytes)", st, per)
	}
	// The newest partition is kept even when it alone is too big.
	s.SetRetention([]RetentionRule{{Indices: "big", MaxSize: 1}})
	s.applyRetention()
	if st = s.Indices()[0]; st.Partitions != 1 || st.Newest.Day() != 20 {
		t.Fatalf("after a tiny max_size: %+v", st)
	}
}

func TestDiskWatermarks(t *testing.T) {
	var used atomic.Uint64
	used.Store(50)
	opts := testOptions()
	opts.HighWatermark, opts.LowWatermark = 0.95, 0.90
	opts.DiskCheckInterval = 5 * time.Millisecond
	opts.DiskUsage = func(string) (uint64, uint64, error) { return used.Load(), 100, nil }
	s := mustOpen(t, t.TempDir(), opts)
	evs := dayEvents(time.Now().UTC(), 3)
	mustWrite(t, s, "w", evs)

	used.Store(96)
	s.checkDisk()
	err := s.Write(context.Background(), "w", evs)
	var df *DiskFullError
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &df) {
		t.Fatalf("write above the high watermark: %v", err)
	}
	for _, want := range []string{"96.0% full", "95%", "below 90%", s.dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Between the watermarks: still refused.
	used.Store(92)
	s.checkDisk()
	if err := s.Write(context.Background(), "w", evs); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("write between the watermarks: %v", err)
	}
	// Below the low watermark it resumes by itself (the background check).
	used.Store(89)
	deadline := time.Now().Add(5 * time.Second)
	for s.Write(context.Background(), "w", evs) != nil {
		if time.Now().After(deadline) {
			t.Fatal("writes did not resume below the low watermark")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
