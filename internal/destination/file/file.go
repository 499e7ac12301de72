// Package file implements the file destination: it appends events as NDJSON
// or plain text lines to files named by a %{field} template, optionally
// gzip-compressed, with logrotate-style rotation by size and by time.
//
// A Write groups the batch's events by rendered path, encodes each group
// into one buffer and issues one write call per file, so the cost per event
// is the encoding alone. "Delivered" means handed to the operating system:
// files are fsynced when they are rotated and when the destination closes,
// not after every batch (files closed earlier, as idle or least recently
// used, are left to the OS to flush). A gzip file is written as one gzip member per batch
// and file, so it is a valid gzip stream after every write (gzip -d and
// zcat read multi-member files as one).
//
// Open files are capped (max_open_files, least recently used closed first)
// and closed after idle_timeout by a janitor goroutine that Close stops.
//
// A retried batch is written again in full, so a failure part way through a
// batch that spans several files can duplicate lines in the files written
// before the failure (at-least-once delivery).
package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/template"
)

// Spec registers the file destination.
var Spec = component.DestinationSpec{
	Type: "file",
	Doc: "Appends events to local files named by a %{field} template, as NDJSON (json, internal " +
		"fields left out) or message-only lines (text), optionally gzip-compressed (one gzip member per " +
		"batch, so files are always valid gzip). Rotates logrotate-style (app.ndjson.1, .2, ...) by size " +
		"and at UTC-aligned intervals, keeps at most max_open_files open and closes idle ones. Rendered " +
		"paths that leave the template's static directory (.. in event data), are empty or name a directory " +
		"are rejected as permanent errors.",
	NewConfig: NewConfig,
	Build:     build,
}

func build(cfg any, env component.Env) (component.Sink, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("file: config is %T, want *file.Config", cfg)
	}
	return newSink(c, env)
}

// maxKeptBuffer is the largest buffer kept between batches; a larger one
// (from an unusually big batch) is left to the garbage collector.
const maxKeptBuffer = 4 << 20

