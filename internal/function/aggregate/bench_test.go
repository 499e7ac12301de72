package aggregate

import (
	"strconv"
	"testing"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func benchApply(b *testing.B, keys int) {
	f := build(b, `
group_by: [kubernetes.pod.name, http.response.status_code]
aggregations:
  - {op: count}
  - {op: sum, field: http.response.body.bytes}
  - {op: max, field: event.duration}
window: 1h`)
	evs := make([]event.Event, keys)
	for i := range evs {
		ev := event.New(t0, "GET /index.html 200")
		ev.SetString("kubernetes.pod.name", "webapp-"+strconv.Itoa(i))
		ev.SetValue("http.response.status_code", event.Int(200))
		ev.SetValue("http.response.body.bytes", event.Int(int64(1000+i)))
		ev.SetValue("event.duration", event.Float(float64(i)/7))
		evs[i] = ev
	}
	fntest.BenchParallel(b, f, evs)
}

func BenchmarkApply(b *testing.B) {
	b.Run("1key", func(b *testing.B) { benchApply(b, 1) })
	b.Run("10kkeys", func(b *testing.B) { benchApply(b, 10000) })
}
