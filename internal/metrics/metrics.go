// Package metrics defines Sluice's Prometheus metrics: one registry per
// process, with per-component children that components resolve once at build
// time so that hot paths only add to a counter per batch.
//
// Names follow DESIGN.md: prefix sluice_, and per source, route, pipeline
// function and destination the events and bytes in and out, drops with a
// reason, errors, queue depth and the age of the oldest queued event.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the process-wide set of metrics. It outlives topology reloads,
// so counters keep counting across a config change.
type Metrics struct {
	reg *prometheus.Registry

	sourceEvents *prometheus.CounterVec
	sourceBytes  *prometheus.CounterVec
	sourceErrors *prometheus.CounterVec
	sourceConns  *prometheus.GaugeVec
	dropped      *prometheus.CounterVec
	routeEvents  *prometheus.CounterVec
	fnIn         *prometheus.CounterVec
	fnOut        *prometheus.CounterVec
	fnFailures   *prometheus.CounterVec
	destEvents   *prometheus.CounterVec
	destBytes    *prometheus.CounterVec
	destErrors   *prometheus.CounterVec
	destRetries  *prometheus.CounterVec
	deadLetter   *prometheus.CounterVec
	queueEvents  *prometheus.GaugeVec
	queueBytes   *prometheus.GaugeVec
	queueAge     *prometheus.GaugeVec
	queueIssues  *prometheus.GaugeVec
	fsyncSeconds *prometheus.HistogramVec
	reloads      *prometheus.CounterVec
}

// New returns a registry with Go runtime and process collectors and every
// Sluice metric family registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_" + name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	gv := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_" + name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	m.sourceEvents = cv("source_events_in_total", "Events received by a source.", "source")
	m.sourceBytes = cv("source_bytes_in_total", "Bytes received by a source.", "source")
	m.sourceErrors = cv("source_errors_total", "Errors in a source (parse failures, oversized input, refused connections), by reason.", "source", "reason")
	m.sourceConns = gv("source_connections", "Open connections of a source.", "source")
	m.dropped = cv("events_dropped_total", "Events dropped on purpose, by component and reason.", "component_kind", "component", "reason")
	m.routeEvents = cv("route_events_total", "Events matched by a route.", "route")
	m.fnIn = cv("function_events_in_total", "Events into a pipeline function.", "pipeline", "function")
	m.fnOut = cv("function_events_out_total", "Events out of a pipeline function.", "pipeline", "function")
	m.fnFailures = cv("function_failures_total", "Events a pipeline function could not process (parse failures); they continue with a failure tag.", "pipeline", "function")
	m.destEvents = cv("destination_events_out_total", "Events delivered by a destination.", "destination")
	m.destBytes = cv("destination_bytes_out_total", "Bytes written by a destination.", "destination")
	m.destErrors = cv("destination_errors_total", "Failed deliveries, by kind (retryable, permanent).", "destination", "kind")
	m.destRetries = cv("destination_retries_total", "Delivery retries.", "destination")
	m.deadLetter = cv("destination_dead_letter_events_total", "Events a destination rejected permanently and sent to its dead-letter destination.", "destination")
	m.queueEvents = gv("queue_events", "Events waiting in a destination's queue.", "destination")
	m.queueBytes = gv("queue_bytes", "Bytes waiting in a destination's queue.", "destination")
	m.queueAge = gv("queue_oldest_event_age_seconds", "Age of the oldest event in a destination's queue.", "destination")
	m.queueIssues = gv("queue_disk_problems", "Problems a disk queue met since it was opened, by kind (checkpoint_resets, torn_bytes, corrupt_records, lost_bytes, missing_segments, write_errors, sync_errors, checkpoint_errors).", "destination", "kind")
	m.fsyncSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sluice_queue_fsync_seconds",
		Help:    "Time a disk queue's fsyncs take.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
	}, []string{"destination"})
	m.reg.MustRegister(m.fsyncSeconds)
	m.reloads = cv("config_reloads_total", "Config reloads, by result (success, failure).", "result")
	return m
}

