package esbulk

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
	"github.com/sluicehq/sluice/internal/kql"
)

// Default limits.
const (
	// DefaultMaxRequestBytes is Elasticsearch's http.max_content_length.
	DefaultMaxRequestBytes = 100 << 20
	// DefaultMaxEventBytes bounds one source line.
	DefaultMaxEventBytes = 1 << 20
	// MaxIDBytes is Elasticsearch's limit on an _id.
	MaxIDBytes = 512
)

// Options configures a Parser. The zero value of each field selects its
// default.
type Options struct {
	// MaxRequestBytes bounds a request body after decompression
	// (ReadBody); 413 above it. Default DefaultMaxRequestBytes.
	MaxRequestBytes int64
	// MaxEventBytes bounds one source line; a longer one fails its item
	// with status 413. Default DefaultMaxEventBytes.
	MaxEventBytes int
	// StrictTimestamp fails an item whose @timestamp is neither a date
	// nor epoch milliseconds, as Elasticsearch does for a date field.
	// Without it, such a value stays an ordinary field named @timestamp.
	StrictTimestamp bool
}

func (o Options) withDefaults() Options {
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = DefaultMaxEventBytes
	}
	return o
}

// Item is one operation of a bulk request.
type Item struct {
	Action Action
	// Index is the target index: the action line's _index, or the URL's.
	Index string
	// ID is the document's _id; empty when the request has none (the
	// receiver assigns one).
	ID string
	// Event is the document (Index and Create items without Err). Its
	// Time is @timestamp; zero when the document has none.
	Event event.Event
	// Line is the 1-based line number of the action line in the body.
	Line int
	// Err, when set, is this item's failure found while parsing: invalid
	// source, too large, unsupported action. The item must be answered
	// with it and not be stored.
	Err *Error

	emptyID bool // "_id":"" (an error, unlike no _id)
}

// Parser parses bulk bodies. It keeps a little state across calls (interned
// index names), so use one Parser per goroutine, or a sync.Pool of them.
type Parser struct {
	opts     Options
	interned map[string]string
}

// NewParser returns a parser with the given options.
func NewParser(opts Options) *Parser {
	return &Parser{opts: opts.withDefaults()}
}

// Options returns the parser's options with defaults applied.
func (p *Parser) Options() Options { return p.opts }

// maxInterned bounds the interned index names.
const maxInterned = 1024

// intern returns a copy of s shared by every item naming the same index.
func (p *Parser) intern(s string) string {
	if v, ok := p.interned[s]; ok {
		return v
	}
	if p.interned == nil || len(p.interned) >= maxInterned {
		p.interned = make(map[string]string, 16)
	}
	v := strings.Clone(s)
	p.interned[v] = v
	return v
}

// Parse parses body and appends its items to dst. defaultIndex (from the
// URL, /{index}/_bulk) applies to items without _index. A non-nil error
// fails the whole request, as Elasticsearch does for a malformed action
// line or a request that does not validate; per-item problems are set on
// the items instead.
//
// Events and IDs point into body, which must not change while they live.
func (p *Parser) Parse(dst []Item, body []byte, defaultIndex string) ([]Item, *Error) {
	start := len(dst)
	line := 0
	for i := 0; i < len(body); {
		nl := bytes.IndexByte(body[i:], '\n')
		if nl < 0 {
			return dst, IllegalArgument(`The bulk request must be terminated by a newline [\n]`)
		}
		actionBytes := body[i : i+nl]
		i += nl + 1
		line++
		ap := actionParser{b: actionBytes, line: line, p: p}
		al, ok, err := ap.parse()
		if err != nil {
			return dst, err
		}
		if !ok {
			continue // blank line
		}
		it := Item{Action: al.action, Index: al.index, ID: al.id, Line: line, emptyID: al.hasID && al.id == ""}
		if it.Index == "" {
			it.Index = defaultIndex
		}
		if al.action == Delete {
			it.Err = unsupported(al.action)
			dst = append(dst, it)
			continue
		}
		if i >= len(body) {
			// An action without its source line at the very end of the
			// body is dropped, as Elasticsearch does.
			break
		}
		nl = bytes.IndexByte(body[i:], '\n')
		if nl < 0 {
			return dst, IllegalArgument(`The bulk request must be terminated by a newline [\n]`)
		}
		src := body[i : i+nl]
		i += nl + 1
		line++
		if n := len(src); n > 0 && src[n-1] == '\r' {
			src = src[:n-1]
		}
		// The item is built in place: copying an Item into the slice
		// costs write barriers for each of its pointers while the GC runs.
		dst = append(dst, it)
		slot := &dst[len(dst)-1]
		switch {
		case al.action == Update:
			slot.Err = unsupported(al.action)
		case len(src) > p.opts.MaxEventBytes:
			slot.Err = TooLarge("document of " + strconv.Itoa(len(src)) + " bytes on line [" + strconv.Itoa(line) +
				"] is larger than the maximum event size of " + strconv.Itoa(p.opts.MaxEventBytes) + " bytes")
		default:
			slot.Err = p.parseSource(slot, src)
		}
	}
	return dst, validate(dst[start:], len(body) > 0)
}

func unsupported(a Action) *Error {
	return IllegalArgument("the bulk action [" + a.String() +
		"] is not supported: documents are append-only, only [index] and [create] are")
}

