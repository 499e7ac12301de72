package cri

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/template"
)

// JoinConfig is the configuration of partial-line joining, shared by the
// cri and docker functions (inlined in their configs).
type JoinConfig struct {
	JoinPartial  bool            `yaml:"join_partial" doc:"Join partial lines with the following lines of the same stream and key into one event; false passes every line on as it is."`
	Key          string          `yaml:"key" doc:"Template naming the log a line belongs to; partial lines are joined per key and stream. Set it when lines of several logs lack log.file.path (e.g. \"%{kubernetes.pod.uid}/%{kubernetes.container.name}\")."`
	MaxBytes     config.ByteSize `yaml:"max_bytes" doc:"A joined message that reaches this size is passed on at once, tagged, and the rest of the line starts a new message."`
	MaxPending   int             `yaml:"max_pending" doc:"Most messages held at once (one per key and stream); a new one beyond it passes on the one least recently added to, tagged."`
	FlushTimeout config.Duration `yaml:"flush_timeout" doc:"A held message that gets no line for this long is passed on, tagged (checked every second or faster); 0 holds it until its last line, max_pending or shutdown."`
	key          *template.Template
}

// DefaultJoinConfig returns the defaults: joining on, keyed by
// log.file.path, 1MiB, 1024 messages, 5s.
func DefaultJoinConfig() JoinConfig {
	return JoinConfig{
		JoinPartial:  true,
		Key:          "%{log.file.path}",
		MaxBytes:     1 << 20,
		MaxPending:   1024,
		FlushTimeout: config.Duration(5 * time.Second),
	}
}

// Limits of JoinConfig.
const (
	maxMaxBytes   = 64 << 20
	maxMaxPending = 1 << 20
)

// Validate checks the options and parses the key template.
func (c *JoinConfig) Validate() error {
	t, err := template.Parse(c.Key)
	if err != nil {
		return component.Errorf("key", "%v", err)
	}
	c.key = t
	if c.MaxBytes < 1 || c.MaxBytes > maxMaxBytes {
		return component.Errorf("max_bytes", "must be between 1 and 64MiB, not %d", c.MaxBytes)
	}
	if c.MaxPending < 1 || c.MaxPending > maxMaxPending {
		return component.Errorf("max_pending", "must be between 1 and %d, not %d", maxMaxPending, c.MaxPending)
	}
	if c.FlushTimeout < 0 {
		return component.Errorf("flush_timeout", "must not be negative (0 turns the timeout off)")
	}
	return nil
}

// entry is one held message: the event of its first line, the text so
// far, and its place in the joiner's list (least recently added to first).
type entry struct {
	key        string
	ev         event.Event
	buf        []byte
	updated    time.Time
	prev, next *entry
}

// Joiner holds the partial lines of container logs until the line that
// ends them, and turns them into one event: the event of the first line
// (its fields and @timestamp) with the text of all the lines. It is safe
// for concurrent use; lines of one key must come in order, which they do
// when one source reads each log.
type Joiner struct {
	msgKey     string
	tag        string
	maxBytes   int
	maxPending int
	timeout    time.Duration
	now        func() time.Time
	keyTmpl    *template.Template

	n          atomic.Int64 // len(entries), read without the lock
	mu         sync.Mutex
	entries    map[string]*entry
	head, tail *entry
}

// NewJoiner returns a Joiner for c (validated) that puts joined text in
// msgKey and tags messages passed on before their last line with tag.
func NewJoiner(c *JoinConfig, msgKey, tag string) *Joiner {
	return &Joiner{
		msgKey:     msgKey,
		tag:        tag,
		maxBytes:   int(c.MaxBytes),
		maxPending: c.MaxPending,
		timeout:    c.FlushTimeout.D(),
		now:        time.Now,
		keyTmpl:    c.key,
		entries:    make(map[string]*entry),
	}
}

// Tag is the tag of messages passed on before their last line.
func (j *Joiner) Tag() string { return j.tag }

// AppendKey appends the key of ev's log and stream to dst: the key
// template, a NUL and the stream.
func (j *Joiner) AppendKey(dst []byte, ev *event.Event, stream string) []byte {
	dst = j.keyTmpl.Append(dst, ev)
	dst = append(dst, 0)
	return append(dst, stream...)
}

