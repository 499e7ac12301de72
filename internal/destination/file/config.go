package file

import (
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/template"
)

// Config is the file destination's configuration.
type Config struct {
	// Path is a %{field} template naming the file each event is appended
	// to, e.g. "/var/log/sluice/%{kubernetes.namespace}/%{+yyyy-MM-dd}.ndjson".
	// A relative path is relative to the data directory. Rendered paths may
	// not leave the template's static directory prefix.
	Path string `yaml:"path"`
	// Format is "json" (one NDJSON object per event, internal fields left
	// out) or "text" (the message field only, one per line).
	Format string `yaml:"format"`
	// Compression is "none" or "gzip". Each batch written to a file is one
	// complete gzip member, so the file is a valid (multi-member) gzip
	// stream after every write, not only after Close.
	Compression string `yaml:"compression"`
	// CompressionLevel is the gzip level, 1 (fastest) to 9 (smallest).
	CompressionLevel int `yaml:"compression_level"`
	// Rotate sets when the current file is renamed away and a new one
	// started.
	Rotate Rotate `yaml:"rotate"`
	// MaxOpenFiles caps the files held open at once; the least recently
	// written one is closed to make room.
	MaxOpenFiles int `yaml:"max_open_files"`
	// IdleTimeout closes files nothing was written to for this long. Zero
	// keeps them open until evicted or the destination stops.
	IdleTimeout config.Duration `yaml:"idle_timeout"`
	// Mkdir creates missing parent directories (mode 0755).
	Mkdir bool `yaml:"mkdir"`
}

// Rotate configures file rotation. Rotated files are named the way
// logrotate names them: app.ndjson becomes app.ndjson.1, the previous .1
// becomes .2, and so on; for a path ending in .gz the number goes before the
// suffix (app.ndjson.gz becomes app.ndjson.1.gz), as logrotate's compress
// option names them.
type Rotate struct {
	// MaxBytes rotates a file before a write would take it past this size
	// (bytes on disk, so compressed bytes with gzip). With format json or
	// text and no compression a batch is split at a line boundary, so a
	// file exceeds MaxBytes only when one line is larger; with gzip one
	// batch's member is never split. Zero disables size rotation.
	MaxBytes config.ByteSize `yaml:"max_bytes"`
	// Interval rotates a file at the first write after each UTC-aligned
	// multiple of Interval (1h: the top of every hour, 24h: midnight UTC)
	// when the file was last written before it. Zero disables it.
	Interval config.Duration `yaml:"interval"`
	// Keep is how many rotated files to keep per path; older ones are
	// deleted. Zero keeps all of them.
	Keep int `yaml:"keep"`
}

// NewConfig returns a Config with every default set.
func NewConfig() any {
	return &Config{
		Format:           "json",
		Compression:      "none",
		CompressionLevel: 6,
		MaxOpenFiles:     64,
		IdleTimeout:      config.Duration(30 * time.Second),
		Mkdir:            true,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Path) == "" {
		return component.Errorf("path", "is required (a file path, e.g. /var/log/sluice/%%{kubernetes.namespace}.ndjson)")
	}
	if _, err := template.Parse(c.Path); err != nil {
		return component.Errorf("path", "%v", err)
	}
	if strings.HasSuffix(c.Path, "/") {
		return component.Errorf("path", "%q names a directory; end it with a file name", c.Path)
	}
	if strings.IndexByte(c.Path, 0) >= 0 {
		return component.Errorf("path", "contains a NUL byte")
	}
	switch c.Format {
	case "json", "text":
	default:
		return component.Errorf("format", "must be json or text, not %q", c.Format)
	}
	switch c.Compression {
	case "none", "gzip":
	default:
		return component.Errorf("compression", "must be none or gzip, not %q", c.Compression)
	}
	if c.CompressionLevel < 1 || c.CompressionLevel > 9 {
		return component.Errorf("compression_level", "must be between 1 (fastest) and 9 (smallest), not %d", c.CompressionLevel)
	}
	if c.Rotate.MaxBytes < 0 {
		return component.Errorf("rotate.max_bytes", "must not be negative")
	}
	if c.Rotate.Interval < 0 {
		return component.Errorf("rotate.interval", "must not be negative")
	}
	if c.Rotate.Interval > 0 && c.Rotate.Interval.D() < time.Second {
		return component.Errorf("rotate.interval", "must be at least 1s, not %v", c.Rotate.Interval.D())
	}
	if c.Rotate.Keep < 0 {
		return component.Errorf("rotate.keep", "must not be negative (0 keeps every rotated file)")
	}
	if c.MaxOpenFiles < 1 {
		return component.Errorf("max_open_files", "must be at least 1, not %d", c.MaxOpenFiles)
	}
	if c.IdleTimeout < 0 {
		return component.Errorf("idle_timeout", "must not be negative (0 keeps files open)")
	}
	return nil
}
