package store

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	logstore "github.com/sluicehq/sluice/internal/store"
)

func build(t *testing.T, st component.EventStore, index string) component.Sink {
	t.Helper()
	cfg := Spec.NewConfig().(*Config)
	cfg.Index = index
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := Spec.Build(cfg, component.Env{Name: "store", Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWritesPerRenderedIndex(t *testing.T) {
	st, err := logstore.Open(t.TempDir(), logstore.Options{FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := build(t, st, "logs-%{kubernetes.namespace}")
	b := event.NewBatch("test")
	for _, ns := range []string{"Shop", "db", "bad/name*", ""} {
		ev := event.New(time.Now(), "m")
		if ns != "" {
			ev.Set("kubernetes.namespace", ns)
		}
		b.Events = append(b.Events, ev)
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ix := range st.Indices() {
		names = append(names, ix.Name)
	}
	sort.Strings(names)
	// "logs-" (an empty namespace) is a valid name; "bad/name*" has its
	// forbidden characters replaced.
	if got := names; len(got) != 4 || got[0] != "logs-" || got[1] != "logs-bad_name_" || got[2] != "logs-db" || got[3] != "logs-shop" {
		t.Errorf("indices %v", got)
	}
}

type fullStore struct{}

func (fullStore) Write(context.Context, string, []event.Event) error {
	return &logstore.DiskFullError{Path: "/data", UsedPercent: 96, HighWatermark: 0.95, LowWatermark: 0.9}
}

func (f fullStore) Append(ctx context.Context, index string, evs []event.Event, done func(error)) error {
	return f.Write(ctx, index, evs)
}

// TestRejectionsArePerEvent checks that events the store refuses come back
// as a PartialError naming their positions in the batch, across index
// groups, while the others are stored.
func TestRejectionsArePerEvent(t *testing.T) {
	st, err := logstore.Open(t.TempDir(), logstore.Options{FlushInterval: 5 * time.Millisecond, MaxFields: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := build(t, st, "logs-%{ns}")
	b := event.NewBatch("test")
	wide := map[int]bool{1: true, 4: true}
	for i := range 6 {
		ev := event.New(time.Now(), "m")
		ev.SetString("ns", []string{"a", "b"}[i%2])
		if wide[i] {
			ev.SetString("x", "1")
			ev.SetString("y", "2")
			ev.SetString("z", "3")
		}
		b.Events = append(b.Events, ev)
	}
	err = s.Write(context.Background(), b)
	var pe *component.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a PartialError", err)
	}
	if len(pe.Rejected) != 2 || pe.Rejected[0].Index != 1 || pe.Rejected[1].Index != 4 {
		t.Fatalf("rejected %+v, want events 1 and 4", pe.Rejected)
	}
	if pe.Rejected[0].Reason == "" {
		t.Error("no reason")
	}
	n, err := st.Count(context.Background(), logstore.Query{Indices: []string{"logs-*"}})
	if err != nil || n != 4 {
		t.Errorf("stored %d (%v), want 4", n, err)
	}
}

// TestAsyncWritesOverlap checks that batches submitted through WriteAsync
// share one group commit instead of waiting for one each.
func TestAsyncWritesOverlap(t *testing.T) {
	dir := t.TempDir()
	st, err := logstore.Open(dir, logstore.Options{FlushInterval: time.Hour, DisableMerges: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	as := build(t, st, "logs").(component.AsyncSink)
	if as.MaxInFlight() < 2 {
		t.Fatalf("MaxInFlight %d", as.MaxInFlight())
	}
	const batches = 20
	done := make(chan error, batches)
	for range batches {
		b := event.NewBatch("test")
		b.Events = append(b.Events, event.New(time.Now(), "m"))
		if err := as.WriteAsync(context.Background(), b, func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	// Every batch is submitted before any commit: one at a time, the
	// second would still wait for the first's. Close commits them all at
	// once.
	select {
	case err := <-done:
		t.Fatalf("a batch finished before its commit: %v", err)
	default:
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for range batches {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if c := st.Counters(); c.Flushes != 1 {
		t.Errorf("%d flushes, want 1 group commit for all batches", c.Flushes)
	}
	st, err = logstore.Open(dir, logstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, _ := st.Count(context.Background(), logstore.Query{Indices: []string{"logs"}})
	if n != batches {
		t.Errorf("stored %d, want %d", n, batches)
	}
}

func TestDiskFullIsRetryable(t *testing.T) {
	s := build(t, fullStore{}, "logs")
	b := event.NewBatch("test")
	b.Events = append(b.Events, event.New(time.Now(), "m"))
	err := s.Write(context.Background(), b)
	if err == nil || component.IsPermanent(err) || !errors.Is(err, logstore.ErrDiskFull) {
		t.Errorf("disk full: %v (want a retryable error)", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []*Config{{Index: "%{unclosed", DefaultIndex: "logs"}, {Index: "Bad Name", DefaultIndex: "logs"}, {Index: "logs", DefaultIndex: "_x"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
	if _, err := Spec.Build(Spec.NewConfig(), component.Env{}); err == nil {
		t.Error("built without a store")
	}
}
