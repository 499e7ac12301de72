// Package store is the store destination: it writes events into the
// process's embedded log store (sluice server, sluice store), one index per
// rendered `index` template. A batch is acknowledged once the store has it
// durably on disk; the destination's queue in front is the write-ahead log.
//
// When the store refuses writes because its disk is above the high
// watermark, Write returns a retryable error: the queue holds the events
// and backpressure reaches the sources, and delivery resumes by itself when
// the store accepts again. Events the store rejects for good (too large,
// too many fields) are handed back to the runtime one by one, which sends them to the destination's
// dead letter destination or drops and counts them; the rest of the batch
// is stored.
//
// The sink is asynchronous (component.AsyncSink): up to 64 batches wait
// for the store's group commit at once, so one destination is not held to
// one batch per commit.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	logstore "github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/template"
)

// Config is the store destination's configuration.
type Config struct {
	Index string `yaml:"index" doc:"Index to write to, a template (logs-%{kubernetes.namespace}); rendered names are lowercased and characters an index name may not hold become _; an empty or invalid result goes to default_index."`
	// DefaultIndex takes events whose rendered index is not a valid name.
	DefaultIndex string `yaml:"default_index" doc:"Index for events whose rendered index is empty or invalid."`
	tmpl         *template.Template
}

// Validate parses the template and checks the default index.
func (c *Config) Validate() error {
	t, err := template.Parse(c.Index)
	if err != nil {
		return component.Errorf("index", "%v", err)
	}
	if t.IsStatic() {
		if err := logstore.ValidateIndexName(c.Index); err != nil {
			return component.Errorf("index", "%v", err)
		}
	}
	if err := logstore.ValidateIndexName(c.DefaultIndex); err != nil {
		return component.Errorf("default_index", "%v", err)
	}
	c.tmpl = t
	return nil
}

// Spec registers the store destination.
var Spec = component.DestinationSpec{
	Type: "store",
	Doc: "Writes events into the embedded log store (sluice server and sluice store run one), one index per rendered " +
		"index template; searchable with KQL through the search API, sluice query and the Elasticsearch-compatible API.",
	NewConfig: func() any { return &Config{Index: "logs", DefaultIndex: "logs"} },
	Build: func(cfg any, env component.Env) (component.Sink, error) {
		c, ok := cfg.(*Config)
		if !ok {
			return nil, fmt.Errorf("store: config is %T, want *store.Config", cfg)
		}
		if env.Store == nil {
			return nil, errors.New("the store destination needs a process that runs the store: sluice server or sluice store (a worker forwards to them, or writes to Elasticsearch)")
		}
		if c.tmpl == nil {
			if err := c.Validate(); err != nil {
				return nil, err
			}
		}
		s := &sink{cfg: c, st: env.Store, log: env.Logger}
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		return s, nil
	},
}

type sink struct {
	cfg *Config
	st  component.EventStore
	log *slog.Logger
}

// maxInFlight bounds the batches waiting for the store's group commit: with
// the default batch of 1,000 events and a commit a second, 64 let one
// destination store 64,000 events/s before the commit's own size triggers
// earlier flushes (the store flushes a partition at 16 MiB).
const maxInFlight = 64

// MaxInFlight implements component.AsyncSink.
func (s *sink) MaxInFlight() int { return maxInFlight }

// Write stores b and returns once it is durable.
func (s *sink) Write(ctx context.Context, b *event.Batch) error {
	done := make(chan error, 1)
	if err := s.WriteAsync(ctx, b, func(err error) { done <- err }); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WriteAsync appends b's events to the store, one Append per rendered
// index, and calls done when every group is durable. Events the store
// rejects for good are reported in a *component.PartialError (the runtime
// dead-letters or drops and counts them); any other error of a group fails
// the whole batch, which is written again (groups already stored are
// stored twice: at-least-once, as for every destination).
func (s *sink) WriteAsync(ctx context.Context, b *event.Batch, done func(error)) error {
	if s.cfg.tmpl.IsStatic() {
		return s.append(ctx, []group{{name: s.cfg.Index, evs: b.Events}}, done)
	}
	byName := map[string]int{}
	var groups []group
	for i := range b.Events {
		name := s.indexOf(&b.Events[i])
		g, ok := byName[name]
		if !ok {
			g = len(groups)
			byName[name] = g
			groups = append(groups, group{name: name})
		}
		groups[g].evs = append(groups[g].evs, b.Events[i])
		groups[g].pos = append(groups[g].pos, i)
	}
	return s.append(ctx, groups, done)
}

// group is the events of a batch bound for one index, with their
// positions in the batch (nil: the whole batch, in order).
type group struct {
	name string
	evs  []event.Event
	pos  []int
}

// append appends every group and combines their outcomes into one call
// of done.
func (s *sink) append(ctx context.Context, groups []group, done func(error)) error {
	c := &combined{done: done, pending: len(groups)}
	for i, g := range groups {
		err := s.st.Append(ctx, g.name, g.evs, func(err error) { c.finish(s.outcome(g, err)) })
		if err != nil {
			err = fmt.Errorf("store index %s: %w", g.name, err)
			if i == 0 {
				return err
			}
			// The groups appended before will call finish; this one and
			// those after it fail now.
			c.fail(err, len(groups)-i)
			return nil
		}
	}
	return nil
}

// outcome turns one group's result into positions of rejected events or
// an error for the batch.
func (s *sink) outcome(g group, err error) groupResult {
	var rej *logstore.RejectedError
	if errors.As(err, &rej) {
		r := groupResult{rejected: make([]component.RejectedEvent, 0, len(rej.Rejected))}
		for _, x := range rej.Rejected {
			at := x.Event
			if g.pos != nil {
				at = g.pos[x.Event]
			}
			r.rejected = append(r.rejected, component.RejectedEvent{Index: at, Reason: "index " + g.name + ": " + x.Err.Error()})
		}
		return r
	}
	if err != nil {
		return groupResult{err: fmt.Errorf("store index %s: %w", g.name, err)}
	}
	return groupResult{}
}

type groupResult struct {
	rejected []component.RejectedEvent
	err      error
}

// combined gathers the outcomes of a batch's groups.
type combined struct {
	mu       sync.Mutex
	pending  int
	rejected []component.RejectedEvent
	err      error
	done     func(error)
}

func (c *combined) finish(r groupResult) {
	c.mu.Lock()
	c.rejected = append(c.rejected, r.rejected...)
	if c.err == nil {
		c.err = r.err
	}
	c.pending--
	last := c.pending == 0
	c.mu.Unlock()
	if last {
		c.report()
	}
}

func (c *combined) fail(err error, n int) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.pending -= n
	last := c.pending == 0
	c.mu.Unlock()
	if last {
		c.report()
	}
}

func (c *combined) report() {
	switch {
	case c.err != nil:
		c.done(c.err)
	case len(c.rejected) > 0:
		slices.SortFunc(c.rejected, func(a, b component.RejectedEvent) int { return a.Index - b.Index })
		c.done(&component.PartialError{Rejected: c.rejected})
	default:
		c.done(nil)
	}
}

// indexOf renders the index of ev and makes it a valid name.
func (s *sink) indexOf(ev *event.Event) string {
	name := strings.ToLower(s.cfg.tmpl.Render(ev))
	if logstore.ValidateIndexName(name) == nil {
		return name
	}
	name = strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':':
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(name, "-_+")
	if logstore.ValidateIndexName(name) == nil {
		return name
	}
	return s.cfg.DefaultIndex
}

// Close has nothing to release: the store belongs to the process.
func (s *sink) Close(context.Context) error { return nil }
