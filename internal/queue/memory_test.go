package queue

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func batch(n int) *event.Batch {
	b := event.NewBatch("t")
	for i := 0; i < n; i++ {
		b.Events = append(b.Events, event.New(time.Now(), "x"))
	}
	b.Bytes = n * 10
	return b
}

func TestMemoryFIFOAndClose(t *testing.T) {
	q := NewMemory(MemoryOptions{MaxEvents: 100, MaxBytes: 1 << 20})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := q.Push(ctx, batch(i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := q.Stats(); st.Events != 6 || st.Bytes != 60 || st.Oldest.IsZero() {
		t.Fatalf("stats: %+v", st)
	}
	q.Close()
	if err := q.Push(ctx, batch(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("push after close: %v", err)
	}
	for i := 1; i <= 3; i++ {
		b, err := q.Pop(ctx)
		if err != nil || len(b.Events) != i {
			t.Fatalf("pop %d: %v %v", i, b, err)
		}
	}
	if _, err := q.Pop(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("drained: %v", err)
	}
}

func TestMemoryBlocksWhenFull(t *testing.T) {
	q := NewMemory(MemoryOptions{MaxEvents: 10, MaxBytes: 1 << 20})
	ctx := context.Background()
	if err := q.Push(ctx, batch(8)); err != nil {
		t.Fatal(err)
	}
	// Full: a push with a short deadline fails and the caller keeps the batch.
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	b := batch(5)
	if err := q.Push(tctx, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline, got %v", err)
	}
	// A blocked push completes once a pop makes room.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := q.Push(ctx, b); err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(10 * time.Millisecond)
	if _, err := q.Pop(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if st := q.Stats(); st.Events != 5 {
		t.Fatalf("after unblock: %+v", st)
	}
	// An oversized batch still goes into an empty queue.
	q.TryPop(100)
	if err := q.Push(ctx, batch(50)); err != nil {
		t.Fatal(err)
	}
	q.Close()
}

func TestMemoryDropNewest(t *testing.T) {
	m := metrics.New()
	q := NewMemory(MemoryOptions{MaxEvents: 10, MaxBytes: 1 << 20, DropNewest: true, Metrics: m.Destination("d")})
	var acked []event.Status
	var mu sync.Mutex
	for i := 0; i < 5; i++ {
		b := batch(4)
		b.AddAcker(event.NewAcker(func(s event.Status) { mu.Lock(); acked = append(acked, s); mu.Unlock() }))
		if err := q.Push(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if st := q.Stats(); st.Events != 8 {
		t.Fatalf("kept %d events, want 8", st.Events)
	}
	if len(acked) != 3 {
		t.Fatalf("dropped batches acked: %d, want 3", len(acked))
	}
	q.Close()
}

func BenchmarkMemoryPushPop(b *testing.B) {
	q := NewMemory(MemoryOptions{MaxEvents: 1 << 20, MaxBytes: 1 << 30})
	ctx := context.Background()
	bt := batch(100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = q.Push(ctx, bt)
		_, _ = q.Pop(ctx)
	}
}
