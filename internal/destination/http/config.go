package http

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
)

// Config is the http destination's configuration.
type Config struct {
	// URL is the http or https endpoint batches are sent to. Credentials
	// go in Auth, not in the URL.
	URL string `yaml:"url"`
	// Method is POST (default), PUT or PATCH.
	Method string `yaml:"method"`
	// Headers are added to every request. Values may hold secrets: they
	// are never logged or put in error messages.
	Headers map[string]string `yaml:"headers"`
	// Auth sets the Authorization header.
	Auth Auth `yaml:"auth"`
	// Compression is "none" (default, what every NDJSON endpoint accepts)
	// or "gzip" (Content-Encoding: gzip).
	Compression string `yaml:"compression"`
	// CompressionLevel is the gzip level, 1 (fastest) to 9 (smallest).
	CompressionLevel int `yaml:"compression_level"`
	// Timeout bounds one request, from connecting to reading the answer.
	Timeout config.Duration `yaml:"timeout"`
	// TLS configures https: a CA to trust, a client certificate, and so on.
	TLS config.TLSClient `yaml:"tls"`
	// MaxBodyBytes caps the uncompressed NDJSON body of one request; a
	// larger batch is sent in several requests.
	MaxBodyBytes config.ByteSize `yaml:"max_body_bytes"`
}

// Auth holds the credentials for the Authorization header: a bearer token,
// or a username and password for basic auth.
type Auth struct {
	BearerToken string `yaml:"bearer_token"`
	Username    string `yaml:"username"`
	Password    string `yaml:"password"`
}

// NewConfig returns a Config with every default set.
func NewConfig() any {
	return &Config{
		Method:           "POST",
		Compression:      "none",
		CompressionLevel: 6,
		Timeout:          config.Duration(30 * time.Second),
		MaxBodyBytes:     10 << 20,
	}
}

// headersSetBySluice are request headers the user may not set, because the
// sink computes them from the body.
var headersSetBySluice = map[string]bool{
	"Content-Length":    true,
	"Transfer-Encoding": true,
	"Connection":        true,
}

// Validate checks the configuration. Its messages never include header
// values, credentials or the URL's user info.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.URL) == "" {
		return component.Errorf("url", "is required (e.g. https://logs.example.com/ingest)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		// url.Error repeats the URL, which may hold credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return component.Errorf("url", "is not a valid URL: %v", err)
	}
	if u.User != nil {
		return component.Errorf("url", "must not contain credentials; set auth.username and auth.password (or auth.bearer_token) instead")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return component.Errorf("url", "must start with http:// or https://, not %q", u.Scheme+":")
	}
	if u.Host == "" {
		return component.Errorf("url", "has no host")
	}
	switch strings.ToUpper(c.Method) {
	case "POST", "PUT", "PATCH":
	default:
		return component.Errorf("method", "must be POST, PUT or PATCH, not %q", c.Method)
	}
	for name, value := range c.Headers {
		if !validHeaderName(name) {
			return component.Errorf("headers", "%q is not a valid header name", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return component.Errorf("headers", "the value of %s contains a line break or NUL byte", name)
		}
		canon := http.CanonicalHeaderKey(name)
		switch {
		case headersSetBySluice[canon]:
			return component.Errorf("headers", "%s is set by Sluice and cannot be configured", canon)
		case canon == "Authorization" && c.Auth != (Auth{}):
			return component.Errorf("headers", "Authorization is set both here and by auth; keep one")
		case canon == "Content-Encoding" && c.Compression != "none":
			return component.Errorf("headers", "Content-Encoding is set by compression: %s; remove the header", c.Compression)
		}
	}
	if c.Auth.BearerToken != "" && (c.Auth.Username != "" || c.Auth.Password != "") {
		return component.Errorf("auth", "set either bearer_token or username and password, not both")
	}
	if c.Auth.Password != "" && c.Auth.Username == "" {
		return component.Errorf("auth.username", "is required when auth.password is set")
	}
	switch c.Compression {
	case "none", "gzip":
	default:
		return component.Errorf("compression", "must be none or gzip, not %q", c.Compression)
	}
	if c.CompressionLevel < 1 || c.CompressionLevel > 9 {
		return component.Errorf("compression_level", "must be between 1 (fastest) and 9 (smallest), not %d", c.CompressionLevel)
	}
	if c.Timeout <= 0 {
		return component.Errorf("timeout", "must be above zero (e.g. 30s)")
	}
	if c.MaxBodyBytes <= 0 {
		return component.Errorf("max_body_bytes", "must be above zero (e.g. 10MiB)")
	}
	if err := c.TLS.Validate(); err != nil {
		return component.Errorf("tls", "%s", strings.TrimPrefix(err.Error(), "tls: "))
	}
	if u.Scheme == "http" && c.TLS != (config.TLSClient{}) {
		return component.Errorf("tls", "is set but url is plain http://; use https:// or remove tls")
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
