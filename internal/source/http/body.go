package http

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// Tags added to events that could not be parsed as sent.
const (
	tagJSONParseFailure = "_jsonparsefailure"
	tagTruncated        = "_truncated"
)

// maxBatchEvents is the most events one batch carries; a request may make
// several batches.
const maxBatchEvents = 1000

// format is how a body is split into events.
type format int

const (
	formatAuto   format = iota // sniff the first non-space byte
	formatNDJSON               // one JSON object per line
	formatJSON                 // an array of objects, one object, or NDJSON sent as JSON
	formatText                 // one event per non-empty line, message = line
)

// formatOf maps a Content-Type to a format. Absent and generic types are
// sniffed; any other non-JSON type means text lines.
func formatOf(contentType string) format {
	if contentType == "" {
		return formatAuto
	}
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "", "*/*", "application/octet-stream", "application/x-www-form-urlencoded":
		return formatAuto
	case "application/x-ndjson", "application/ndjson", "application/jsonlines",
		"application/x-jsonlines", "application/jsonl", "application/json-lines":
		return formatNDJSON
	case "application/json", "text/json":
		return formatJSON
	}
	if strings.HasSuffix(mt, "+json") {
		return formatJSON
	}
	if _, _, err := mime.ParseMediaType(contentType); err != nil {
		// Unparseable: treat as absent.
		return formatAuto
	}
	return formatText
}

// batcher collects a request's events into batches of at most max events.
// Events are built in place in the batch's slice.
type batcher struct {
	source string
	max    int
	// expect is the estimated number of events still to come, to size new
	// batches once.
	expect  int
	batches []*event.Batch
}

// next returns a fresh event slot in the current batch; raw is the size of
// the event's input, for the batch's byte count.
func (b *batcher) next(raw int) *event.Event {
	var cur *event.Batch
	if n := len(b.batches); n > 0 && b.batches[n-1].Len() < b.max {
		cur = b.batches[n-1]
	} else {
		cur = event.NewBatch(b.source)
		if want := min(max(b.expect, 1), b.max); cap(cur.Events) < want {
			cur.Events = make([]event.Event, 0, want)
		}
		b.batches = append(b.batches, cur)
	}
	b.expect--
	cur.Events = append(cur.Events, event.Event{})
	cur.Bytes += raw
	return &cur.Events[len(cur.Events)-1]
}

// count returns the number of events collected.
func (b *batcher) count() int {
	n := 0
	for _, bt := range b.batches {
		n += bt.Len()
	}
	return n
}

// mark and rollback undo the events added after mark, for a format guess
// that turned out wrong.
type batcherMark struct{ batches, events, bytes int }

func (b *batcher) mark() batcherMark {
	n := len(b.batches)
	if n == 0 {
		return batcherMark{}
	}
	last := b.batches[n-1]
	return batcherMark{batches: n, events: last.Len(), bytes: last.Bytes}
}

func (b *batcher) rollback(m batcherMark) {
	for len(b.batches) > m.batches {
		n := len(b.batches)
		b.batches[n-1].Release()
		b.batches[n-1] = nil
		b.batches = b.batches[:n-1]
	}
	if m.batches > 0 {
		last := b.batches[m.batches-1]
		clear(last.Events[m.events:])
		last.Events = last.Events[:m.events]
		last.Bytes = m.bytes
	}
}

// release returns every batch to the pool, unacknowledged.
func (b *batcher) release() {
	for i, bt := range b.batches {
		bt.Release()
		b.batches[i] = nil
	}
	b.batches = b.batches[:0]
}

// bodyStats counts what parseBody did.
type bodyStats struct {
	events      int
	parseErrors int // JSON that did not parse; kept raw and tagged
	truncated   int // events longer than maxLine; cut and tagged
}

// parseBody splits body into events in out, by the format named by
// contentType (sniffed when absent or generic). Every event gets Time = now
// unless its JSON has an RFC 3339 @timestamp. It is a pure function: no I/O,
// no metrics, no shared state, so it can be fuzzed.
//
// Events point into body (see jsonparse): body must never be modified or
// reused afterwards.
//
// A malformed line or array element never fails the body: it is kept as raw
// text in message with the tag _jsonparsefailure. The only error is a body
// sent as JSON (application/json) that starts like an array but is not one.
func parseBody(body []byte, contentType string, now time.Time, maxLine int, out *batcher) (bodyStats, error) {
	p := bodyParser{now: now, maxLine: maxLine, out: out}
	start := skipSpace(body, 0)
	if start == len(body) {
		return p.stats, nil
	}
	lines := bytes.Count(body, []byte{'\n'}) + 1
	out.expect = lines
	f := formatOf(contentType)
	if f == formatAuto {
		switch body[start] {
		case '{':
			f = formatJSON
		case '[':
			// Many text logs start with "[INFO]": try an array, fall back to
			// lines.
			m := out.mark()
			if err := p.array(body, start); err == nil {
				return p.stats, nil
			}
			out.rollback(m)
			out.expect = lines
			p.stats = bodyStats{}
			f = formatText
		default:
			f = formatText
		}
	}
	switch f {
	case formatText:
		p.lines(body, false)
	case formatNDJSON:
		p.lines(body, true)
	case formatJSON:
		switch body[start] {
		case '[':
			if err := p.array(body, start); err != nil {
				out.release()
				return bodyStats{}, err
			}
		case '{':
			// One object (maybe pretty-printed), or NDJSON sent as
			// application/json: ParseObject stops at the end of the first
			// line of NDJSON, so the guess costs one line.
			var ev event.Event
			ev.Time = now
			obj := trimSpace(body[start:])
			if jsonparse.ParseObject(&ev, obj) == nil {
				if len(obj) > maxLine {
					p.truncated(obj)
				} else {
					*out.next(len(obj)) = ev
					p.stats.events++
				}
				break
			}
			p.lines(body, true)
		default:
			p.lines(body, true)
		}
	}
	return p.stats, nil
}

