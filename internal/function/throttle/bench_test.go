package throttle

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/expr"
	"github.com/sluicehq/sluice/internal/function/drop"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

const benchConfig = "key: '%{kubernetes.pod.name}'\nafter_count: 1000\nperiod: 60s\nmax_age: 120s\nadd_tag: throttled\n"

// podEvent returns a Kubernetes-like event with room for the tags field,
// so that tagging does not grow its field slice.
func podEvent() event.Event {
	ev := event.NewSized(base, 10)
	ev.AppendField("message", event.String("GET /api/v1/orders 200 12ms"))
	ev.AppendField("kubernetes.namespace", event.String("shop"))
	ev.AppendField("kubernetes.pod.name", event.String(""))
	ev.AppendField("kubernetes.labels.app", event.String("checkout"))
	ev.AppendField("host.name", event.String("node-3"))
	ev.AppendField("log.level", event.String("info"))
	ev.AppendField("stream", event.String("stdout"))
	return ev
}

// podNames returns n distinct pod names.
func podNames(n int) []event.Value {
	names := make([]event.Value, n)
	for i := range names {
		names[i] = event.String(fmt.Sprintf("checkout-7d9f8c6b5-%05d", i))
	}
	return names
}

// step is the time between two events of the benchmark stream: with one
// pod, 1000 of every 60000 events pass (the rest are throttled); with 10,000
// pods each pod sees 6 events a minute and every event passes.
const step = time.Millisecond

// dropThrottled returns the drop step of the throttle recipe: drop, and its
// condition '"throttled" in tags'.
func dropThrottled(b *testing.B) (component.Function, *expr.Program) {
	b.Helper()
	dropFn, err := drop.Spec.Build(drop.Spec.NewConfig(), component.Env{})
	if err != nil {
		b.Fatal(err)
	}
	cond, err := expr.Compile(`"throttled" in tags`)
	if err != nil {
		b.Fatal(err)
	}
	return dropFn, cond
}

func benchThrottle(b *testing.B, pods int, withDrop bool) {
	f := fntest.Build(b, Spec, benchConfig)
	dropFn, cond := dropThrottled(b)
	src, names := podEvent(), podNames(pods)
	kept := 0
	// ev stands for the event's place in a batch, as fresh from its source:
	// one event whose pod name changes, taken by pointer once so that the
	// benchmark does not move a copy to the heap per event.
	ev := new(event.Event)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		*ev = src // shares the field array; tags go into its spare room
		ev.SetValue("kubernetes.pod.name", names[i%pods])
		ev.Time = base.Add(time.Duration(i) * step)
		keep := f.Apply(ev, nil)
		if withDrop {
			if ok, _ := cond.Match(ev, "test"); ok {
				keep = dropFn.Apply(ev, nil)
			}
		}
		if keep {
			kept++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(kept)/float64(b.N), "kept/event")
}

func BenchmarkThrottle(b *testing.B) {
	b.Run("one_key", func(b *testing.B) { benchThrottle(b, 1, false) })
	b.Run("10k_keys", func(b *testing.B) { benchThrottle(b, 10000, false) })
}

// BenchmarkThrottleDrop is throttle followed by `- type: drop` with
// `if: '"throttled" in tags'`, evaluated as the runtime does.
func BenchmarkThrottleDrop(b *testing.B) {
	b.Run("one_key", func(b *testing.B) { benchThrottle(b, 1, true) })
	b.Run("10k_keys", func(b *testing.B) { benchThrottle(b, 10000, true) })
}

// BenchmarkThrottleParallel runs throttle from all CPUs at once.
func BenchmarkThrottleParallel(b *testing.B) {
	for _, pods := range []int{1, 10000} {
		b.Run(fmt.Sprintf("pods=%d", pods), func(b *testing.B) {
			f := fntest.Build(b, Spec, benchConfig)
			b.ReportAllocs()
			b.ResetTimer()
			names := podNames(pods)
			b.RunParallel(func(pb *testing.PB) {
				src := podEvent() // each worker has its own events
				i := 0
				ev := new(event.Event)
				for pb.Next() {
					*ev = src
					ev.SetValue("kubernetes.pod.name", names[i%pods])
					ev.Time = base.Add(time.Duration(i) * step)
					f.Apply(ev, nil)
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkDropAlone is the drop step of BenchmarkThrottleDrop without
// throttle (the `if` expression and drop), for comparison.
func BenchmarkDropAlone(b *testing.B) {
	dropFn, cond := dropThrottled(b)
	for _, tagged := range []bool{false, true} {
		b.Run(fmt.Sprintf("tagged=%v", tagged), func(b *testing.B) {
			src := podEvent()
			if tagged {
				src.AddTag("throttled")
			}
			ev := new(event.Event)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				*ev = src
				if ok, _ := cond.Match(ev, "test"); ok {
					dropFn.Apply(ev, nil)
				}
			}
		})
	}
}
