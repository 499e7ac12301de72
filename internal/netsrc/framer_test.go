package netsrc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns data in reads of the given sizes (cycling), then EOF.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = max(1, r.sizes[r.i%len(r.sizes)])
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

type gotFrame struct {
	text      string
	truncated bool
}

// readAll runs a framer to the end and returns its frames and counters.
func readAll(t testing.TB, r io.Reader, opts FramerOptions) (frames []gotFrame, chunks int, total Chunk) {
	t.Helper()
	f := NewFramer(r, opts)
	for {
		ch, err := f.Next()
		total.Bytes += ch.Bytes
		total.Oversized += ch.Oversized
		total.FramingErrors += ch.FramingErrors
		if len(ch.Frames) > 0 {
			chunks++
		}
		for _, fr := range ch.Frames {
			frames = append(frames, gotFrame{fr.Text, fr.Truncated})
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v", err)
			}
			if f.Buffered() != 0 {
				t.Fatalf("%d bytes left buffered at EOF", f.Buffered())
			}
			return frames, chunks, total
		}
		if len(ch.Frames) == 0 {
			t.Fatalf("Next returned no frames and no error")
		}
	}
}

func ok(s string) gotFrame    { return gotFrame{s, false} }
func trunc(s string) gotFrame { return gotFrame{s, true} }

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name      string
		in        string
		sizes     []int // read sizes; nil means all at once
		max       int
		octets    bool
		want      []gotFrame
		oversized int
		framing   int
	}{
		{name: "lines", in: "a\nbb\nccc\n", want: []gotFrame{ok("a"), ok("bb"), ok("ccc")}},
		{name: "crlf", in: "a\r\nb\r\n", want: []gotFrame{ok("a"), ok("b")}},
		{name: "only one cr stripped", in: "a\r\r\n", want: []gotFrame{ok("a\r")}},
		{name: "empty lines skipped", in: "\n\na\n\r\n\nb\n", want: []gotFrame{ok("a"), ok("b")}},
		{name: "last line without newline", in: "a\nb", want: []gotFrame{ok("a"), ok("b")}},
		{name: "byte at a time", in: "hello\nworld\r\n!\n", sizes: []int{1}, want: []gotFrame{ok("hello"), ok("world"), ok("!")}},
		{name: "line split across reads", in: "abcdef\nghij\n", sizes: []int{3, 2, 4}, want: []gotFrame{ok("abcdef"), ok("ghij")}},
		{name: "exactly max", in: "abcde\nabcde\r\n", max: 5, want: []gotFrame{ok("abcde"), ok("abcde")}},
		{name: "exactly max cr split", in: "abcde\r\nz\n", sizes: []int{6, 1, 2}, max: 5, want: []gotFrame{ok("abcde"), ok("z")}},
		{name: "oversized in one read", in: "abcdefgh\nok\n", max: 5, want: []gotFrame{trunc("abcde"), ok("ok")}, oversized: 1},
		{name: "oversized across reads", in: long + "\nok\n", sizes: []int{7}, max: 10, want: []gotFrame{trunc(long[:10]), ok("ok")}, oversized: 1},
		{name: "oversized byte at a time", in: "abcdefgh\r\nok\n", sizes: []int{1}, max: 5, want: []gotFrame{trunc("abcde"), ok("ok")}, oversized: 1},
		{name: "oversized at eof", in: "ok\n" + long, sizes: []int{5}, max: 10, want: []gotFrame{ok("ok"), trunc(long[:10])}, oversized: 1},
		{name: "oversized cr line", in: "abcdef\r\n", max: 5, want: []gotFrame{trunc("abcde")}, oversized: 1},
		{name: "line longer than buffer", in: strings.Repeat("y", 300) + "\nz\n", sizes: []int{64}, max: 1000, want: []gotFrame{ok(strings.Repeat("y", 300)), ok("z")}},

		{name: "octets", in: "5 hello5 world", octets: true, want: []gotFrame{ok("hello"), ok("world")}},
		{name: "octets keep newlines inside", in: "11 hello\nworld3 abc", octets: true, want: []gotFrame{ok("hello\nworld"), ok("abc")}},
		{name: "octets trailing newline", in: "6 hello\n6 world\n\n", octets: true, want: []gotFrame{ok("hello"), ok("world")}},
		{name: "octets newline between frames", in: "5 hello\n5 world\r\n", octets: true, want: []gotFrame{ok("hello"), ok("world")}},
		{name: "octets split across reads", in: "11 <13>1 - - x15 <13>1 - - hello", sizes: []int{1, 2, 3, 5, 7}, octets: true, want: []gotFrame{ok("<13>1 - - x"), ok("<13>1 - - hello")}},
		{name: "octets oversized", in: "10 abcdefghij2 ok", max: 4, octets: true, want: []gotFrame{trunc("abcd"), ok("ok")}, oversized: 1},
		{name: "octets oversized split", in: "10 abcdefghij2 ok", sizes: []int{1}, max: 4, octets: true, want: []gotFrame{trunc("abcd"), ok("ok")}, oversized: 1},
		{name: "octets zero length", in: "0 5 hello", octets: true, want: []gotFrame{ok("hello")}},
		{name: "octets eof inside frame", in: "5 hello10 abc", octets: true, want: []gotFrame{ok("hello"), trunc("abc")}, framing: 1},
		{name: "octets bad length falls back to lines", in: "5 hello12x oops\nnext\n", octets: true, want: []gotFrame{ok("hello"), ok("12x oops"), ok("next")}, framing: 1},
		{name: "octets too many digits", in: "1234567890 a\nb\n", octets: true, want: []gotFrame{ok("1234567890 a"), ok("b")}, framing: 1},
		{name: "octets header cut by eof", in: "5 hello12", octets: true, want: []gotFrame{ok("hello"), ok("12")}, framing: 1},
		{name: "detect lines", in: "<13>hello\n<14>world\n", octets: true, want: []gotFrame{ok("<13>hello"), ok("<14>world")}},
		{name: "detect lines after blank", in: "\r\n<13>hi\n", octets: true, want: []gotFrame{ok("<13>hi")}},
		{name: "digits without octets option", in: "5 hello\n", want: []gotFrame{ok("5 hello")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxBytes := tt.max
			if maxBytes == 0 {
				maxBytes = 1 << 20
			}
			got, _, total := readAll(t, &chunkReader{data: []byte(tt.in), sizes: tt.sizes},
				FramerOptions{MaxBytes: maxBytes, OctetCounting: tt.octets, BufferSize: 128})
			if !equalFrames(got, tt.want) {
				t.Errorf("frames\n got %+v\nwant %+v", got, tt.want)
			}
			if total.Bytes != len(tt.in) {
				t.Errorf("Bytes = %d, want %d", total.Bytes, len(tt.in))
			}
			if total.Oversized != tt.oversized {
				t.Errorf("Oversized = %d, want %d", total.Oversized, tt.oversized)
			}
			if total.FramingErrors != tt.framing {
				t.Errorf("FramingErrors = %d, want %d", total.FramingErrors, tt.framing)
			}
		})
	}
}

