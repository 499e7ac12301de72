package gen

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Generator makes log lines.
//
// Append appends line number seq, stamped with now, to dst and returns the
// extended slice. It appends no line terminator: the caller frames the line
// (newline, octet count, datagram). The content is a function of the
// generator's options, seq and now only, so a run is reproducible with the
// same seed whatever the order in which lines are made.
//
// Generators hold no mutable state and are safe for concurrent use.
type Generator interface {
	Append(dst []byte, seq uint64, now time.Time) []byte
}

// Options configure a Generator.
type Options struct {
	// RunID prefixes every line's id: "<RunID>-<seq>". Default "gen".
	RunID string
	// Seed selects the content; the same seed gives the same lines.
	Seed uint64
	// Size is the length of a raw line in bytes, without the newline
	// (default 128). A raw line is never shorter than its timestamp, level
	// and id, about 50 bytes.
	Size int
}

// DefaultSize is the default length of a raw line.
const DefaultSize = 128

type factory struct {
	doc string
	new func(o Options) Generator
}

var formats = map[string]factory{
	"syslog":     {"RFC 5424 syslog with structured data", func(o Options) Generator { return &syslog5424{o} }},
	"syslog3164": {"BSD (RFC 3164) syslog", func(o Options) Generator { return &syslog3164{o} }},
	"json":       {"ECS-style JSON application log object", func(o Options) Generator { return &jsonGen{o} }},
	"apache":     {"Apache combined access log", func(o Options) Generator { return &apacheGen{o} }},
	"k8s":        {"Kubernetes CRI container log line (JSON, klog or text message)", func(o Options) Generator { return &k8sGen{o} }},
	"raw":        {"plain text of a fixed size", newRaw},
}

// Formats returns the names NewGenerator accepts, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for n := range formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FormatDoc returns a one-line description of a format, or "".
func FormatDoc(format string) string { return formats[format].doc }

// IsJSON reports whether every line of format is one JSON object.
func IsJSON(format string) bool { return format == "json" }

// NewGenerator returns the generator for format (see Formats).
func NewGenerator(format string, o Options) (Generator, error) {
	f, ok := formats[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (use one of %s)", format, strings.Join(Formats(), ", "))
	}
	if o.RunID == "" {
		o.RunID = "gen"
	}
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	return f.new(o), nil
}

// ID returns the id of line seq of run: "<run>-<seq>".
func ID(run string, seq uint64) string { return string(appendID(nil, run, seq)) }

func appendID(dst []byte, run string, seq uint64) []byte {
	dst = append(dst, run...)
	dst = append(dst, '-')
	return appendUint(dst, seq)
}

var (
	jsonIDKey = []byte(`"id":"`)
	textIDKey = []byte(`id=`)
)

// ExtractID finds the id a generated line carries: the first `"id":"…"` of a
// JSON line or JSON message, else the first `id=…` that starts a word. Loss
// checks use it on what a destination received.
func ExtractID(line []byte) (string, bool) {
	if i := bytes.Index(line, jsonIDKey); i >= 0 {
		rest := line[i+len(jsonIDKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			return string(rest[:j]), true
		}
	}
	for off := 0; ; {
		i := bytes.Index(line[off:], textIDKey)
		if i < 0 {
			return "", false
		}
		i += off
		off = i + len(textIDKey)
		if i > 0 && isWordByte(line[i-1]) {
			continue
		}
		rest := line[off:]
		j := bytes.IndexAny(rest, " \t&\"\n")
		if j < 0 {
			j = len(rest)
		}
		if j > 0 {
			return string(rest[:j]), true
		}
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
