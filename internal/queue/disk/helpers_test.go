package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/event"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		// The crash test's child: it runs until killed.
		os.Exit(m.Run())
	}
	goleak.VerifyTestMain(m)
}

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// acks records the status each pushed batch was acknowledged with.
type acks struct {
	mu sync.Mutex
	st map[int]event.Status
}

func newAcks() *acks { return &acks{st: make(map[int]event.Status)} }

func (a *acks) get(id int) (event.Status, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.st[id]
	return s, ok
}

func (a *acks) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.st)
}

// batch returns a batch with id's n events (each tagged with the batch id
// and its index) whose acknowledgement is recorded in a (if a is not nil).
func (a *acks) batch(id, n int) *event.Batch {
	b := event.NewBatch("test")
	for i := range n {
		ev := event.NewSized(testTime.Add(time.Duration(id)*time.Millisecond), 5)
		ev.AppendField(event.MessageField, event.String(fmt.Sprintf("batch %d event %d %s", id, i, strings.Repeat("x", 100))))
		ev.AppendField("batch", event.Int(int64(id)))
		ev.AppendField("i", event.Int(int64(i)))
		ev.AppendField("_source", event.String("test"))
		b.Events = append(b.Events, ev)
	}
	b.Bytes = 200 * n
	if a != nil {
		b.AddAcker(event.NewAcker(func(s event.Status) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if _, dup := a.st[id]; dup {
				panic(fmt.Sprintf("batch %d acknowledged twice", id))
			}
			a.st[id] = s
		}))
	}
	return b
}

// batchID returns the batch id of a popped batch, checking that its events
// are whole and in order.
func batchID(t testing.TB, b *event.Batch) int {
	t.Helper()
	id := -1
	for i := range b.Events {
		v, ok := b.Events[i].Get("batch")
		if !ok {
			t.Fatalf("event without batch id: %v", b.Events[i].Object(true))
		}
		if id == -1 {
			id = int(v.(int64))
		} else if int(v.(int64)) != id {
			t.Fatalf("batch mixes ids %d and %d", id, v)
		}
		if j, _ := b.Events[i].Get("i"); j != int64(i) {
			t.Fatalf("batch %d: event %d has index %v", id, i, j)
		}
		if s, _ := b.Events[i].GetString("_source"); s != "test" {
			t.Fatalf("internal field lost: %q", s)
		}
	}
	return id
}

func testOptions() Options {
	return Options{
		FsyncInterval: 20 * time.Millisecond,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

func mustOpen(t testing.TB, dir string, opts Options) *Queue {
	t.Helper()
	q, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return q
}

func mustPush(t testing.TB, q *Queue, b *event.Batch) {
	t.Helper()
	if err := q.Push(context.Background(), b); err != nil {
		t.Fatalf("push: %v", err)
	}
}

// popN pops n batches, acknowledging each with s (unless keep is set, in
// which case they are returned unacknowledged).
func popN(t testing.TB, q *Queue, n int, s event.Status, keep bool) (ids []int, held []*event.Batch) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range n {
		b, err := q.Pop(ctx)
		if err != nil {
			t.Fatalf("pop %d of %d: %v", len(ids)+1, n, err)
		}
		ids = append(ids, batchID(t, b))
		if keep {
			held = append(held, b)
			continue
		}
		b.Ack(s)
		b.Release()
	}
	return ids, held
}

// drain pops (and acknowledges Delivered) everything until TryPop finds
// nothing.
func drain(t testing.TB, q *Queue) []int {
	t.Helper()
	var ids []int
	for {
		b := q.TryPop(1 << 30)
		if b == nil {
			return ids
		}
		ids = append(ids, batchID(t, b))
		b.Ack(event.Delivered)
		b.Release()
	}
}

// drainClosed closes q and pops until io.EOF.
func drainClosed(t testing.TB, q *Queue) []int {
	t.Helper()
	q.Close()
	var ids []int
	for {
		b, err := q.Pop(context.Background())
		if errors.Is(err, io.EOF) {
			return ids
		}
		if err != nil {
			t.Fatalf("pop: %v", err)
		}
		ids = append(ids, batchID(t, b))
		b.Ack(event.Delivered)
		b.Release()
	}
}

func seqRange(from, to int) []int {
	var r []int
	for i := from; i < to; i++ {
		r = append(r, i)
	}
	return r
}

// segFiles returns the segment files in dir.
func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, strings.Repeat("[0-9]", segNameLen)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