type bodyParser struct {
	now     time.Time
	maxLine int
	out     *batcher
	stats   bodyStats
}

// lines makes an event of every non-blank line, parsing it as a JSON
// object when json is set.
func (p *bodyParser) lines(body []byte, json bool) {
	for len(body) > 0 {
		var line []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			line, body = body, nil
		}
		if json {
			if line = trimSpace(line); len(line) > 0 {
				p.object(line)
			}
			continue
		}
		// Text keeps leading and trailing spaces (indented stack trace
		// lines); only the '\r' of a CRLF goes.
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if skipSpace(line, 0) < len(line) {
			p.text(line)
		}
	}
}

// object adds the event for one JSON object (a line or array element).
func (p *bodyParser) object(raw []byte) {
	if len(raw) > p.maxLine {
		p.truncated(raw)
		return
	}
	ev := p.out.next(len(raw))
	ev.Time = p.now
	p.stats.events++
	if err := jsonparse.ParseObject(ev, raw); err != nil {
		ev.AppendField(event.MessageField, event.String(bytesString(raw)))
		ev.AddTag(tagJSONParseFailure)
		p.stats.parseErrors++
	}
}

// text adds the event for one plain text line.
func (p *bodyParser) text(line []byte) {
	if len(line) > p.maxLine {
		p.truncated(line)
		return
	}
	ev := p.out.next(len(line))
	ev.Time = p.now
	ev.AppendField(event.MessageField, event.String(bytesString(line)))
	p.stats.events++
}

// truncated adds an oversized event, cut to maxLine at a UTF-8 boundary.
func (p *bodyParser) truncated(raw []byte) {
	cut := p.maxLine
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(raw[cut]); i++ {
		cut--
	}
	ev := p.out.next(len(raw))
	ev.Time = p.now
	ev.AppendField(event.MessageField, event.String(bytesString(raw[:cut])))
	ev.AddTag(tagTruncated)
	p.stats.events++
	p.stats.truncated++
}

// array adds an event for each element of the JSON array at body[start].
// It checks the array's frame (brackets, strings, commas); the elements are
// checked by ParseObject and kept raw when invalid.
func (p *bodyParser) array(body []byte, start int) error {
	i := skipSpace(body, start+1)
	if i < len(body) && body[i] == ']' {
		if j := skipSpace(body, i+1); j < len(body) {
			return fmt.Errorf("invalid JSON array at offset %d: unexpected data after the array", j)
		}
		return nil
	}
	for {
		elemStart := i
		end, err := scanValue(body, i)
		if err != nil {
			return err
		}
		elem := trimSpace(body[elemStart:end])
		if len(elem) == 0 {
			return fmt.Errorf("invalid JSON array at offset %d: expected an element", elemStart)
		}
		p.object(elem)
		i = end
		if i >= len(body) {
			return fmt.Errorf("invalid JSON array at offset %d: unexpected end, expected ',' or ']'", i)
		}
		if body[i] == ',' {
			i = skipSpace(body, i+1)
			continue
		}
		// body[i] == ']', as scanValue stops only at ',' or ']' at depth 0.
		if j := skipSpace(body, i+1); j < len(body) {
			return fmt.Errorf("invalid JSON array at offset %d: unexpected data after the array", j)
		}
		return nil
	}
}

// scanValue returns the offset of the ',' or ']' that ends the array element
// starting at body[i], skipping strings and nested brackets.
func scanValue(body []byte, i int) (int, error) {
	depth := 0
	for i < len(body) {
		switch body[i] {
		case '"':
			end, ok := stringEnd(body, i)
			if !ok {
				return 0, fmt.Errorf("invalid JSON array at offset %d: unterminated string", i)
			}
			i = end
			continue
		case '{', '[':
			depth++
			if depth > jsonparse.MaxDepth {
				return 0, fmt.Errorf("invalid JSON array at offset %d: nesting deeper than %d", i, jsonparse.MaxDepth)
			}
		case '}', ']':
			if depth == 0 {
				if body[i] == ']' {
					return i, nil
				}
				return 0, fmt.Errorf("invalid JSON array at offset %d: unexpected '}'", i)
			}
			depth--
		case ',':
			if depth == 0 {
				return i, nil
			}
		}
		i++
	}
	return 0, fmt.Errorf("invalid JSON array at offset %d: unexpected end, expected ',' or ']'", i)
}

// stringEnd returns the offset after the string starting at body[i] == '"'.
func stringEnd(body []byte, i int) (int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(body[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for b := j - 1; b > i && body[b] == '\\'; b-- {
			n++
		}
		j++
		if n%2 == 0 {
			return j, true
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// bytesString returns b as a string without copying. The body it points
// into is allocated per request and never modified (see parseBody).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
