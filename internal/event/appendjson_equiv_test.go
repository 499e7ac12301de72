package event

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

func refAppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func TestZZEquiv(t *testing.T) {
	alpha := []byte("abc \"\\\n\t\x01\x1f\x7f\x80\xff é€😀/}{~ ")
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300000; n++ {
		l := r.IntN(40)
		b := make([]byte, l)
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = alpha[r.IntN(len(alpha))]
			}
		}
		s := string(b)
		if got, want := string(AppendJSONString(nil, s)), string(refAppendJSONString(nil, s)); got != want {
			t.Fatalf("%q: got %q want %q", s, got, want)
		}
	}
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("aaaaaaaaaaaaaaaa")
			b[pos] = byte(c)
			s := string(b)
			if got, want := string(AppendJSONString(nil, s)), string(refAppendJSONString(nil, s)); got != want {
				t.Fatalf("%q: got %q want %q", s, got, want)
			}
		}
	}
}
