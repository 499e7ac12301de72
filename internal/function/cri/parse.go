package cri

import (
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/function/timestamp"
)

// Line is one parsed CRI log line. Message points into the input.
type Line struct {
	// Time is when the runtime read the line, in UTC.
	Time time.Time
	// Stream is "stdout" or "stderr".
	Stream string
	// Partial is set for the tag P: the line was cut (at the runtime's
	// buffer size, 16KiB by default) and goes on in the next line of the
	// same stream; F ends it.
	Partial bool
	// Message is the log text, without the runtime's trailing newline.
	Message string
}

// Parse parses one line of a CRI (containerd, CRI-O) container log file:
//
//	<time> <stream> <tags> <message>
//
// time is RFC 3339 with nanoseconds (containerd writes UTC, CRI-O a local
// offset), stream is stdout or stderr, tags is P (partial) or F (full),
// optionally followed by ":" and more tags, which are ignored. A single
// trailing "\n" is removed from the message; a line that ends right after
// the tags has an empty message. ok is false for anything else.
func Parse(s string) (l Line, ok bool) {
	s = strings.TrimSuffix(s, "\n")
	ts, rest, found := strings.Cut(s, " ")
	if !found {
		return l, false
	}
	if l.Time, ok = timestamp.ParseRFC3339(ts); !ok {
		return l, false
	}
	switch {
	case strings.HasPrefix(rest, "stdout "):
		l.Stream, rest = "stdout", rest[7:]
	case strings.HasPrefix(rest, "stderr "):
		l.Stream, rest = "stderr", rest[7:]
	default:
		return l, false
	}
	if rest == "" {
		return l, false
	}
	switch rest[0] {
	case 'P':
		l.Partial = true
	case 'F':
	default:
		return l, false
	}
	rest = rest[1:]
	if rest != "" && rest[0] == ':' {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			i = len(rest)
		}
		rest = rest[i:]
	}
	switch {
	case rest == "":
	case rest[0] == ' ':
		l.Message = rest[1:]
	default:
		return l, false
	}
	return l, true
}
