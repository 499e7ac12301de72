// Package store is the store destination: it writes events into the
// process's embedded log store (sluice server, sluice store), one index per
// rendered `index` template. A batch is acknowledged once the store has it
// durably on disk; the destination's queue in front is the write-ahead log.
//
// When the store refuses writes because its disk is above the high
// watermark, Write returns a retryable error: the queue holds the events
// and backpressure reaches the sources, and delivery resumes by itself when
// the store accepts again. Events the store rejects for good (too large,
// too many fields) are logged and counted as dropped with reason
// "rejected_by_store"; the rest of the batch is stored.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

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
		if env.Metrics != nil {
			s.rejected = env.Metrics.DropCounter("destination", env.Name, "rejected_by_store")
		}
		return s, nil
	},
}

type sink struct {
	cfg      *Config
	st       component.EventStore
	log      *slog.Logger
	rejected prometheus.Counter
}

// Write groups the batch by index and writes each group.
func (s *sink) Write(ctx context.Context, b *event.Batch) error {
	if s.cfg.tmpl.IsStatic() {
		return s.write(ctx, s.cfg.Index, b.Events)
	}
	groups := map[string][]event.Event{}
	var order []string
	for i := range b.Events {
		name := s.indexOf(&b.Events[i])
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], b.Events[i])
	}
	for _, name := range order {
		if err := s.write(ctx, name, groups[name]); err != nil {
			// Groups written before are stored; the retry writes them
			// again (at-least-once, as documented for every destination).
			return err
		}
	}
	return nil
}

func (s *sink) write(ctx context.Context, index string, evs []event.Event) error {
	err := s.st.Write(ctx, index, evs)
	var rej *logstore.RejectedError
	if errors.As(err, &rej) {
		for _, r := range rej.Rejected {
			s.log.Warn("store rejected an event", "index", index, "reason", r.Err.Error())
		}
		if s.rejected != nil {
			s.rejected.Add(float64(len(rej.Rejected)))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("store index %s: %w", index, err)
	}
	return nil
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
