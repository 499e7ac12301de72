// Package http is the "http" source: HTTP ingest of NDJSON, JSON arrays,
// single JSON objects and plain text lines, on port 10080 by default.
//
// A request is answered only when its events are acknowledged: 200
// {"accepted": N} once every event is delivered, durably queued or dropped on
// purpose; 429 with Retry-After when the pipeline pushes back; 503 with
// Retry-After when a destination failed or the acknowledgement timed out; 400
// when a destination rejected the events for good. That makes the HTTP status
// the at-least-once contract with the sender: retry on 429 and 5xx.
//
// Files: config.go (settings and defaults), source.go (listener, lifecycle),
// handler.go (one request: auth, body, batches, acknowledgement), body.go
// (the pure body parser: format detection and splitting into events).
package http

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
)

// DefaultAddress is the stable HTTP ingest port from DESIGN.md.
const DefaultAddress = ":10080"

// Spec registers the source type "http".
var Spec = component.SourceSpec{
	Type: "http",
	Doc: "Receives logs over HTTP POST or PUT (default port 10080): NDJSON, a JSON array " +
		"of objects, a single JSON object, or plain text lines (one event per line), " +
		"optionally gzip- or zstd-compressed. JSON objects are flattened into dotted " +
		"fields; a line that is not valid JSON is kept as the message with the tag " +
		"_jsonparsefailure. The response waits for end-to-end acknowledgement: 200 " +
		`{"accepted": N}, 429 under backpressure and 503 on delivery failure or ` +
		"timeout (both with Retry-After), so senders can retry safely.",
	NewConfig: func() any { return NewConfig() },
	Build:     build,
}

// Config is the configuration of an http source.
type Config struct {
	// Address is the host:port to listen on.
	Address string `yaml:"address"`
	// Path is the only URL path that accepts data; "/" accepts any path.
	Path string `yaml:"path"`
	// MaxBodyBytes limits a request body, after decompression too.
	// Larger bodies are answered 413.
	MaxBodyBytes config.ByteSize `yaml:"max_body_bytes"`
	// MaxLineBytes limits one event (a line, an array element or a single
	// object). A longer one is cut to this size, kept as raw text and
	// tagged _truncated.
	MaxLineBytes config.ByteSize `yaml:"max_line_bytes"`
	// MaxConnections limits concurrent connections; more wait to be
	// accepted.
	MaxConnections int `yaml:"max_connections"`
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are net/http's server
	// timeouts. Zero read and idle timeouts mean none.
	ReadHeaderTimeout config.Duration `yaml:"read_header_timeout"`
	ReadTimeout       config.Duration `yaml:"read_timeout"`
	IdleTimeout       config.Duration `yaml:"idle_timeout"`
	// AckTimeout bounds the wait for end-to-end acknowledgement; after it
	// the request is answered 503 and the sender should retry.
	AckTimeout config.Duration `yaml:"ack_timeout"`
	// BackpressureTimeout bounds the wait for room in the pipeline; after
	// it the request is answered 429.
	BackpressureTimeout config.Duration `yaml:"backpressure_timeout"`
	// AuthTokens, when set, requires "Authorization: Bearer TOKEN" with one
	// of them.
	AuthTokens []string `yaml:"auth_tokens"`
	// TLS serves HTTPS (HTTP/2 included) when enabled.
	TLS config.TLSServer `yaml:"tls"`
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{
		Address:             DefaultAddress,
		Path:                "/",
		MaxBodyBytes:        10 << 20,
		MaxLineBytes:        1 << 20,
		MaxConnections:      1000,
		ReadHeaderTimeout:   config.Duration(10 * time.Second),
		ReadTimeout:         config.Duration(60 * time.Second),
		IdleTimeout:         config.Duration(2 * time.Minute),
		AckTimeout:          config.Duration(30 * time.Second),
		BackpressureTimeout: config.Duration(time.Second),
	}
}

// Validate checks the config after defaults and YAML are applied.
func (c *Config) Validate() error {
	if c.Address == "" {
		return component.Errorf("address", "must not be empty (the default is %q)", DefaultAddress)
	}
	_, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return component.Errorf("address", "invalid address %q: want host:port, like %q", c.Address, DefaultAddress)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return component.Errorf("address", "invalid port %q in %q", port, c.Address)
	}
	if !strings.HasPrefix(c.Path, "/") {
		return component.Errorf("path", "must start with '/', got %q", c.Path)
	}
	if c.MaxBodyBytes <= 0 {
		return component.Errorf("max_body_bytes", "must be positive")
	}
	if c.MaxLineBytes <= 0 {
		return component.Errorf("max_line_bytes", "must be positive")
	}
	if c.MaxConnections <= 0 {
		return component.Errorf("max_connections", "must be positive")
	}
	if c.ReadHeaderTimeout <= 0 {
		return component.Errorf("read_header_timeout", "must be positive (it protects against slow clients)")
	}
	if c.ReadTimeout < 0 {
		return component.Errorf("read_timeout", "must not be negative")
	}
	if c.IdleTimeout < 0 {
		return component.Errorf("idle_timeout", "must not be negative")
	}
	if c.AckTimeout <= 0 {
		return component.Errorf("ack_timeout", "must be positive")
	}
	if c.BackpressureTimeout <= 0 {
		return component.Errorf("backpressure_timeout", "must be positive")
	}
	for i, t := range c.AuthTokens {
		if strings.TrimSpace(t) == "" {
			return component.Errorf("auth_tokens", "token %d is empty", i)
		}
		if t != strings.TrimSpace(t) {
			return component.Errorf("auth_tokens", "token %d has leading or trailing spaces", i)
		}
	}
	if err := c.TLS.Validate(); err != nil {
		return component.Errorf("tls", "%s", strings.TrimPrefix(err.Error(), "tls: "))
	}
	return nil
}

// Addresses implements component.Listener.
func (c *Config) Addresses() []component.Address {
	return []component.Address{{Network: "tcp", Address: c.Address}}
}
