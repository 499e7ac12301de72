// Package config loads Sluice's YAML configuration: sources, routes,
// pipelines and destinations, as in DESIGN.md.
//
// Loading goes in steps, each reporting every problem it finds with the file
// and line it concerns: parse the YAML into nodes (keeping line numbers);
// interpolate ${ENV} and ${file:PATH} references in scalar values; decode each
// section, checking for unknown keys against the plugin's config struct;
// apply defaults and validate each plugin config; then check the references
// between sections (routes to pipelines and destinations), the expressions,
// and listening ports for clashes. A config with any error is rejected whole,
// so a bad config never replaces a running good one.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/expr"
)

// Config is a loaded and validated configuration.
type Config struct {
	// File is where the config came from (for messages).
	File         string
	Sources      []*Source
	Routes       []*Route
	Pipelines    map[string]*Pipeline
	Destinations []*Destination
	Shutdown     Shutdown
	// Store configures the embedded log store, in processes that run one.
	Store Store
	// Warnings are legal but suspicious settings, for the operator's log.
	Warnings []string
}

// Source is one configured source.
type Source struct {
	Name string
	Type string
	// Config is the plugin's config struct (a pointer), validated.
	Config any
	// Hash identifies the source's settings: an unchanged hash across a
	// reload means the running source is kept as it is.
	Hash string
	Line int
}

// Route is one entry of the routing table.
type Route struct {
	Name        string
	Filter      string
	Pipeline    string
	Destination string
	Final       bool
	Line        int
	// Program is the compiled filter, nil when the route matches everything.
	Program *expr.Program
}

// Pipeline is an ordered list of functions.
type Pipeline struct {
	Name      string
	Functions []*Function
	Line      int
}

// Function is one step of a pipeline.
type Function struct {
	Type string
	// If is the function's condition; events that do not match pass by.
	If string
	// Description is the user's note about the step.
	Description string
	Program     *expr.Program
	Config      any
	Line        int
}

// Destination is one configured destination with its queue.
type Destination struct {
	Name   string
	Type   string
	Config any
	Queue  Queue
	Batch  Batch
	Retry  Retry
	// DeadLetter names the destination that receives the events this one
	// rejects permanently, with the reason in dead_letter.* fields.
	DeadLetter DeadLetter
	Hash       string
	Line       int
}

// Queue configures a destination's queue.
type Queue struct {
	// Type is "memory" (default) or "disk".
	Type string `yaml:"type"`
	// MaxEvents and MaxBytes bound the queue; 0 means the type's default
	// (memory: 100000 events, 64MiB; disk: no event bound, 1GiB).
	MaxEvents int      `yaml:"max_events"`
	MaxBytes  ByteSize `yaml:"max_bytes"`
	// WhenFull is "block" (default: backpressure) or "drop_newest".
	WhenFull string `yaml:"when_full"`
	// Fsync sets when a disk queue flushes to stable storage; a batch is
	// acknowledged to its source after the fsync that covers it.
	Fsync Fsync `yaml:"fsync"`
	// Compression of disk queue records: "none" (default) or "zstd".
	Compression string `yaml:"compression"`
	// SegmentBytes is the size of a disk queue's segment files (default 64MiB).
	SegmentBytes ByteSize `yaml:"segment_bytes"`
}

// Fsync is a disk queue's flush policy.
type Fsync struct {
	// Interval between fsyncs (default 500ms).
	Interval Duration `yaml:"interval"`
	// Every, when positive, also fsyncs once that many records wait.
	Every int `yaml:"every"`
}

// Batch sets how many queued events a destination writes at once.
type Batch struct {
	MaxEvents int      `yaml:"max_events"`
	MaxBytes  ByteSize `yaml:"max_bytes"`
	// Timeout is how long to wait for a batch to fill; 0 writes what is there.
	Timeout Duration `yaml:"timeout"`
}

// DeadLetter configures where permanently rejected events go.
type DeadLetter struct {
	Destination string `yaml:"destination"`
}

// Retry sets the backoff between delivery attempts.
type Retry struct {
	InitialBackoff Duration `yaml:"initial_backoff"`
	MaxBackoff     Duration `yaml:"max_backoff"`
}

// Shutdown sets what happens on SIGTERM.
type Shutdown struct {
	// DrainTimeout bounds how long queued events are delivered after the
	// sources stop.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// DrainDiskQueues delivers what disk queues hold before exiting (for a
	// pod that is scaled down for good); by default they stay on disk and
	// the next start resumes them. Memory queues are always drained.
	DrainDiskQueues bool `yaml:"drain_disk_queues"`
}

func defaultQueue() Queue { return Queue{Type: "memory", WhenFull: "block"} }

func defaultBatch() Batch { return Batch{MaxEvents: 1000, MaxBytes: 8 << 20} }

func defaultRetry() Retry {
	return Retry{InitialBackoff: Duration(100e6), MaxBackoff: Duration(30e9)}
}

// validate checks q and fills in the type's defaults.
func (q *Queue) validate() error {
	switch q.Type {
	case "memory":
		if q.MaxEvents == 0 {
			q.MaxEvents = 100_000
		}
		if q.MaxBytes == 0 {
			q.MaxBytes = 64 << 20
		}
		if q.Compression != "" || q.SegmentBytes != 0 || q.Fsync != (Fsync{}) {
			return component.Errorf("type", "compression, segment_bytes and fsync apply to disk queues only")
		}
	case "disk":
		if q.MaxBytes == 0 {
			q.MaxBytes = 1 << 30
		}
		if q.Fsync.Interval == 0 {
			q.Fsync.Interval = Duration(500e6)
		}
		if q.SegmentBytes == 0 {
			q.SegmentBytes = 64 << 20
		}
		if q.Compression == "" {
			q.Compression = "none"
		}
		switch q.Compression {
		case "none", "zstd":
		default:
			return component.Errorf("compression", "must be none or zstd, not %q", q.Compression)
		}
		if q.SegmentBytes < 1<<20 {
			return component.Errorf("segment_bytes", "must be at least 1MiB")
		}
	default:
		return component.Errorf("type", "must be memory or disk, not %q", q.Type)
	}
	if q.MaxEvents < 0 {
		return component.Errorf("max_events", "must not be negative")
	}
	if q.MaxBytes < 0 {
		return component.Errorf("max_bytes", "must not be negative")
	}
	if q.Fsync.Interval < 0 || q.Fsync.Every < 0 {
		return component.Errorf("fsync", "interval and every must not be negative")
	}
	switch q.WhenFull {
	case "block", "drop_newest":
	default:
		return component.Errorf("when_full", "must be block or drop_newest, not %q", q.WhenFull)
	}
	return nil
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Pipeline returns the named pipeline, or nil.
func (c *Config) Pipeline(name string) *Pipeline { return c.Pipelines[name] }

// Destination returns the named destination, or nil.
func (c *Config) Destination(name string) *Destination {
	for _, d := range c.Destinations {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Error is one problem in a config file.
type Error struct {
	File string
	Line int
	// Path is where in the document, like "sources.syslog.address".
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a config, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
