package preview

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// Formats are the sample formats Read understands.
var Formats = []string{"auto", "ndjson", "lines", "syslog"}

// MaxLineBytes bounds one line of a sample.
const MaxLineBytes = 1 << 20

// Read parses a sample: "ndjson" is one JSON object per line (an RFC 3339
// "@timestamp" sets the event time), "lines" makes each line the message
// of an event, "syslog" parses each line as the syslog source does (with
// reg's syslog function; a line that is not syslog keeps its message and
// gets the syslog failure tag), "auto" picks ndjson when the first
// non-blank line starts with "{", else lines. Events without a time of
// their own get now. Blank lines are skipped. An invalid line is an error
// naming its line number.
func Read(reg *component.Registry, r io.Reader, format string, now time.Time) ([]event.Event, error) {
	if format == "syslog" {
		spec, ok := reg.Function("syslog")
		if !ok {
			return nil, fmt.Errorf("sample format syslog needs the syslog function")
		}
		fn, err := spec.Build(spec.NewConfig(), component.Env{Name: "preview-input", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, fmt.Errorf("sample format syslog: %w", err)
		}
		evs, err := readLines(r, "lines", now)
		if err != nil {
			return nil, err
		}
		for i := range evs {
			fn.Apply(&evs[i], func(event.Event) {})
		}
		return evs, nil
	}
	return readLines(r, format, now)
}

func readLines(r io.Reader, format string, now time.Time) ([]event.Event, error) {
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
