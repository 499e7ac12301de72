package topology

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/expr"
)

type route struct {
	name    string
	cond    *expr.Program
	final   bool
	pipe    *pipeline
	dest    *destination
	matched prometheus.Counter
}

// router evaluates routes top-down for each event: the first matching final
// route takes the event; each matching non-final route before it gets a
// copy. Events that match no final route are dropped and counted.
type router struct {
	routes  []route
	simple  bool // one route, final, no filter: the batch passes as it is
	noRoute prometheus.Counter
	pipes   []*pipeline

	// inflight guards retirement: Consume holds a read lock.
	inflight sync.RWMutex
}

func (r *router) consume(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		b.Ack(event.Delivered)
		b.Release()
		return nil
	}
	if r.simple {
		rt := &r.routes[0]
		rt.matched.Add(float64(len(b.Events)))
		return r.deliver(ctx, rt, b)
	}
	var outsBuf [8]*event.Batch
	outs := outsBuf[:0]
	if len(r.routes) > len(outsBuf) {
		outs = make([]*event.Batch, 0, len(r.routes))
	}
	outs = outs[:len(r.routes)]
	unrouted := 0
	for i := range b.Events {
		ev := &b.Events[i]
		assigned := false
		for j := range r.routes {
			rt := &r.routes[j]
			if rt.cond != nil {
				if ok, _ := rt.cond.Match(ev, b.Source); !ok {
					continue
				}
			}
			if outs[j] == nil {
				outs[j] = event.NewBatch(b.Source)
				b.ShareAcks(outs[j])
			}
			if rt.final {
				outs[j].Events = append(outs[j].Events, *ev)
				assigned = true
				break
			}
			outs[j].Events = append(outs[j].Events, ev.Clone())
		}
		if !assigned {
			unrouted++
		}
	}
	per := 0
	if len(b.Events) > 0 {
		per = b.Bytes / len(b.Events)
	}
	if unrouted > 0 {
		r.noRoute.Add(float64(unrouted))
	}
	// The sub-batches hold their own references now.
	b.Ack(event.Delivered)
	b.Release()
	var firstErr error
	for j, out := range outs {
		if out == nil {
			continue
		}
		out.Bytes = per * len(out.Events)
		rt := &r.routes[j]
		rt.matched.Add(float64(len(out.Events)))
		if err := r.deliver(ctx, rt, out); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// deliver runs the route's pipeline on b and queues it for the destination.
func (r *router) deliver(ctx context.Context, rt *route, b *event.Batch) error {
	if rt.pipe != nil {
		n := len(b.Events)
		rt.pipe.run(b)
		if n > 0 && len(b.Events) != n {
			b.Bytes = b.Bytes * len(b.Events) / n
		}
	}
	if len(b.Events) == 0 {
		b.Ack(event.Delivered)
		b.Release()
		return nil
	}
	if err := rt.dest.q.Push(ctx, b); err != nil {
		b.Ack(event.Errored)
		b.Release()
		return err
	}
	return nil
}

func (r *router) close() {
	for _, p := range r.pipes {
		p.close()
	}
}
