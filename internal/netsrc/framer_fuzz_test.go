package netsrc

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func readSizes(seed []byte) []int {
	sizes := make([]int, len(seed))
	for i, b := range seed {
		sizes[i] = int(b) + 1
	}
	return sizes
}

// referenceLines is the line framing spec written the slow, obvious way.
func referenceLines(data []byte, maxBytes int) []gotFrame {
	var out []gotFrame
	parts := bytes.Split(data, []byte{'\n'})
	for _, p := range parts {
		p = bytes.TrimSuffix(p, []byte{'\r'})
		switch {
		case len(p) > maxBytes:
			out = append(out, trunc(string(p[:maxBytes])))
		case len(p) > 0:
			out = append(out, ok(string(p)))
		}
	}
	return out
}

// FuzzFramerLines checks the line framer against referenceLines for any
// input, line limit, buffer size and split of the input into reads.
func FuzzFramerLines(f *testing.F) {
	f.Add([]byte("a\nbb\r\nccc"), uint16(2), uint8(16), []byte{1, 2, 3})
	f.Add([]byte("hello world\n\n\r\nx\r\r\n"), uint16(5), uint8(0), []byte{0})
	f.Add([]byte(strings.Repeat("y", 300)+"\nz"), uint16(100), uint8(8), []byte{63, 7})
	f.Add([]byte("abcde\r\nz\n"), uint16(5), uint8(8), []byte{5, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte, maxBytes uint16, bufSize uint8, sizes []byte) {
		maxB := int(maxBytes%2048) + 1
		got, _, total := readAll(t, &chunkReader{data: data, sizes: readSizes(sizes)},
			FramerOptions{MaxBytes: maxB, BufferSize: int(bufSize) + 1})
		want := referenceLines(data, maxB)
		if !equalFrames(got, want) {
			t.Fatalf("max %d sizes %v\n got %+v\nwant %+v", maxB, sizes, got, want)
		}
		if total.Bytes != len(data) {
			t.Fatalf("Bytes = %d, want %d", total.Bytes, len(data))
		}
		nTrunc := 0
		for _, g := range got {
			if g.truncated {
				nTrunc++
			}
		}
		if total.Oversized != nTrunc {
			t.Fatalf("Oversized = %d, truncated frames = %d", total.Oversized, nTrunc)
		}
	})
}

// FuzzFramerOctets feeds arbitrary bytes to the auto-detecting framer and
// checks invariants: it terminates, accounts for every byte read, never
// returns an empty or over-long frame, and every frame is a piece of the
// input.
func FuzzFramerOctets(f *testing.F) {
	f.Add([]byte("5 hello5 world"), uint16(100), uint8(16), []byte{1})
	f.Add([]byte("11 hello\nworld3 abc\n"), uint16(4), uint8(8), []byte{2, 3})
	f.Add([]byte("5 hello12x oops\nnext\n"), uint16(100), uint8(0), []byte{0})
	f.Add([]byte("999999999 aaaa"), uint16(3), uint8(4), []byte{1, 1})
	f.Add([]byte("<13>1 - - - - - - hi\n"), uint16(100), uint8(64), []byte{})
	f.Fuzz(func(t *testing.T, data []byte, maxBytes uint16, bufSize uint8, sizes []byte) {
		maxB := int(maxBytes%2048) + 1
		got, _, total := readAll(t, &chunkReader{data: data, sizes: readSizes(sizes)},
			FramerOptions{MaxBytes: maxB, OctetCounting: true, BufferSize: int(bufSize) + 1})
		if total.Bytes != len(data) {
			t.Fatalf("Bytes = %d, want %d", total.Bytes, len(data))
		}
		sum := 0
		for _, g := range got {
			if len(g.text) == 0 || len(g.text) > maxB {
				t.Fatalf("frame of %d bytes (max %d)", len(g.text), maxB)
			}
			if !bytes.Contains(data, []byte(g.text)) {
				t.Fatalf("frame %q is not part of the input", g.text)
			}
			sum += len(g.text)
		}
		if sum > len(data) {
			t.Fatalf("frames hold %d bytes, input has %d", sum, len(data))
		}
		if len(got) > len(data)/2+1 {
			t.Fatalf("%d frames from %d bytes", len(got), len(data))
		}
	})
}

// FuzzOctetRoundTrip frames messages with octet counting and checks that the
// framer gives exactly them back, however the stream is split into reads.
func FuzzOctetRoundTrip(f *testing.F) {
	f.Add([]byte("hello\x00world\n\x00\x00multi\nline"), uint16(100), []byte{3})
	f.Add([]byte("abcdefgh\x00ij"), uint16(4), []byte{1})
	f.Fuzz(func(t *testing.T, data []byte, maxBytes uint16, sizes []byte) {
		maxB := int(maxBytes%2048) + 1
		var stream []byte
		var want []gotFrame
		for _, msg := range bytes.Split(data, []byte{0}) {
			stream = strconv.AppendInt(stream, int64(len(msg)), 10)
			stream = append(stream, ' ')
			stream = append(stream, msg...)
			if len(msg) > maxB {
				want = append(want, trunc(string(msg[:maxB])))
				continue
			}
			if m := bytes.TrimSuffix(msg, []byte{'\n'}); len(m) < len(msg) {
				msg = bytes.TrimSuffix(m, []byte{'\r'})
			}
			if len(msg) > 0 {
				want = append(want, ok(string(msg)))
			}
		}
		got, _, total := readAll(t, &chunkReader{data: stream, sizes: readSizes(sizes)},
			FramerOptions{MaxBytes: maxB, OctetCounting: true, BufferSize: 32})
		if !equalFrames(got, want) {
			t.Fatalf("stream %q\n got %+v\nwant %+v", stream, got, want)
		}
		if total.FramingErrors != 0 {
			t.Fatalf("FramingErrors = %d", total.FramingErrors)
		}
	})
}
