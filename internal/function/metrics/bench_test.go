package metrics

import (
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func benchEvents(keys int) []event.Event {
	evs := make([]event.Event, keys)
	for i := range evs {
		ev := event.New(t0, "GET /index.html 200")
		ev.SetString("kubernetes.pod.name", "webapp-"+strconv.Itoa(i))
		ev.SetValue("duration", event.Int(int64(i%500)))
		evs[i] = ev
	}
	return evs
}

func benchApply(b *testing.B, yamlCfg string, keys int) {
	f := build(b, yamlCfg, t0)
	evs := benchEvents(keys)
	fntest.BenchParallel(b, f, evs)
}

func BenchmarkApply(b *testing.B) {
	meter := "meter: ['events_%{kubernetes.pod.name}']"
	timer := "timer: {'t_%{kubernetes.pod.name}': duration}"
	b.Run("meter/1key", func(b *testing.B) { benchApply(b, meter, 1) })
	b.Run("meter/10kkeys", func(b *testing.B) { benchApply(b, meter, 10000) })
	b.Run("timer/1key", func(b *testing.B) { benchApply(b, timer, 1) })
	b.Run("timer/10kkeys", func(b *testing.B) { benchApply(b, timer, 10000) })
}

func BenchmarkFlush10kMeters(b *testing.B) {
	f := build(b, "meter: ['events_%{kubernetes.pod.name}']", t0)
	for _, ev := range benchEvents(10000) {
		f.Apply(&ev, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Flush(t0.Add(time.Duration(i+1)*Tick), false, func(event.Event) {})
	}
}