func equalFrames(a, b []gotFrame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFramerBatchPerRead checks that all complete lines of one read come back
// in one chunk.
func TestFramerBatchPerRead(t *testing.T) {
	in := strings.Repeat("line\n", 1000)
	_, chunks, _ := readAll(t, &chunkReader{data: []byte(in), sizes: []int{2500}}, FramerOptions{MaxBytes: 100})
	if want := 2; chunks != want { // 5000 bytes in reads of 2500
		t.Errorf("chunks = %d, want %d", chunks, want)
	}
}

// TestFramerStringsStable checks that frame texts do not change when the
// framer reads on: they live in their own arena, not in the read buffer.
func TestFramerStringsStable(t *testing.T) {
	var in bytes.Buffer
	for i := range 2000 {
		in.WriteString(strings.Repeat(string(rune('a'+i%26)), 1+i%50))
		in.WriteByte('\n')
	}
	f := NewFramer(&chunkReader{data: in.Bytes(), sizes: []int{333, 1000, 17}}, FramerOptions{MaxBytes: 100, BufferSize: 256})
	var kept []string
	var want []string
	for {
		ch, err := f.Next()
		for _, fr := range ch.Frames {
			kept = append(kept, fr.Text)
			want = append(want, strings.Clone(fr.Text))
		}
		if err != nil {
			break
		}
	}
	if len(kept) != 2000 {
		t.Fatalf("got %d frames", len(kept))
	}
	for i := range kept {
		if kept[i] != want[i] {
			t.Fatalf("frame %d changed: %q, was %q", i, kept[i], want[i])
		}
	}
}

func TestFramerStickyError(t *testing.T) {
	boom := errors.New("boom")
	f := NewFramer(errReader{boom}, FramerOptions{})
	for range 2 {
		if _, err := f.Next(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestFramerNoProgress(t *testing.T) {
	if _, err := NewFramer(zeroReader{}, FramerOptions{}).Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

// TestFramerShrinks checks that a buffer grown for a long line is given back.
func TestFramerShrinks(t *testing.T) {
	in := strings.Repeat("z", 5000) + "\nshort\n"
	f := NewFramer(&chunkReader{data: []byte(in), sizes: []int{1000}}, FramerOptions{MaxBytes: 10000, BufferSize: 512})
	for {
		_, err := f.Next()
		if err != nil {
			break
		}
	}
	if len(f.buf) != 512 {
		t.Errorf("buffer is %d bytes, want 512", len(f.buf))
	}
}
