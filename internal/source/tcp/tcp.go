// Package tcp is the "tcp" source: newline-delimited raw lines or JSON
// objects over plain TCP or TLS, one event per line.
//
// The socket handling (connection cap, idle timeout, TLS, framing into one
// arena per read, backpressure, stop) lives in internal/netsrc; this package
// turns lines into events.
package tcp

import (
	"context"
	"fmt"
	"net"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/netsrc"
)

// Spec registers the source type "tcp".
var Spec = component.SourceSpec{
	Type: "tcp",
	Doc: "Receives newline-delimited lines over TCP (optionally TLS), as raw text in `message` " +
		"or as JSON objects whose members become fields. Lines longer than max_line_bytes are cut " +
		"and tagged `_truncated`; invalid JSON is kept raw and tagged `_jsonparsefailure`. " +
		"When the pipeline applies backpressure, the source stops reading the socket.",
	NewConfig: func() any { return NewConfig() },
	Build:     build,
}

// Formats of a line.
const (
	FormatRaw  = "raw"
	FormatJSON = "json"
)

// Config is the "tcp" source's configuration.
type Config struct {
	// Address is the host:port to listen on. Required.
	Address string `yaml:"address"`
	// Format is raw (the line is the message) or json (the line is an
	// object whose members become fields).
	Format string `yaml:"format"`
	// MaxConnections caps the open connections; more are refused.
	MaxConnections int `yaml:"max_connections"`
	// MaxLineBytes cuts longer lines.
	MaxLineBytes config.ByteSize `yaml:"max_line_bytes"`
	// ReadTimeout closes a connection idle for this long; 0 never does.
	ReadTimeout config.Duration `yaml:"read_timeout"`
	// TLS makes the listener accept TLS connections.
	TLS config.TLSServer `yaml:"tls"`
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{
		Format:         FormatRaw,
		MaxConnections: 1000,
		MaxLineBytes:   1 << 20,
		ReadTimeout:    config.Duration(5 * time.Minute),
	}
}

// maxLineLimit keeps one connection's buffer within reason.
const maxLineLimit = 64 << 20

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Address == "" {
		return component.Errorf("address", "is required (e.g. \":5170\")")
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return component.Errorf("address", "invalid host:port %q: %v", c.Address, err)
	}
	if c.Format != FormatRaw && c.Format != FormatJSON {
		return component.Errorf("format", "must be %s or %s, not %q", FormatRaw, FormatJSON, c.Format)
	}
	if c.MaxConnections < 1 {
		return component.Errorf("max_connections", "must be at least 1, not %d", c.MaxConnections)
	}
	if c.MaxLineBytes < 1 || c.MaxLineBytes > maxLineLimit {
		return component.Errorf("max_line_bytes", "must be between 1 and 64MiB, not %d", c.MaxLineBytes)
	}
	if c.ReadTimeout < 0 {
		return component.Errorf("read_timeout", "must not be negative")
	}
	if err := c.TLS.Validate(); err != nil {
		return component.Errorf("tls", "%v", err)
	}
	return nil
}

// Addresses implements component.Listener.
func (c *Config) Addresses() []component.Address {
	return []component.Address{{Network: "tcp", Address: c.Address}}
}

type source struct {
	cfg  *Config
	env  component.Env
	m    *metrics.Source
	json bool
	srv  *netsrc.TCPServer
}

func build(cfg any, env component.Env) (component.Source, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("tcp source: config is %T, not *tcp.Config", cfg)
	}
	tlsCfg, err := c.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("tcp source %s: %w", env.Name, err)
	}
	s := &source{cfg: c, env: env, m: env.Metrics.Source(env.Name), json: c.Format == FormatJSON}
	s.srv = netsrc.NewTCPServer(env, s.m, netsrc.TCPConfig{
		Address:        c.Address,
		TLS:            tlsCfg,
		MaxConnections: c.MaxConnections,
		ReadTimeout:    c.ReadTimeout.D(),
	}, s.serve)
	return s, nil
}

// Start implements component.Source.
func (s *source) Start(context.Context) error {
	if err := s.srv.Start(); err != nil {
		return fmt.Errorf("tcp source %s: %w", s.env.Name, err)
	}
	return nil
}

// Stop implements component.Source.
func (s *source) Stop(ctx context.Context) error {
	if err := s.srv.Stop(ctx); err != nil {
		return fmt.Errorf("tcp source %s: %w", s.env.Name, err)
	}
	return nil
}

// serve reads one connection: a batch per read, handed to the consumer
// before the next read.
func (s *source) serve(ctx context.Context, c *netsrc.Conn) error {
	fr := netsrc.NewFramer(c, netsrc.FramerOptions{MaxBytes: int(s.cfg.MaxLineBytes)})
	for {
		ch, err := fr.Next()
		if len(ch.Frames) > 0 || ch.Bytes > 0 {
			if cerr := netsrc.Emit(ctx, s.env.Out, s.m, s.batch(&ch)); cerr != nil && ctx.Err() != nil {
				return cerr
			}
		}
		if err != nil {
			return err
		}
	}
}

func (s *source) batch(ch *netsrc.Chunk) *event.Batch {
	b := event.NewBatch(s.env.Name)
	b.Bytes = ch.Bytes
	if cap(b.Events) < len(ch.Frames) {
		b.Events = make([]event.Event, 0, len(ch.Frames))
	}
	now := time.Now()
	parseErrors := 0
	for _, f := range ch.Frames {
		var ev event.Event
		if s.json {
			ev.Time = now
			// The text lives in an arena that is never written again, so
			// the parser may keep pointers into it.
			if err := jsonparse.ParseObject(&ev, unsafe.Slice(unsafe.StringData(f.Text), len(f.Text))); err != nil {
				ev = event.New(now, f.Text)
				ev.AddTag("_jsonparsefailure")
				parseErrors++
			}
		} else {
			ev = event.New(now, f.Text)
		}
		if f.Truncated {
			ev.AddTag("_truncated")
		}
		b.Events = append(b.Events, ev)
	}
	if ch.Oversized > 0 {
		s.m.Error("oversized", ch.Oversized)
	}
	if parseErrors > 0 {
		s.m.Error("parse", parseErrors)
	}
	return b
}
