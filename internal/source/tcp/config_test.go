package tcp

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
	if c.Format != FormatRaw || c.MaxConnections != 1000 || c.MaxLineBytes != 1<<20 || c.ReadTimeout.D() != 5*time.Minute {
		t.Errorf("defaults = %+v", c)
	}
	if err := c.Validate(); err == nil {
		t.Errorf("config without address validated")
	}
}

func TestConfigYAML(t *testing.T) {
	c := NewConfig()
	in := "address: \":5170\"\nformat: json\nmax_line_bytes: 64KiB\nread_timeout: 30s\nmax_connections: 5\n"
	if err := yaml.Unmarshal([]byte(in), c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatJSON || c.MaxLineBytes != 64<<10 || c.ReadTimeout.D() != 30*time.Second || c.MaxConnections != 5 {
		t.Errorf("decoded %+v", c)
	}
	if got := c.Addresses(); len(got) != 1 || got[0] != (component.Address{Network: "tcp", Address: ":5170"}) {
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
		{name: "no address", edit: func(c *Config) { c.Address = "" }, field: "address", msg: "required"},
		{name: "bad address", edit: func(c *Config) { c.Address = "5170" }, field: "address", msg: "invalid"},
		{name: "bad format", edit: func(c *Config) { c.Format = "xml" }, field: "format", msg: "raw or json"},
		{name: "zero connections", edit: func(c *Config) { c.MaxConnections = 0 }, field: "max_connections"},
		{name: "zero line", edit: func(c *Config) { c.MaxLineBytes = 0 }, field: "max_line_bytes"},
		{name: "huge line", edit: func(c *Config) { c.MaxLineBytes = 1 << 30 }, field: "max_line_bytes"},
		{name: "negative timeout", edit: func(c *Config) { c.ReadTimeout = -1 }, field: "read_timeout"},
		{name: "tls without cert", edit: func(c *Config) { c.TLS.Enabled = true }, field: "tls", msg: "cert_file"},
		{name: "ok", edit: func(c *Config) {}},
		{name: "ok json no timeout", edit: func(c *Config) { c.Format = FormatJSON; c.ReadTimeout = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			c.Address = ":5170"
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
