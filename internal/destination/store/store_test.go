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
