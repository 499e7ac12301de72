package netsrc

import (
	"bytes"
	"errors"
	"io"
	"unsafe"
)

// DefaultBufferSize is the read buffer of a Framer unless FramerOptions says
// otherwise. One read fills at most this much, so it is also the largest
// chunk a Framer returns in the common case.
const DefaultBufferSize = 64 << 10

// maxLenDigits is the most digits an RFC 6587 MSG-LEN may have here
// (999,999,999 bytes); a longer number is a framing error.
const maxLenDigits = 9

// maxZeroReads bounds the reads that return neither data nor an error before
// Next gives up with io.ErrNoProgress, so a broken reader cannot spin a
// connection goroutine forever.
const maxZeroReads = 100

// Frame is one message cut from a stream.
type Frame struct {
	// Text is the message without its delimiter (for lines, the '\n' and a
	// '\r' before it). It points into a buffer that nothing else references
	// and that is never written again, so it may be kept indefinitely.
	Text string
	// Truncated is set when the message was cut: it was longer than
	// FramerOptions.MaxBytes, or the stream ended inside an octet-counted
	// frame.
	Truncated bool
}

// Chunk is the result of one Framer.Next call.
type Chunk struct {
	// Frames are the complete messages of one read. The slice is reused by
	// the next call to Next; the strings in it are not.
	Frames []Frame
	// Bytes is how many bytes were read from the stream for this chunk.
	Bytes int
	// Oversized counts frames cut at MaxBytes.
	Oversized int
	// FramingErrors counts invalid octet counts (after which the framer
	// falls back to newline framing for the rest of the stream) and frames
	// cut short by the end of the stream.
	FramingErrors int
}

// FramerOptions configures a Framer.
type FramerOptions struct {
	// MaxBytes is the longest message kept. Longer ones are cut to MaxBytes,
	// marked Truncated, and the rest up to the delimiter is discarded.
	// 0 means 1 MiB.
	MaxBytes int
	// OctetCounting turns on RFC 6587 detection: when the first byte of the
	// stream is a digit, messages are "MSG-LEN SP MSG" frames; otherwise
	// they are lines. An invalid MSG-LEN switches to lines for the rest of
	// the stream.
	OctetCounting bool
	// BufferSize is the read buffer size; 0 means DefaultBufferSize. The
	// buffer grows, up to MaxBytes plus a little, only while one message
	// does not fit.
	BufferSize int
}

type framingMode uint8

const (
	modeLines framingMode = iota
	modeDetect
	modeOctets
)

// span is a frame's position in the read buffer.
type span struct {
	start, end int
	truncated  bool
}

// Framer cuts a byte stream into messages; see the package comment. Lines
// end at '\n' (a '\r' before it is dropped); empty lines and zero-length
// frames produce no message. It is owned by one goroutine (the
// connection's) and is not safe for concurrent use.
type Framer struct {
	r      io.Reader
	buf    []byte // unconsumed data is buf[:w]
	w      int
	max    int
	minBuf int
	maxBuf int
	mode   framingMode
	// discardLine drops bytes up to the next '\n' (the rest of an
	// oversized line); skip drops that many bytes (the rest of an oversized
	// octet-counted frame).
	discardLine bool
	skip        int
	// noNL is how many bytes at the front of buf are known to hold no
	// '\n' (a partial line), so a slow sender does not make each read
	// rescan the whole pending line.
	noNL  int
	err   error
	spans []span
	chunk Chunk
}

// NewFramer returns a Framer that reads from r, which is usually a *Conn.
func NewFramer(r io.Reader, opts FramerOptions) *Framer {
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = 1 << 20
	}
	minBuf := opts.BufferSize
	if minBuf <= 0 {
		minBuf = DefaultBufferSize
	}
	f := &Framer{
		r:      r,
		max:    maxBytes,
		minBuf: minBuf,
		// A pending message never needs more than MaxBytes plus an
		// octet-count header (and a '\r' before a line's '\n').
		maxBuf: max(minBuf, maxBytes+maxLenDigits+8),
		mode:   modeLines,
	}
	if opts.OctetCounting {
		f.mode = modeDetect
	}
	return f
}

