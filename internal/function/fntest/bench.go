package fntest

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// Bench measures f on copies of ev: copies are made 1024 at a time with the
// timer stopped, so the figure is the function's own cost, and events/s is
// reported.
func Bench(b *testing.B, f *Func, ev event.Event) {
	b.Helper()
	const chunk = 1024
	evs := make([]event.Event, chunk)
	emit := func(event.Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		n := min(chunk, b.N-done)
		for i := 0; i < n; i++ {
			evs[i] = ev.Clone()
		}
		b.StartTimer()
		for i := 0; i < n; i++ {
			f.Apply(&evs[i], emit)
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchParallel measures f on every core, as a pipeline runs it: each
// goroutine applies the events of evs in turn, from its own starting point.
// The events are shared, not copied: f must only read them (as aggregate
// and metrics do). events/s is reported.
func BenchParallel(b *testing.B, f component.Function, evs []event.Event) {
	b.Helper()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(7919))
		for pb.Next() {
			i++
			f.Apply(&evs[i%len(evs)], nil)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// Restore makes ev a copy of base (its time and fields) without allocating
// when ev has room, as Reset keeps its field slice: benchmarks use it to
// start every iteration from the same event.
func Restore(ev, base *event.Event) {
	ev.Reset()
	ev.Time = base.Time
	for _, f := range base.Fields() {
		ev.AppendField(f.Key, f.Value)
	}
}

// BenchMessage measures f on the events of one message (the lines of a log
// message that f joins, say), applied in order: every iteration starts
// them from evs with Restore, so the allocations reported are f's own, and
// messages/s is reported. It first checks that evs come out as one event
// that carries none of badTags.
func BenchMessage(b *testing.B, f *Func, evs []event.Event, badTags ...string) {
	b.Helper()
	var got []event.Event
	for i := range evs {
		got = append(got, f.Run(evs[i].Clone())...)
	}
	if len(got) != 1 || slices.ContainsFunc(badTags, got[0].HasTag) {
		b.Fatalf("unexpected output %v", got)
	}
	ev := event.NewSized(time.Time{}, 16)
	b.ReportAllocs()
	for b.Loop() {
		for i := range evs {
			Restore(&ev, &evs[i])
			f.Apply(&ev, nil)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}

// BenchLines measures f on events whose message is each of lines in turn.
// The events, one per line, are reused (Reset keeps their field slices), so
// the allocations reported are f's own; events/s is reported.
func BenchLines(b *testing.B, f *Func, lines ...string) {
	b.Helper()
	events := make([]event.Event, len(lines))
	for i := range events {
		events[i] = event.NewSized(eventTime, 16)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := &events[i%len(events)]
		ev.Reset()
		ev.AppendField(event.MessageField, event.String(lines[i%len(lines)]))
		f.Apply(ev, nil)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchLinesParallel is BenchLines on every core, as a pipeline runs f:
// each goroutine reuses one event.
func BenchLinesParallel(b *testing.B, f *Func, lines ...string) {
	b.Helper()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ev := event.NewSized(eventTime, 16)
		i := 0
		for pb.Next() {
			ev.Reset()
			ev.AppendField(event.MessageField, event.String(lines[i%len(lines)]))
			f.Apply(&ev, nil)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
