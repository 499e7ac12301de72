// Package component defines the contracts between Sluice's runtime and its
// plugins: sources that produce batches, pipeline functions that transform
// events, destinations that deliver them, and the Registry that maps a
// config `type:` to the plugin that implements it.
//
// Lifecycle (after the OpenTelemetry Collector): Start returns quickly and
// does the long-running work in goroutines the component owns; Stop is safe to
// call twice, stops accepting new input, finishes what is in flight and
// returns when every goroutine it started has exited. The runtime starts
// downstream first (destinations, then routes, then sources) and stops
// upstream first.
package component

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Consumer accepts batches from a source.
//
// Consume is called concurrently by many goroutines (one per connection, say).
// It takes ownership of b: the caller must not touch b afterwards. It returns
// when every event of b is in the queue of each destination it routes to, or
// has been dropped. Under backpressure it blocks until there is room or ctx is
// done; it then returns ctx's error, and the events not yet queued are
// acknowledged as Errored (the sender should retry).
//
// Consume returning does not mean the events are delivered: the acknowledgement
// arrives through the Ackers attached to b.
type Consumer interface {
	Consume(ctx context.Context, b *event.Batch) error
}

// Source produces batches and hands them to the Consumer it was built with.
type Source interface {
	// Start begins accepting input. Listening sockets are open when it
	// returns, so a bad address fails here.
	Start(ctx context.Context) error
	// Stop stops accepting input, waits for in-flight batches to be consumed
	// (or ctx to be done) and releases the source's resources.
	Stop(ctx context.Context) error
}

// Sink writes batches to a destination's target. The runtime calls Write from
// one goroutine per destination (Concurrency in the destination options may
// raise that), after popping from the destination's queue, and retries
// retryable errors with backoff. Write must not keep b or its events after it
// returns.
type Sink interface {
	// Write delivers every event of b. A nil error means all were delivered.
	// Wrap the error with Permanent when retrying cannot help.
	Write(ctx context.Context, b *event.Batch) error
	// Close flushes and releases resources. It is called once, after the last
	// Write.
	Close(ctx context.Context) error
}

// AsyncSink is a Sink that can deliver several batches at once without a
// goroutine each: the store acknowledges a batch when the group commit
// that holds it is on disk, so waiting for each in turn would cap a
// destination at one batch per commit. The runtime keeps up to
// MaxInFlight batches submitted through WriteAsync and falls back to
// Write to retry a batch that failed.
type AsyncSink interface {
	Sink
	// WriteAsync starts delivering b and calls done exactly once, with
	// what Write would have returned, when the outcome is known. It may
	// block for backpressure. When it returns an error it has not
	// called and will not call done. It must not keep b's events after
	// it returns (b itself stays alive until done). done may run on
	// another goroutine and must not call the sink.
	WriteAsync(ctx context.Context, b *event.Batch, done func(error)) error
	// MaxInFlight bounds the batches submitted and not yet done.
	MaxInFlight() int
}

// Function transforms one event in a pipeline. Functions are shared by every
// goroutine that runs the pipeline, so Apply must be safe for concurrent use.
type Function interface {
	// Apply transforms ev in place. It returns false to drop ev on purpose.
	// A function that makes more events from one (split) calls emit for each
	// extra event; those continue with the rest of the pipeline.
	Apply(ev *event.Event, emit func(event.Event)) bool
}

// Closer is implemented by functions that hold resources (files, timers).
type Closer interface {
	Close() error
}

// Flusher is implemented by functions that emit events of their own on a
// timer (aggregate, metrics). The runtime calls Flush every FlushInterval
// from one goroutine, and once more with final set when the pipeline is
// retired (reload or shutdown). Emitted events enter the routes from the
// top, as a batch whose source is "pipeline:NAME", so routes can send them
// elsewhere (by tag, say); they carry no acknowledgement.
type Flusher interface {
	FlushInterval() time.Duration
	Flush(now time.Time, final bool, emit func(event.Event))
}

// Counter counts things; prometheus.Counter implements it.
type Counter interface{ Inc() }

type nopCounter struct{}

func (nopCounter) Inc() {}

// NopCounter is a Counter that counts nothing.
var NopCounter Counter = nopCounter{}

// Env is what the runtime gives a component when building it.
type Env struct {
	// Name is the component's name in the config (for functions, the
	// pipeline name and index, like "webapp[2]").
	Name    string
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// DataDir is the process's data directory.
	DataDir string
	// Out is where a source sends its batches.
	Out Consumer
	// Net opens listening sockets. The runtime's implementation keeps them
	// open across reloads so that clients see no closed port.
	Net Listeners
	// Store is the process's embedded log store, for the store
	// destination; nil when the process runs none (sluice worker).
	Store EventStore
	// Failures counts the events a function could not process (a parse
	// failure, say); nil means do not count. Functions use
	// fnutil.NewFailure rather than reading it directly.
	Failures Counter
}

// EventStore is the embedded log store as destinations see it.
type EventStore interface {
	// Write stores evs in index and returns once they are durably on
	// disk. Events the store refuses (too large, too many fields) are
	// reported in the error while the others are stored.
	Write(ctx context.Context, index string, evs []event.Event) error
	// Append is Write without the wait: done is called once with what
	// Write would have returned, when the events are durable. When
	// Append returns an error, done is not called. done must be quick
	// and must not call the store.
	Append(ctx context.Context, index string, evs []event.Event, done func(error)) error
}

// Listeners opens sockets for sources.
type Listeners interface {
	Listen(network, address string) (net.Listener, error)
	ListenPacket(network, address string) (net.PacketConn, error)
}

// PlainListeners opens sockets directly, for tests and tools.
type PlainListeners struct{}

// Listen calls net.Listen.
func (PlainListeners) Listen(network, address string) (net.Listener, error) {
	return net.Listen(network, address)
}

// ListenPacket calls net.ListenPacket.
func (PlainListeners) ListenPacket(network, address string) (net.PacketConn, error) {
	return net.ListenPacket(network, address)
}

// Address is a socket a source listens on, used to find port clashes in a
// config before anything starts.
type Address struct {
	Network string // "tcp" or "udp"
	Address string
}

// Listener is implemented by source configs that open sockets.
type Listener interface {
	Addresses() []Address
}

// Validator is implemented by every plugin config. Validate is called after
// defaults are applied and the YAML is decoded.
type Validator interface {
	Validate() error
}

// FieldError is a validation error about one config key; the config loader
// uses Field to point at that key's line.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Errorf returns a FieldError for field.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// PermanentError marks a delivery failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as permanent. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err is marked permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// PartialError is returned by a Sink when some events of a batch were
// refused for good (a per-item 400 from Elasticsearch, a field limit in the
// store) and every other event was delivered. The runtime acknowledges the
// delivered events, and sends the refused ones, each with its own reason,
// to the destination's dead letter destination, or counts them as dropped
// with reason "rejected" when there is none. Never wrap a PartialError:
// Write returns it as is.
type PartialError struct {
	// Rejected lists the refused events by their index in the batch, in
	// ascending order, without duplicates.
	Rejected []RejectedEvent
}

// RejectedEvent is one event a destination refused for good.
type RejectedEvent struct {
	Index  int
	Reason string
}

func (e *PartialError) Error() string {
	if len(e.Rejected) == 0 {
		return "no events rejected"
	}
	return fmt.Sprintf("%d events rejected; first: %s", len(e.Rejected), e.Rejected[0].Reason)
}
