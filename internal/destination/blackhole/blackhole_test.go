package blackhole

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func batchOf(n, bytes int) *event.Batch {
	b := event.NewBatch("test")
	for range n {
		b.Events = append(b.Events, event.New(time.Now(), "x"))
	}
	b.Bytes = bytes
	return b
}

func TestCounts(t *testing.T) {
	tests := []struct {
		name    string
		batches [][2]int // events, bytes
		events  int64
		bytes   int64
	}{
		{"none", nil, 0, 0},
		{"one", [][2]int{{3, 30}}, 3, 30},
		{"several", [][2]int{{3, 30}, {0, 0}, {1000, 200000}}, 1003, 200030},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSink(&Config{}, componenttest.Env(t, "bh", nil))
			defer s.Close(context.Background())
			for _, bb := range tt.batches {
				b := batchOf(bb[0], bb[1])
				if err := s.Write(context.Background(), b); err != nil {
					t.Fatal(err)
				}
				b.Release()
			}
			if got := s.events.Load(); got != tt.events {
				t.Errorf("events = %d, want %d", got, tt.events)
			}
			if got := s.bytes.Load(); got != tt.bytes {
				t.Errorf("bytes = %d, want %d", got, tt.bytes)
			}
		})
	}
}

// syncBuffer is a log destination safe for the printer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestPrintEvery(t *testing.T) {
	var logs syncBuffer
	env := componenttest.Env(t, "bh", nil)
	env.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s := newSink(&Config{PrintEvery: config.Duration(100 * time.Millisecond)}, env)
	b := batchOf(42, 420)
	_ = s.Write(context.Background(), b)
	b.Release()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "events=42") {
		if time.Now().After(deadline) {
			t.Fatalf("no rate line after 5s; logs: %q", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		every config.Duration
		ok    bool
	}{{0, true}, {config.Duration(time.Second), true}, {-1, false}, {config.Duration(time.Millisecond), false}} {
		err := (&Config{PrintEvery: tt.every}).Validate()
		var fe *component.FieldError
		if tt.ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "print_every")) {
			t.Errorf("print_every %v: error = %v", tt.every.D(), err)
		}
	}
}

func TestSpecBuild(t *testing.T) {
	sink, err := Spec.Build(Spec.NewConfig(), componenttest.Env(t, "bh", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