// Registry returns the underlying Prometheus registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Reload counts a config reload with result "success" or "failure".
func (m *Metrics) Reload(result string) { m.reloads.WithLabelValues(result).Inc() }

// Source holds one source's metrics.
type Source struct {
	EventsIn    prometheus.Counter
	BytesIn     prometheus.Counter
	Connections prometheus.Gauge
	errors      *prometheus.CounterVec
	name        string
}

// Source returns the metrics of the named source.
func (m *Metrics) Source(name string) *Source {
	return &Source{
		EventsIn:    m.sourceEvents.WithLabelValues(name),
		BytesIn:     m.sourceBytes.WithLabelValues(name),
		Connections: m.sourceConns.WithLabelValues(name),
		errors:      m.sourceErrors,
		name:        name,
	}
}

// Error counts n errors of the given reason (e.g. "parse", "oversized",
// "too_many_connections").
func (s *Source) Error(reason string, n int) {
	s.errors.WithLabelValues(s.name, reason).Add(float64(n))
}

// Dropped counts n events dropped on purpose by a component.
func (m *Metrics) Dropped(kind, name, reason string, n int) {
	if n > 0 {
		m.dropped.WithLabelValues(kind, name, reason).Add(float64(n))
	}
}

// DropCounter returns the counter for one component's drops of one reason.
func (m *Metrics) DropCounter(kind, name, reason string) prometheus.Counter {
	return m.dropped.WithLabelValues(kind, name, reason)
}

// Route returns the counter of events matched by a route.
func (m *Metrics) Route(name string) prometheus.Counter { return m.routeEvents.WithLabelValues(name) }

// Function returns the in and out counters of one pipeline function.
func (m *Metrics) Function(pipeline, function string) (in, out prometheus.Counter) {
	return m.fnIn.WithLabelValues(pipeline, function), m.fnOut.WithLabelValues(pipeline, function)
}

// FunctionFailures returns the failure counter of one pipeline function.
func (m *Metrics) FunctionFailures(pipeline, function string) prometheus.Counter {
	return m.fnFailures.WithLabelValues(pipeline, function)
}

// Destination holds one destination's metrics, its queue's included.
type Destination struct {
	EventsOut  prometheus.Counter
	BytesOut   prometheus.Counter
	Retryable  prometheus.Counter
	Permanent  prometheus.Counter
	Retries    prometheus.Counter
	DeadLetter prometheus.Counter
	// FsyncSeconds observes each disk queue fsync.
	FsyncSeconds prometheus.Observer
	QueueEvents  prometheus.Gauge
	QueueBytes   prometheus.Gauge
	QueueAge     prometheus.Gauge
	m            *Metrics
	name         string
}

// Destination returns the metrics of the named destination.
func (m *Metrics) Destination(name string) *Destination {
	return &Destination{
		EventsOut:    m.destEvents.WithLabelValues(name),
		BytesOut:     m.destBytes.WithLabelValues(name),
		Retryable:    m.destErrors.WithLabelValues(name, "retryable"),
		Permanent:    m.destErrors.WithLabelValues(name, "permanent"),
		Retries:      m.destRetries.WithLabelValues(name),
		DeadLetter:   m.deadLetter.WithLabelValues(name),
		FsyncSeconds: m.fsyncSeconds.WithLabelValues(name),
		QueueEvents:  m.queueEvents.WithLabelValues(name),
		QueueBytes:   m.queueBytes.WithLabelValues(name),
		QueueAge:     m.queueAge.WithLabelValues(name),
		m:            m,
		name:         name,
	}
}

// QueueProblem sets a disk queue problem gauge (see sluice_queue_disk_problems).
func (d *Destination) QueueProblem(kind string, v float64) {
	d.m.queueIssues.WithLabelValues(d.name, kind).Set(v)
}

// Dropped counts n events this destination dropped for reason.
func (d *Destination) Dropped(reason string, n int) { d.m.Dropped("destination", d.name, reason, n) }
