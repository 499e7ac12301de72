package topology

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/expr"
)

// step is one built function of a pipeline.
type step struct {
	fn      component.Function
	cond    *expr.Program
	in, out prometheus.Counter
	dropped prometheus.Counter
}

// pipeline runs its functions over a batch, function by function.
type pipeline struct {
	name     string
	steps    []step
	flushers []*flushLoop
}

func buildPipeline(p *config.Pipeline, reg *component.Registry, env component.Env) (*pipeline, error) {
	pl := &pipeline{name: p.Name}
	for i, f := range p.Functions {
		spec, ok := reg.Function(f.Type)
		if !ok {
			return nil, fmt.Errorf("pipeline %s: unknown function type %q", p.Name, f.Type)
		}
		name := fmt.Sprintf("%s[%d]", p.Name, i)
		label := fmt.Sprintf("%d:%s", i, f.Type)
		fenv := env
		fenv.Name = name
		fenv.Logger = env.Logger.With("pipeline", p.Name, "function", f.Type, "index", i)
		fenv.Failures = env.Metrics.FunctionFailures(p.Name, label)
		fn, err := spec.Build(f.Config, fenv)
		if err != nil {
			pl.close()
			return nil, fmt.Errorf("pipeline %s function %d (%s): %w", p.Name, i, f.Type, err)
		}
		in, out := env.Metrics.Function(p.Name, label)
		pl.steps = append(pl.steps, step{fn: fn, cond: f.Program, in: in, out: out,
			dropped: env.Metrics.DropCounter("function", p.Name+"/"+label, "dropped_by_function")})
	}
	return pl, nil
}

// run applies every function to b in place. source is the batch's source
// name, for conditions.
func (p *pipeline) run(b *event.Batch) {
	for i := range p.steps {
		if len(b.Events) == 0 {
			return
		}
		p.steps[i].apply(b)
	}
}

func (s *step) apply(b *event.Batch) {
	in := len(b.Events)
	var extra []event.Event
	emit := func(e event.Event) { extra = append(extra, e) }
	// out compacts b.Events in place; once a function emits extra events
	// they are written to fresh instead, keeping the order.
	out := b.Events[:0]
	var fresh []event.Event
	useFresh := false
	for i := range b.Events {
		ev := &b.Events[i]
		keep := true
		if s.cond == nil {
			keep = s.fn.Apply(ev, emit)
		} else if ok, _ := s.cond.Match(ev, b.Source); ok {
			keep = s.fn.Apply(ev, emit)
		}
		if len(extra) > 0 && !useFresh {
			useFresh = true
			fresh = make([]event.Event, len(out), len(b.Events)+len(extra)+8)
			copy(fresh, out)
		}
		if useFresh {
			if keep {
				fresh = append(fresh, *ev)
			}
			fresh = append(fresh, extra...)
			clear(extra)
			extra = extra[:0]
			continue
		}
		if keep {
			out = append(out, *ev)
		}
	}
	if useFresh {
		b.Events = fresh
	} else {
		clear(b.Events[len(out):])
		b.Events = out
	}
	s.in.Add(float64(in))
	s.out.Add(float64(len(b.Events)))
	if d := in - len(b.Events); d > 0 {
		s.dropped.Add(float64(d))
	}
}

func (p *pipeline) close() {
	p.stopFlushers()
	for _, s := range p.steps {
		if c, ok := s.fn.(component.Closer); ok {
			_ = c.Close()
		}
	}
}