// sink is the file destination. Write runs on the runtime's one driver
// goroutine; mu guards the open files against the janitor.
type sink struct {
	tmpl     *template.Template // nil when the path is static
	static   string             // the resolved path when it is static
	resolver pathResolver
	text     bool
	gzip     bool
	maxBytes int64
	interval time.Duration
	keep     int
	maxOpen  int
	mkdir    bool
	metrics  *metrics.Destination
	logger   *slog.Logger
	// now is time.Now, replaceable in tests.
	now func() time.Time

	mu     sync.Mutex
	closed bool
	files  map[string]*writer
	seq    uint64

	// Per-batch state, reused across batches (guarded by mu too).
	groups   []group
	groupOf  map[string]int // rendered path -> index in groups, or -1 when invalid
	groupAt  map[string]int // resolved path -> index in groups
	pathBuf  []byte
	lastPath []byte
	gz       *gzip.Writer
	zbuf     appendWriter

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// group collects the encoded lines of one batch bound for one file.
type group struct {
	path string
	buf  []byte
}

func newSink(c *Config, env component.Env) (*sink, error) {
	tmpl, err := template.Parse(c.Path)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	s := &sink{
		resolver: newPathResolver(c.Path, env.DataDir),
		text:     c.Format == "text",
		gzip:     c.Compression == "gzip",
		maxBytes: int64(c.Rotate.MaxBytes),
		interval: c.Rotate.Interval.D(),
		keep:     c.Rotate.Keep,
		maxOpen:  c.MaxOpenFiles,
		mkdir:    c.Mkdir,
		logger:   env.Logger,
		now:      time.Now,
		files:    make(map[string]*writer),
		groupOf:  make(map[string]int),
		groupAt:  make(map[string]int),
		stop:     make(chan struct{}),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if env.Metrics != nil {
		s.metrics = env.Metrics.Destination(env.Name)
	}
	if tmpl.IsStatic() {
		// Render once: a static template ignores the event.
		if s.static, err = s.resolver.resolve(tmpl.Render(&event.Event{})); err != nil {
			return nil, fmt.Errorf("file: path: %w", err)
		}
	} else {
		s.tmpl = tmpl
	}
	if s.gzip {
		if s.gz, err = gzip.NewWriterLevel(&s.zbuf, c.CompressionLevel); err != nil {
			return nil, fmt.Errorf("file: %w", err)
		}
	}
	if idle := c.IdleTimeout.D(); idle > 0 {
		s.wg.Add(1)
		go s.janitor(idle)
	}
	return s, nil
}

// Write appends every event of b to its file. Events whose rendered path is
// invalid are skipped and reported as one permanent error after the others
// are written.
func (s *sink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("file: write after close")
	}
	now := s.now()

	bad, badErr := s.groupEvents(b)

	var written int64
	var retryErr, permErr error
	failed := 0
	for i := range s.groups {
		g := &s.groups[i]
		if len(g.buf) == 0 {
			continue
		}
		n, err := s.writeFile(g.path, g.buf, now)
		written += n
		if err != nil {
			failed++
			var pe *permanentError
			switch {
			case errors.As(err, &pe):
				if permErr == nil {
					permErr = err
				}
			case retryErr == nil:
				retryErr = err
			}
		}
	}
	s.trimBuffers()
	if s.metrics != nil && written > 0 {
		s.metrics.BytesOut.Add(float64(written))
	}

	switch {
	case retryErr != nil:
		// Retryable wins: the retry may succeed for these files, and any
		// permanent problem shows up again then.
		if failed > 1 {
			return fmt.Errorf("file: %w (and %d more files failed)", retryErr, failed-1)
		}
		return fmt.Errorf("file: %w", retryErr)
	case permErr != nil:
		return component.Permanent(fmt.Errorf("file: %w", permErr))
	case bad > 0:
		return component.Permanent(fmt.Errorf("file: rejected %d of %d events: %w", bad, len(b.Events), badErr))
	}
	return nil
}

// groupEvents renders each event's path and encodes it into its group's
// buffer. It returns the number of events with an invalid path and the
// first such error.
func (s *sink) groupEvents(b *event.Batch) (bad int, badErr error) {
	for i := range s.groups {
		s.groups[i].buf = s.groups[i].buf[:0]
	}
	s.groups = s.groups[:0]
	clear(s.groupOf)
	clear(s.groupAt)

	g := -1
	if s.tmpl == nil {
		g = s.addGroup(s.static)
	}
	havePath := false
	for i := range b.Events {
		ev := &b.Events[i]
		if s.tmpl != nil {
			// Consecutive events usually render the same path: compare
			// bytes and skip the map lookup.
			s.pathBuf = s.tmpl.Append(s.pathBuf[:0], ev)
			if !havePath || !bytes.Equal(s.pathBuf, s.lastPath) {
				s.lastPath = append(s.lastPath[:0], s.pathBuf...)
				havePath = true
				var err error
				if g, err = s.lookupGroup(s.pathBuf); err != nil && badErr == nil {
					badErr = err
				}
			}
		}
		if g < 0 {
			bad++
			continue
		}
		s.groups[g].buf = s.encode(s.groups[g].buf, ev)
	}
	return bad, badErr
}

// lookupGroup returns the group of the rendered path p, creating it, or -1
// and the reason when p is invalid (reported once per batch and path).
func (s *sink) lookupGroup(p []byte) (int, error) {
	if g, ok := s.groupOf[string(p)]; ok {
		return g, nil
	}
	rendered := string(p)
	full, err := s.resolver.resolve(rendered)
	if err != nil {
		s.groupOf[rendered] = -1
		return -1, err
	}
	// Different renderings ("a//b", "a/./b") can resolve to one file.
	g, ok := s.groupAt[full]
	if !ok {
		g = s.addGroup(full)
	}
	s.groupOf[rendered] = g
	return g, nil
}

func (s *sink) addGroup(path string) int {
	s.groupAt[path] = len(s.groups)
	n := len(s.groups)
	if n < cap(s.groups) {
		s.groups = s.groups[:n+1]
		s.groups[n].path = path
	} else {
		s.groups = append(s.groups, group{path: path})
	}
	return n
}

func (s *sink) encode(dst []byte, ev *event.Event) []byte {
	if s.text {
		if v, ok := ev.Lookup(event.MessageField); ok {
			dst = v.AppendText(dst)
		}
	} else {
		dst = event.AppendJSON(dst, ev, false)
	}
	return append(dst, '\n')
}

// trimBuffers lets go of buffers an unusually large batch grew.
func (s *sink) trimBuffers() {
	for i := range s.groups {
		if cap(s.groups[i].buf) > maxKeptBuffer {
			s.groups[i].buf = nil
		}
	}
	if cap(s.groups) > 1024 {
		s.groups = nil
	}
	if cap(s.zbuf.b) > maxKeptBuffer {
		s.zbuf.b = nil
	}
}

// writeFile appends data (whole lines) to path, rotating as configured, and
// returns the bytes written to disk.
func (s *sink) writeFile(path string, data []byte, now time.Time) (int64, error) {
	w, err := s.writerFor(path)
	if err != nil {
		return 0, err
	}
	s.seq++
	w.seq, w.lastUse = s.seq, now
	if s.gzip {
		data = s.compress(data)
	}
	if s.interval > 0 && w.size > 0 && w.lastWrite.Before(now.Truncate(s.interval)) {
		if err := s.rotate(w, now); err != nil {
			return 0, err
		}
	}
	var written int64
	for len(data) > 0 {
		n := len(data)
		if s.maxBytes > 0 && w.size+int64(n) > s.maxBytes {
			if s.gzip {
				// A gzip member is not split: it goes whole into a fresh
				// file.
				if w.size > 0 {
					if err := s.rotate(w, now); err != nil {
						return written, err
					}
					continue
				}
			} else if n = cutLines(data, s.maxBytes-w.size); n == 0 {
				if w.size > 0 {
					if err := s.rotate(w, now); err != nil {
						return written, err
					}
					continue
				}
				// One line longer than max_bytes gets a file of its own.
				if n = bytes.IndexByte(data, '\n') + 1; n == 0 {
					n = len(data)
				}
			}
		}
		m, err := w.write(data[:n], now)
		written += int64(m)
		if err != nil {
			s.drop(w)
			return written, err
		}
		data = data[n:]
	}
	return written, nil
}

func (s *sink) rotate(w *writer, now time.Time) error {
	if err := w.rotate(s.keep, s.mkdir, now); err != nil {
		s.drop(w)
		return err
	}
	return nil
}

// writerFor returns the open writer of path, opening it and closing the
// least recently used writer when max_open_files are open.
func (s *sink) writerFor(path string) (*writer, error) {
	if w := s.files[path]; w != nil {
		return w, nil
	}
	if len(s.files) >= s.maxOpen {
		var lru *writer
		for _, w := range s.files {
			if lru == nil || w.seq < lru.seq {
				lru = w
			}
		}
		s.drop(lru)
	}
	w, err := openWriter(path, s.mkdir)
	if err != nil {
		return nil, err
	}
	s.files[path] = w
	return w, nil
}

// drop closes w (its data is already with the OS) and forgets it.
func (s *sink) drop(w *writer) {
	delete(s.files, w.path)
	if err := w.close(false); err != nil {
		s.logger.Warn("cannot close output file", "path", w.path, "error", err)
	}
}

// compress returns p as one complete gzip member. The result is valid until
// the next call.
func (s *sink) compress(p []byte) []byte {
	s.zbuf.b = s.zbuf.b[:0]
	s.gz.Reset(&s.zbuf)
	// Writes to an appendWriter cannot fail.
	_, _ = s.gz.Write(p)
	_ = s.gz.Close()
	return s.zbuf.b
}

// janitor closes files that were idle for idle, until Close.
func (s *sink) janitor(idle time.Duration) {
	defer s.wg.Done()
	tick := min(max(idle/4, 10*time.Millisecond), 5*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.closeIdle(idle)
		}
	}
}

func (s *sink) closeIdle(idle time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, w := range s.files {
		if now.Sub(w.lastUse) >= idle {
			s.drop(w)
		}
	}
}

// Close stops the janitor, then syncs and closes every open file. It is safe
// to call twice.
func (s *sink) Close(context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for path, w := range s.files {
		if err := w.close(true); err != nil {
			errs = append(errs, err)
		}
		delete(s.files, path)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	return nil
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
