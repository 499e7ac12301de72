// Package preview runs sample events through one pipeline of a config and
// records what each function did to each event: fields added, removed and
// changed, events dropped, failed or emitted. `sluice preview` prints it and
// POST /api/v1/preview returns it as JSON for the web UI.
//
// Preview builds the pipeline's functions afresh from the config, exactly
// as the runtime does (same registry, same `if:` conditions), and applies
// them function by function to the whole sample, so functions that look at
// many events (throttle, sample, split, aggregate) behave as they would on a
// batch. Functions that emit on a timer (aggregate, metrics) are flushed
// once at the end, as at shutdown.
package preview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
)

// Change is one field that a function changed in an event. Values are JSON.
type Change struct {
	Field  string          `json:"field"`
	Op     string          `json:"op"` // "added", "removed" or "changed"
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// EventStep is what one function did to one event.
type EventStep struct {
	// In is the event's position in the list entering the function.
	In int `json:"in"`
	// Skipped is set when the function's `if:` did not match.
	Skipped bool `json:"skipped,omitempty"`
	// Dropped is set when the function dropped the event.
	Dropped bool `json:"dropped,omitempty"`
	// Failed is set when the function counted a failure (the event goes
	// on with a failure tag).
	Failed  bool     `json:"failed,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// Emitted are new events the function made from this one (split).
	Emitted []json.RawMessage `json:"emitted,omitempty"`
}

// Step is one function of the pipeline and what it did to the sample.
type Step struct {
	Index       int    `json:"index"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
	If          string `json:"if,omitempty"`
	// In, Out, Dropped, Failed and Emitted count events.
	In      int         `json:"in"`
	Out     int         `json:"out"`
	Dropped int         `json:"dropped"`
	Failed  int         `json:"failed"`
	Emitted int         `json:"emitted"`
	Events  []EventStep `json:"events"`
}

// Flushed is an event a timer-driven function emitted at the final flush.
type Flushed struct {
	Step  int             `json:"step"`
	Type  string          `json:"type"`
	Event json.RawMessage `json:"event"`
}

// Result is the whole preview.
type Result struct {
	Pipeline string            `json:"pipeline"`
	Input    []json.RawMessage `json:"input"`
	Steps    []Step            `json:"steps"`
	Output   []json.RawMessage `json:"output"`
	Flushed  []Flushed         `json:"flushed,omitempty"`
}

// Options are the inputs of Run.
type Options struct {
	Config   *config.Config
	Registry *component.Registry
	// Pipeline names the pipeline to run; when empty and the config has
	// exactly one pipeline, that one.
	Pipeline string
	// Source is the source name conditions see as __source.
	Source string
	Logger *slog.Logger
	// Now is the time of the final flush (time.Now when zero).
	Now time.Time
}

// MaxEvents bounds the sample size.
const MaxEvents = 10000

type counter struct{ n atomic.Int64 }

func (c *counter) Inc() { c.n.Add(1) }

// Run runs events through the pipeline and reports each function's effect.
// It takes ownership of events.
func Run(opts Options, events []event.Event) (*Result, error) {
	if opts.Config == nil || opts.Registry == nil {
		return nil, fmt.Errorf("preview: config and registry are required")
	}
	if len(events) > MaxEvents {
		return nil, fmt.Errorf("preview: %d events is more than the limit of %d", len(events), MaxEvents)
	}
	name, err := pickPipeline(opts.Config, opts.Pipeline)
	if err != nil {
		return nil, err
	}
	p := opts.Config.Pipelines[name]
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	type built struct {
		fn       component.Function
		failures *counter
	}
	fns := make([]built, 0, len(p.Functions))
	defer func() {
		for _, b := range fns {
			if c, ok := b.fn.(component.Closer); ok {
				_ = c.Close()
			}
		}
	}()
	for i, f := range p.Functions {
		spec, ok := opts.Registry.Function(f.Type)
		if !ok {
			return nil, fmt.Errorf("pipeline %s function %d: unknown type %q", name, i, f.Type)
		}
		c := &counter{}
		fn, err := spec.Build(f.Config, component.Env{Name: fmt.Sprintf("%s[%d]", name, i), Logger: log.With("function", f.Type, "index", i), Failures: c})
		if err != nil {
			return nil, fmt.Errorf("pipeline %s function %d (%s): %w", name, i, f.Type, err)
		}
		fns = append(fns, built{fn: fn, failures: c})
	}

	res := &Result{Pipeline: name, Input: jsonAll(events), Steps: make([]Step, 0, len(fns))}
	cur := events
	for i, b := range fns {
		f := p.Functions[i]
		st := Step{Index: i, Type: f.Type, Description: f.Description, If: f.If, In: len(cur), Events: make([]EventStep, 0, len(cur))}
		next := make([]event.Event, 0, len(cur))
		for j := range cur {
			ev := &cur[j]
			es := EventStep{In: j}
			if f.Program != nil {
				if ok, _ := f.Program.Match(ev, opts.Source); !ok {
					es.Skipped = true
					st.Events = append(st.Events, es)
					next = append(next, *ev)
					continue
				}
			}
			before := snapshot(ev)
			failed := b.failures.n.Load()
			var emitted []event.Event
			keep := b.fn.Apply(ev, func(e event.Event) { emitted = append(emitted, e) })
			es.Failed = b.failures.n.Load() != failed
			if keep {
				es.Changes = diff(before, snapshot(ev))
				next = append(next, *ev)
			} else {
				es.Dropped = true
				st.Dropped++
			}
			for k := range emitted {
				es.Emitted = append(es.Emitted, eventJSON(&emitted[k]))
			}
			st.Emitted += len(emitted)
			next = append(next, emitted...)
			if es.Failed {
				st.Failed++
			}
			st.Events = append(st.Events, es)
		}
		st.Out = len(next)
		res.Steps = append(res.Steps, st)
		cur = next
	}
	res.Output = jsonAll(cur)
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	for i, b := range fns {
		if fl, ok := b.fn.(component.Flusher); ok {
			fl.Flush(now, true, func(e event.Event) {
				res.Flushed = append(res.Flushed, Flushed{Step: i, Type: p.Functions[i].Type, Event: eventJSON(&e)})
			})
		}
	}
	return res, nil
}

func pickPipeline(cfg *config.Config, name string) (string, error) {
	if name != "" {
		if cfg.Pipelines[name] == nil {
			return "", fmt.Errorf("preview: no pipeline %q (the config has: %s)", name, pipelineNames(cfg))
		}
		return name, nil
	}
	if len(cfg.Pipelines) == 1 {
		for n := range cfg.Pipelines {
			return n, nil
		}
	}
	if len(cfg.Pipelines) == 0 {
		return "", fmt.Errorf("preview: the config has no pipelines")
	}
	return "", fmt.Errorf("preview: name the pipeline to run (the config has: %s)", pipelineNames(cfg))
}

func pipelineNames(cfg *config.Config) string {
	names := make([]string, 0, len(cfg.Pipelines))
	for n := range cfg.Pipelines {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

// field is one field of a snapshot, its value as JSON.
type field struct {
	key string
	val string
}

// snapshot lists an event's fields in order, @timestamp first.
func snapshot(ev *event.Event) []field {
	out := make([]field, 0, ev.Len()+1)
	out = append(out, field{key: event.TimestampField, val: string(event.AppendJSONString(nil, string(event.AppendTimestamp(nil, ev.Time))))})
	for _, f := range ev.Fields() {
		if f.Key == event.TimestampField {
			continue
		}
		out = append(out, field{key: f.Key, val: string(event.AppendValueJSON(nil, f.Value))})
	}
	return out
}

// diff lists what changed from before to after: changed and added fields
// in after's order, then removed fields in before's order.
func diff(before, after []field) []Change {
	old := make(map[string]string, len(before))
	for _, f := range before {
		old[f.key] = f.val
	}
	seen := make(map[string]bool, len(after))
	var out []Change
	for _, f := range after {
		seen[f.key] = true
		v, ok := old[f.key]
		switch {
		case !ok:
			out = append(out, Change{Field: f.key, Op: "added", After: json.RawMessage(f.val)})
		case v != f.val:
			out = append(out, Change{Field: f.key, Op: "changed", Before: json.RawMessage(v), After: json.RawMessage(f.val)})
		}
	}
	for _, f := range before {
		if !seen[f.key] {
			out = append(out, Change{Field: f.key, Op: "removed", Before: json.RawMessage(f.val)})
		}
	}
	return out
}

func eventJSON(ev *event.Event) json.RawMessage {
	return json.RawMessage(event.AppendJSON(nil, ev, true))
}

func jsonAll(evs []event.Event) []json.RawMessage {
	out := make([]json.RawMessage, len(evs))
	for i := range evs {
		out[i] = eventJSON(&evs[i])
	}
	return out
}