// Next reads from the stream until at least one message is complete or the
// read fails, and returns the complete messages. A read error ends the
// stream: the data still buffered is returned as a last message together
// with the error, and later calls return the same error. As with io.Reader,
// callers should handle the chunk's frames before the error.
func (f *Framer) Next() (Chunk, error) {
	clear(f.chunk.Frames)
	f.chunk = Chunk{Frames: f.chunk.Frames[:0]}
	if f.err != nil {
		return f.chunk, f.err
	}
	zeroReads := 0
	for {
		if f.buf == nil {
			f.buf = make([]byte, f.minBuf)
		}
		if f.w == len(f.buf) {
			f.grow()
		}
		n, err := f.r.Read(f.buf[f.w:])
		f.w += n
		f.chunk.Bytes += n
		if n == 0 && err == nil {
			if zeroReads++; zeroReads >= maxZeroReads {
				err = io.ErrNoProgress
			}
		}
		f.spans = f.spans[:0]
		consumed := f.scan(err != nil)
		f.emit()
		f.compact(consumed)
		if err != nil {
			f.err = err
			return f.chunk, err
		}
		if len(f.chunk.Frames) > 0 {
			return f.chunk, nil
		}
	}
}

// Buffered returns how many bytes are read but not yet part of a frame.
func (f *Framer) Buffered() int { return f.w }

// scan finds the frames in buf[:w] and returns how many bytes it consumed.
func (f *Framer) scan(atEOF bool) int {
	data := f.buf[:f.w]
	pos := 0
	for pos < len(data) {
		switch {
		case f.skip > 0:
			d := min(f.skip, len(data)-pos)
			pos += d
			f.skip -= d
		case f.discardLine:
			i := bytes.IndexByte(data[pos:], '\n')
			if i < 0 {
				return len(data)
			}
			pos += i + 1
			f.discardLine = false
		case f.mode == modeLines:
			return f.scanLines(data, pos, atEOF)
		default:
			next, ok := f.scanOctets(data, pos, atEOF)
			if !ok {
				return next
			}
			pos = next
		}
	}
	return pos
}

// scanLines adds every complete line of data[pos:] and returns the position
// after the last one, or after all of data when the partial line at the end
// is oversized or the stream ended.
func (f *Framer) scanLines(data []byte, pos int, atEOF bool) int {
	from := pos
	if pos == 0 {
		from = min(f.noNL, len(data))
	}
	f.noNL = 0
	for {
		i := bytes.IndexByte(data[from:], '\n')
		if i < 0 {
			break
		}
		f.addLine(pos, from+i)
		pos = from + i + 1
		from = pos
	}
	rest := len(data) - pos
	switch {
	case rest == 0:
	case rest > f.max+1 || (rest == f.max+1 && data[len(data)-1] != '\r'):
		// Longer than max whatever follows: keep the prefix now, drop the
		// rest of the line as it arrives.
		f.addSpan(pos, pos+f.max, true)
		f.discardLine = true
		pos = len(data)
	case !atEOF:
		// Kept for the next read, which need not look at it again.
		f.noNL = rest
	default: // atEOF
		f.addLine(pos, len(data))
		pos = len(data)
	}
	return pos
}

// addLine adds the line buf[start:end] (without its '\n'), dropping a
// trailing '\r', skipping empty lines and cutting long ones.
func (f *Framer) addLine(start, end int) {
	if end > start && f.buf[end-1] == '\r' {
		end--
	}
	switch {
	case end-start > f.max:
		f.addSpan(start, start+f.max, true)
	case end > start:
		f.spans = append(f.spans, span{start: start, end: end})
	}
}

func (f *Framer) addSpan(start, end int, truncated bool) {
	f.spans = append(f.spans, span{start: start, end: end, truncated: truncated})
	if truncated {
		f.chunk.Oversized++
	}
}

