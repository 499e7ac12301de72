// Package syslog is the "syslog" source: RFC 5424 and RFC 3164 messages over
// TCP (optionally TLS) and UDP, parsed into ECS fields (log.syslog.*,
// log.level, host.hostname, log.source.address).
//
// On TCP the framing is detected per connection: RFC 6587 octet counting
// when the first byte is a digit, newline-delimited otherwise. The format is
// detected per message: "<PRI>1 " is RFC 5424, anything else RFC 3164 (BSD),
// including the Cisco IOS and ASA variants. Malformed messages are kept raw
// in message and tagged _syslogparsefailure.
//
// Parsing and building events is package syslogparse, shared with the
// syslog function.
package syslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/netsrc"
	"github.com/sluicehq/sluice/internal/syslogparse"
)

// Spec registers the source type "syslog".
var Spec = component.SourceSpec{
	Type: "syslog",
	Doc: "Receives syslog over TCP (optionally TLS) and UDP. Parses RFC 5424 (with structured data) " +
		"and RFC 3164, including Cisco variants, into ECS fields: log.syslog.priority, facility and " +
		"severity codes and names, log.level, hostname (also host.hostname), appname, procid, msgid, " +
		"version, log.syslog.structured_data.<id>.<param> and log.source.address; @timestamp comes " +
		"from the message. TCP framing (octet counting or newlines) is detected per connection. " +
		"Malformed messages are kept raw and tagged `_syslogparsefailure`; oversized ones are cut and " +
		"tagged `_truncated`. RFC 3164 timestamps have no year or zone: the current year is used and " +
		"`timezone` (default UTC) applies.",
	NewConfig: func() any { return NewConfig() },
	Build:     build,
}

// tagTruncated marks a message cut at max_message_bytes.
const tagTruncated = "_truncated"

// Protocols a Config may list.
const (
	ProtocolTCP = "tcp"
	ProtocolUDP = "udp"
)

// Config is the "syslog" source's configuration.
type Config struct {
	// Address is the host:port to listen on, for every protocol.
	Address string `yaml:"address"`
	// Protocols lists tcp and/or udp.
	Protocols []string `yaml:"protocols"`
	// MaxConnections caps the open TCP connections; more are refused.
	MaxConnections int `yaml:"max_connections"`
	// MaxMessageBytes cuts longer messages (TCP frames or lines, UDP
	// datagrams).
	MaxMessageBytes config.ByteSize `yaml:"max_message_bytes"`
	// ReadTimeout closes a TCP connection idle for this long; 0 never does.
	ReadTimeout config.Duration `yaml:"read_timeout"`
	// TLS makes the TCP listener accept TLS connections.
	TLS config.TLSServer `yaml:"tls"`
	// KeepOriginal also stores the raw message in event.original.
	KeepOriginal bool `yaml:"keep_original"`
	// Timezone applies to RFC 3164 timestamps, which have none: an IANA
	// name ("Europe/Berlin"), "Local", "UTC" or an offset ("+02:00").
	Timezone string `yaml:"timezone"`
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{
		Address:         ":5140",
		Protocols:       []string{ProtocolTCP, ProtocolUDP},
		MaxConnections:  1000,
		MaxMessageBytes: 64 << 10,
		ReadTimeout:     config.Duration(5 * time.Minute),
		Timezone:        "UTC",
	}
}

const maxMessageLimit = 64 << 20

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Address == "" {
		return component.Errorf("address", "is required (e.g. \":5140\")")
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		return component.Errorf("address", "invalid host:port %q: %v", c.Address, err)
	}
	if len(c.Protocols) == 0 {
		return component.Errorf("protocols", "must list tcp, udp or both")
	}
	for i, p := range c.Protocols {
		if p != ProtocolTCP && p != ProtocolUDP {
			return component.Errorf("protocols", "must be tcp or udp, not %q", p)
		}
		if slices.Contains(c.Protocols[:i], p) {
			return component.Errorf("protocols", "%s is listed twice", p)
		}
	}
	if c.MaxConnections < 1 {
		return component.Errorf("max_connections", "must be at least 1, not %d", c.MaxConnections)
	}
	if c.MaxMessageBytes < 1 || c.MaxMessageBytes > maxMessageLimit {
		return component.Errorf("max_message_bytes", "must be between 1 and 64MiB, not %d", c.MaxMessageBytes)
	}
	if c.ReadTimeout < 0 {
		return component.Errorf("read_timeout", "must not be negative")
	}
	if err := c.TLS.Validate(); err != nil {
		return component.Errorf("tls", "%v", err)
	}
	if c.TLS.Enabled && !c.has(ProtocolTCP) {
		return component.Errorf("tls", "applies to tcp, which protocols does not list")
	}
	if _, err := syslogparse.LoadLocation(c.Timezone); err != nil {
		return component.Errorf("timezone", "%v", err)
	}
	return nil
}

func (c *Config) has(proto string) bool { return slices.Contains(c.Protocols, proto) }

// Addresses implements component.Listener.
func (c *Config) Addresses() []component.Address {
	out := make([]component.Address, 0, len(c.Protocols))
	for _, p := range c.Protocols {
		out = append(out, component.Address{Network: p, Address: c.Address})
	}
	return out
}

