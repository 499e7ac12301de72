package netsrc

import (
	"context"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Emit counts b's events and bytes in m (once per batch, not per event) and
// passes b to out, which takes ownership of it. An empty batch is released
// instead. It returns Consume's error; under backpressure it blocks until
// there is room or ctx is done.
func Emit(ctx context.Context, out component.Consumer, m *metrics.Source, b *event.Batch) error {
	if b.Bytes > 0 {
		m.BytesIn.Add(float64(b.Bytes))
	}
	if len(b.Events) == 0 {
		b.Ack(event.Delivered)
		b.Release()
		return nil
	}
	m.EventsIn.Add(float64(len(b.Events)))
	return out.Consume(ctx, b)
}