// validate checks the request as Elasticsearch's BulkRequest.validate does.
func validate(items []Item, nonEmpty bool) *Error {
	if len(items) == 0 {
		if !nonEmpty {
			return ParseException("request body is required")
		}
		return ValidationError("no requests added")
	}
	var problems []string
	for i := range items {
		it := &items[i]
		if it.Index == "" {
			problems = append(problems, "index is missing")
		}
		if it.emptyID {
			problems = append(problems, "if _id is specified it must not be empty")
		}
		if len(it.ID) > MaxIDBytes {
			problems = append(problems, "id ["+it.ID+"] is too long, must be no longer than 512 bytes but was: "+strconv.Itoa(len(it.ID)))
		}
	}
	if len(problems) > 0 {
		return ValidationError(problems...)
	}
	return nil
}

// parseSource parses a source line into it.Event.
func (p *Parser) parseSource(it *Item, src []byte) *Error {
	return parseDocument(&it.Event, src, it.ID, p.opts.StrictTimestamp)
}

// ParseDocument parses one document (a source line, or the body of a
// single-document index request) into an event, handling @timestamp as
// the bulk parser does (see Options.StrictTimestamp); id is the document's
// _id, if known, for error messages. Errors are document_parsing_exception
// (400). The event points into src.
func ParseDocument(src []byte, id string, strictTimestamp bool) (event.Event, *Error) {
	var ev event.Event
	err := parseDocument(&ev, src, id, strictTimestamp)
	return ev, err
}

func parseDocument(ev *event.Event, src []byte, id string, strictTimestamp bool) *Error {
	if err := jsonparse.ParseObject(ev, src); err != nil {
		return sourceError(src, err)
	}
	if ev.Time.IsZero() {
		if v, ok := ev.Lookup(event.TimestampField); ok {
			if t, ok := ParseTimestamp(v); ok {
				*ev = withoutTimestampField(ev)
				ev.Time = t
			} else if v.IsNull() {
				*ev = withoutTimestampField(ev)
			} else if strictTimestamp {
				*ev = event.Event{}
				return badTimestamp(id, v)
			}
		}
	}
	return nil
}

// withoutTimestampField returns a copy of ev without its field named
// @timestamp (Event.Delete of "@timestamp" clears the time instead).
func withoutTimestampField(ev *event.Event) event.Event {
	out := event.NewSized(ev.Time, ev.Len()-1)
	for _, f := range ev.Fields() {
		if f.Key != event.TimestampField {
			out.AppendField(f.Key, f.Value)
		}
	}
	return out
}

// sourceError turns a JSON syntax error in a source line into
// Elasticsearch's document_parsing_exception.
func sourceError(src []byte, err error) *Error {
	col := 1
	msg := err.Error()
	var se *jsonparse.SyntaxError
	if errors.As(err, &se) {
		col = se.Offset + 1
		msg = se.Msg
	}
	if len(bytes.TrimSpace(src)) == 0 {
		return &Error{Status: 400, Type: "document_parsing_exception", Reason: "[1:1] failed to parse: the document is empty"}
	}
	if i := firstNonSpace(src); src[i] != '{' && validJSONStart(src[i]) {
		return &Error{Status: 400, Type: "document_parsing_exception",
			Reason: "[1:" + strconv.Itoa(i+1) + "] Malformed content, must start with an object"}
	}
	loc := "[1:" + strconv.Itoa(col) + "] "
	return &Error{Status: 400, Type: "document_parsing_exception", Reason: loc + "failed to parse: " + msg,
		CausedBy: &Error{Type: "x_content_parse_exception", Reason: loc + msg}}
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return i
		}
	}
	return 0
}

func validJSONStart(c byte) bool {
	return c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n'
}

// badTimestamp is the error of a date field that does not parse.
func badTimestamp(id string, v event.Value) *Error {
	text := v.Text()
	preview := text
	if len(preview) > 64 {
		preview = preview[:64] + "..."
	}
	reason := "failed to parse field [@timestamp] of type [date]"
	if id != "" {
		reason += " in document with id '" + id + "'"
	}
	reason += ". Preview of field's value: '" + preview + "'"
	return &Error{Status: 400, Type: "document_parsing_exception", Reason: reason,
		CausedBy: &Error{Type: "illegal_argument_exception",
			Reason: "failed to parse date field [" + preview + "] with format [strict_date_optional_time||epoch_millis]",
			CausedBy: &Error{Type: "date_time_parse_exception",
				Reason: "Failed to parse with all enclosed parsers"}}}
}

// ParseTimestamp reads an @timestamp value as Elasticsearch's default date
// format (strict_date_optional_time||epoch_millis) does: an ISO 8601 date
// or date-time (a partial date is its first instant; no zone means UTC), or
// epoch milliseconds as a number or a string of digits.
func ParseTimestamp(v event.Value) (time.Time, bool) {
	if s, ok := v.Str(); ok {
		if s == "" || strings.HasPrefix(s, "now") {
			return time.Time{}, false
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
		if allDigits(s) {
			if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) > 4 {
				return time.UnixMilli(ms).UTC(), true
			}
		}
		start, _, ok := kql.ParseTime(s, time.Time{})
		return start, ok
	}
	switch x := v.Interface().(type) {
	case int64:
		return time.UnixMilli(x).UTC(), true
	case float64:
		if x > -1e15 && x < 1e15 {
			return time.UnixMicro(int64(x * 1000)).UTC(), true
		}
	case time.Time:
		return x, true
	}
	return time.Time{}, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