type source struct {
	cfg *Config
	env component.Env
	log *slog.Logger
	m   *metrics.Source
	loc *time.Location
	tcp *netsrc.TCPServer
	udp *netsrc.UDPServer
}

func build(cfg any, env component.Env) (component.Source, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("syslog source: config is %T, not *syslog.Config", cfg)
	}
	loc, err := syslogparse.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("syslog source %s: %w", env.Name, err)
	}
	s := &source{cfg: c, env: env, log: env.Logger, m: env.Metrics.Source(env.Name), loc: loc}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if c.has(ProtocolTCP) {
		tlsCfg, err := c.TLS.Config()
		if err != nil {
			return nil, fmt.Errorf("syslog source %s: %w", env.Name, err)
		}
		s.tcp = netsrc.NewTCPServer(env, s.m, netsrc.TCPConfig{
			Address:        c.Address,
			TLS:            tlsCfg,
			MaxConnections: c.MaxConnections,
			ReadTimeout:    c.ReadTimeout.D(),
		}, s.serveTCP)
	}
	if c.has(ProtocolUDP) {
		// The UDP loop is one goroutine, so one builder serves it.
		b := syslogparse.NewBuilder(loc, c.KeepOriginal)
		s.udp = netsrc.NewUDPServer(env, s.m, netsrc.UDPConfig{
			Address:         c.Address,
			MaxMessageBytes: int(c.MaxMessageBytes),
		}, func(ctx context.Context, msgs []netsrc.Datagram, n int) error {
			return s.handleUDP(ctx, b, msgs, n)
		})
	}
	return s, nil
}

// Start implements component.Source.
func (s *source) Start(context.Context) error {
	if s.tcp != nil {
		if err := s.tcp.Start(); err != nil {
			return fmt.Errorf("syslog source %s: %w", s.env.Name, err)
		}
	}
	if s.udp != nil {
		if err := s.udp.Start(); err != nil {
			if s.tcp != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = s.tcp.Stop(ctx)
			}
			return fmt.Errorf("syslog source %s: %w", s.env.Name, err)
		}
	}
	return nil
}

// Stop implements component.Source. The UDP socket is released only after
// its read loop has exited (see netsrc.UDPServer): during a reload the
// runtime's pool keeps it open for the source that replaces this one.
func (s *source) Stop(ctx context.Context) error {
	var errs []error
	if s.tcp != nil {
		errs = append(errs, s.tcp.Stop(ctx))
	}
	if s.udp != nil {
		errs = append(errs, s.udp.Stop(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("syslog source %s: %w", s.env.Name, err)
	}
	return nil
}

// serveTCP reads one connection: a batch per read, handed to the consumer
// before the next read.
func (s *source) serveTCP(ctx context.Context, c *netsrc.Conn) error {
	fr := netsrc.NewFramer(c, netsrc.FramerOptions{MaxBytes: int(s.cfg.MaxMessageBytes), OctetCounting: true})
	b := syslogparse.NewBuilder(s.loc, s.cfg.KeepOriginal)
	addr := c.RemoteAddrString()
	warned := false
	for {
		ch, err := fr.Next()
		if ch.FramingErrors > 0 {
			s.m.Error("framing", ch.FramingErrors)
			if !warned {
				warned = true
				s.log.Warn("syslog: invalid octet-counted frame; reading the rest of the connection as newline-delimited messages. Check the sender's framing setting (RFC 6587 octet counting or newlines).",
					"remote", addr)
			}
		}
		if len(ch.Frames) > 0 || ch.Bytes > 0 {
			batch := event.NewBatch(s.env.Name)
			batch.Bytes = ch.Bytes
			batch.Events = slices.Grow(batch.Events, len(ch.Frames))
			now := time.Now()
			failed := 0
			for _, f := range ch.Frames {
				ev, ok := b.Build(f.Text, now, addr, boolInt(f.Truncated))
				if !ok {
					failed++
				}
				if f.Truncated {
					ev.AddTag(tagTruncated)
				}
				batch.Events = append(batch.Events, ev)
			}
			s.count(failed, ch.Oversized)
			if cerr := netsrc.Emit(ctx, s.env.Out, s.m, batch); cerr != nil && ctx.Err() != nil {
				return cerr
			}
		}
		if err != nil {
			return err
		}
	}
}

func (s *source) handleUDP(ctx context.Context, b *syslogparse.Builder, msgs []netsrc.Datagram, n int) error {
	batch := event.NewBatch(s.env.Name)
	batch.Bytes = n
	batch.Events = slices.Grow(batch.Events, len(msgs))
	now := time.Now()
	failed, oversized := 0, 0
	for _, d := range msgs {
		ev, ok := b.Build(d.Text, now, d.Addr, boolInt(d.Truncated))
		if !ok {
			failed++
		}
		if d.Truncated {
			ev.AddTag(tagTruncated)
			oversized++
		}
		batch.Events = append(batch.Events, ev)
	}
	s.count(failed, oversized)
	return netsrc.Emit(ctx, s.env.Out, s.m, batch)
}

func (s *source) count(parseFailures, oversized int) {
	if parseFailures > 0 {
		s.m.Error("parse", parseFailures)
	}
	if oversized > 0 {
		s.m.Error("oversized", oversized)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
