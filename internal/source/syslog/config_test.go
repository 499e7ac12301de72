package syslog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
)

func TestConfigDefaults(t *testing.T) {
	c := NewConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if c.Address != ":5140" || len(c.Protocols) != 2 || c.MaxMessageBytes != 64<<10 || c.ReadTimeout.D() != 5*time.Minute || c.KeepOriginal {
		t.Errorf("defaults = %+v", c)
	}
	want := []component.Address{{Network: "tcp", Address: ":5140"}, {Network: "udp", Address: ":5140"}}
	if got := c.Addresses(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Addresses() = %v, want %v", got, want)
	}
}

func TestConfigYAML(t *testing.T) {
	c := NewConfig()
	in := "address: \"0.0.0.0:514\"\nprotocols: [udp]\nmax_message_bytes: 8KiB\nkeep_original: true\ntimezone: \"+01:00\"\n"
	if err := yaml.Unmarshal([]byte(in), c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Protocols) != 1 || c.Protocols[0] != "udp" || c.MaxMessageBytes != 8<<10 || !c.KeepOriginal {
		t.Errorf("decoded %+v", c)
	}
	if got := c.Addresses(); len(got) != 1 || got[0].Network != "udp" {
		t.Errorf("Addresses() = %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(c *Config)
		field string
		msg   string
	}{
		{name: "no address", edit: func(c *Config) { c.Address = "" }, field: "address"},
		{name: "bad address", edit: func(c *Config) { c.Address = "localhost" }, field: "address", msg: "invalid"},
		{name: "no protocols", edit: func(c *Config) { c.Protocols = nil }, field: "protocols"},
		{name: "bad protocol", edit: func(c *Config) { c.Protocols = []string{"sctp"} }, field: "protocols", msg: "sctp"},
		{name: "duplicate protocol", edit: func(c *Config) { c.Protocols = []string{"udp", "udp"} }, field: "protocols", msg: "twice"},
		{name: "zero connections", edit: func(c *Config) { c.MaxConnections = 0 }, field: "max_connections"},
		{name: "zero size", edit: func(c *Config) { c.MaxMessageBytes = 0 }, field: "max_message_bytes"},
		{name: "negative timeout", edit: func(c *Config) { c.ReadTimeout = -1 }, field: "read_timeout"},
		{name: "tls without files", edit: func(c *Config) { c.TLS.Enabled = true }, field: "tls"},
		{name: "tls on udp only", edit: func(c *Config) {
			c.Protocols = []string{"udp"}
			c.TLS.Enabled, c.TLS.CertFile, c.TLS.KeyFile = true, "c.pem", "k.pem"
		}, field: "tls", msg: "tcp"},
		{name: "bad timezone", edit: func(c *Config) { c.Timezone = "Nowhere/Special" }, field: "timezone", msg: "IANA"},
		{name: "ok tcp only", edit: func(c *Config) { c.Protocols = []string{"tcp"} }},
		{name: "ok local time", edit: func(c *Config) { c.Timezone = "Local" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			tt.edit(c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *component.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate = %v, want an error about %s", err, tt.field)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}
