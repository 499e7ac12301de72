package preview

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// Formats are the sample formats Read understands.
var Formats = []string{"auto", "ndjson", "lines"}

// MaxLineBytes bounds one line of a sample.
const MaxLineBytes = 1 << 20

// Read parses a sample: "ndjson" is one JSON object per line (an RFC 3339
// "@timestamp" sets the event time), "lines" makes each line the message
// of an event, "auto" picks ndjson when the first non-blank line starts
// with "{". Events without a time of their own get now. Blank lines are
// skipped. An invalid line is an error naming its line number.
func Read(r io.Reader, format string, now time.Time) ([]event.Event, error) {
	switch format {
	case "", "auto", "ndjson", "lines":
	default:
		return nil, fmt.Errorf("unknown sample format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), MaxLineBytes)
	var out []event.Event
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if format == "" || format == "auto" {
			format = "lines"
			if bytes.HasPrefix(bytes.TrimSpace(text), []byte("{")) {
				format = "ndjson"
			}
		}
		if len(out) == MaxEvents {
			return nil, fmt.Errorf("line %d: the sample has more than %d events", line, MaxEvents)
		}
		switch format {
		case "ndjson":
			ev := event.NewSized(now, 8)
			if err := jsonparse.ParseObject(&ev, bytes.Clone(text)); err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			out = append(out, ev)
		default:
			out = append(out, event.New(now, string(text)))
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return nil, fmt.Errorf("line %d: longer than %d bytes", line+1, MaxLineBytes)
		}
		return nil, fmt.Errorf("read sample: %w", err)
	}
	return out, nil
}