// Add handles one line whose fields other than the text are set on ev.
// key names its log and stream (see AppendKey), text is its text and
// partial says that the text goes on in the next line. It returns whether
// ev goes on:
//
//   - a complete line with nothing held for its key: ev with msgKey set to
//     text;
//   - a complete line that ends a held message: ev becomes the event of the
//     message's first line, with msgKey set to the whole text;
//   - a partial line: held (false), unless the message then holds max_bytes
//     or more: ev then becomes the message so far, tagged, and the next
//     lines start a new message.
//
// A new message beyond max_pending first passes on the message least
// recently added to, tagged, through emit.
func (j *Joiner) Add(ev *event.Event, key []byte, text string, partial bool, emit func(event.Event)) bool {
	if !partial && j.n.Load() == 0 {
		ev.SetValue(j.msgKey, event.String(text))
		return true
	}
	j.mu.Lock()
	e := j.entries[string(key)]
	if !partial {
		if e == nil {
			j.mu.Unlock()
			ev.SetValue(j.msgKey, event.String(text))
			return true
		}
		j.remove(e)
		j.mu.Unlock()
		e.buf = append(e.buf, text...)
		*ev = e.ev
		ev.SetValue(j.msgKey, event.String(e.text()))
		return true
	}
	var evicted *entry
	if e == nil {
		if len(j.entries) >= j.maxPending {
			evicted = j.head
			j.remove(evicted)
		}
		// Room for a second line of the same size, the usual message.
		e = &entry{key: string(key), ev: ev.Clone(), buf: make([]byte, 0, max(2*len(text), 64))}
		// Drop the reference to the raw line (when it is in msgKey).
		e.ev.SetValue(j.msgKey, event.String(""))
		j.entries[e.key] = e
		j.n.Store(int64(len(j.entries)))
	} else {
		j.unlink(e)
	}
	j.pushBack(e)
	e.buf = append(e.buf, text...)
	e.updated = j.now()
	full := len(e.buf) >= j.maxBytes
	if full {
		j.remove(e)
	}
	j.mu.Unlock()
	if evicted != nil && emit != nil {
		emit(j.finish(evicted))
	}
	if full {
		*ev = j.finish(e)
		return true
	}
	return false
}

// finish makes the event of a message passed on before its last line.
func (j *Joiner) finish(e *entry) event.Event {
	ev := e.ev
	ev.SetValue(j.msgKey, event.String(e.text()))
	ev.AddTag(j.tag)
	return ev
}

// text returns the held text as a string without copying it. It is called
// once, when e has left the joiner: nothing writes to e.buf afterwards.
func (e *entry) text() string {
	if len(e.buf) == 0 {
		return ""
	}
	return unsafe.String(&e.buf[0], len(e.buf))
}

// Flush passes on, tagged, the messages that got no line for the flush
// timeout (all of them when final is set).
func (j *Joiner) Flush(now time.Time, final bool, emit func(event.Event)) {
	if j.n.Load() == 0 {
		return
	}
	var out []*entry
	j.mu.Lock()
	for e := j.head; e != nil; e = j.head {
		if !final && (j.timeout <= 0 || now.Sub(e.updated) < j.timeout) {
			break
		}
		j.remove(e)
		out = append(out, e)
	}
	j.mu.Unlock()
	for _, e := range out {
		emit(j.finish(e))
	}
}

// FlushInterval is how often Flush should run: a quarter of the timeout,
// between 10ms and a second.
func (j *Joiner) FlushInterval() time.Duration {
	return min(max(j.timeout/4, 10*time.Millisecond), time.Second)
}

// Pending returns the number of messages held.
func (j *Joiner) Pending() int { return int(j.n.Load()) }

func (j *Joiner) remove(e *entry) {
	j.unlink(e)
	delete(j.entries, e.key)
	j.n.Store(int64(len(j.entries)))
}

func (j *Joiner) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		j.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		j.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (j *Joiner) pushBack(e *entry) {
	e.prev = j.tail
	if j.tail != nil {
		j.tail.next = e
	} else {
		j.head = e
	}
	j.tail = e
}