// scanOctets handles one octet-counted frame at data[pos:]. It returns the
// position after what it consumed and true, or the position to resume from
// and false when it needs more data.
func (f *Framer) scanOctets(data []byte, pos int, atEOF bool) (int, bool) {
	// Senders that end each frame with a line break are common; skip it.
	for pos < len(data) && (data[pos] == '\n' || data[pos] == '\r') {
		pos++
	}
	if pos == len(data) {
		return pos, false
	}
	if f.mode == modeDetect {
		if !isDigit(data[pos]) {
			f.mode = modeLines
			return pos, true
		}
		f.mode = modeOctets
	}
	j := pos
	n := 0
	for j < len(data) && j-pos <= maxLenDigits && isDigit(data[j]) {
		n = n*10 + int(data[j]-'0')
		j++
	}
	digits := j - pos
	if j == len(data) && digits <= maxLenDigits && !atEOF {
		return pos, false
	}
	if digits == 0 || digits > maxLenDigits || j == len(data) || data[j] != ' ' {
		// Not a frame header: treat the rest of the stream as lines.
		f.chunk.FramingErrors++
		f.mode = modeLines
		return pos, true
	}
	body := j + 1
	avail := len(data) - body
	switch {
	case n > f.max:
		if avail < f.max {
			if atEOF {
				return f.addPartial(body, len(data)), true
			}
			return pos, false
		}
		f.addSpan(body, body+f.max, true)
		f.skip = n - f.max
		return body + f.max, true
	case avail < n:
		if atEOF {
			return f.addPartial(body, len(data)), true
		}
		return pos, false
	}
	end := body + n
	// Some senders count a trailing line break; it is not message content.
	if end > body && data[end-1] == '\n' {
		end--
		if end > body && data[end-1] == '\r' {
			end--
		}
	}
	if end > body {
		f.spans = append(f.spans, span{start: body, end: end})
	}
	return body + n, true
}

// addPartial adds a frame that the end of the stream cut short.
func (f *Framer) addPartial(start, end int) int {
	f.chunk.FramingErrors++
	if end > start {
		f.spans = append(f.spans, span{start: start, end: end, truncated: true})
	}
	return end
}

// arenaMax caps an arena so that it stays a small-object allocation
// (served from the per-P cache, not the locked page heap). A frame longer
// than this gets an arena of its own.
const arenaMax = 32 << 10

// emit copies the spans' bytes into new arenas (one per arenaMax bytes of
// frames, so usually one or two per read) and appends a Frame per span
// whose Text points into them.
func (f *Framer) emit() {
	for i := 0; i < len(f.spans); {
		first := f.spans[i].start
		total := f.spans[i].end - first
		j := i + 1
		for j < len(f.spans) && f.spans[j].end-first <= arenaMax {
			total += f.spans[j].end - f.spans[j].start
			j++
		}
		f.emitRun(f.spans[i:j], total)
		i = j
	}
}

// emitRun copies one run of spans holding total bytes into one arena.
func (f *Framer) emitRun(spans []span, total int) {
	first, last := spans[0].start, spans[len(spans)-1].end
	if region := last - first; region <= total+total/8+256 {
		// The usual case: frames separated by short delimiters. One copy.
		arena := make([]byte, region)
		copy(arena, f.buf[first:last])
		for _, s := range spans {
			f.chunk.Frames = append(f.chunk.Frames, Frame{
				Text:      unsafe.String(&arena[s.start-first], s.end-s.start),
				Truncated: s.truncated,
			})
		}
		return
	}
	// Large gaps (discarded oversized data, tiny CRLF lines): pack the
	// frames so the arena holds no dead bytes.
	arena := make([]byte, total)
	off := 0
	for _, s := range spans {
		n := copy(arena[off:], f.buf[s.start:s.end])
		f.chunk.Frames = append(f.chunk.Frames, Frame{
			Text:      unsafe.String(&arena[off], n),
			Truncated: s.truncated,
		})
		off += n
	}
}

// compact drops the consumed bytes and moves the partial message to the
// front, giving back a grown buffer once it is no longer needed.
func (f *Framer) compact(consumed int) {
	rest := f.w - consumed
	if len(f.buf) > f.minBuf && rest <= f.minBuf/2 {
		nb := make([]byte, f.minBuf)
		copy(nb, f.buf[consumed:f.w])
		f.buf = nb
	} else if consumed > 0 {
		copy(f.buf, f.buf[consumed:f.w])
	}
	f.w = rest
}

// grow makes room for a message that does not fit in the buffer.
func (f *Framer) grow() {
	if len(f.buf) >= f.maxBuf {
		// Unreachable while the scanners keep their promise to consume
		// any pending data longer than maxBuf; drop it rather than spin.
		f.chunk.FramingErrors++
		f.w = 0
		return
	}
	nb := make([]byte, min(2*len(f.buf), f.maxBuf))
	copy(nb, f.buf[:f.w])
	f.buf = nb
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// IsEndOfStream reports whether err is a normal end of a connection: EOF,
// the server stopping, or the idle timeout.
func IsEndOfStream(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, ErrStopped) || errors.Is(err, ErrIdleTimeout)
}
