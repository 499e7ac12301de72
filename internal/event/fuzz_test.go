package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzAppendJSON checks that any field names and values encode to valid
// JSON whose strings decode back to the input (invalid UTF-8 replaced).
func FuzzAppendJSON(f *testing.F) {
	f.Add("message", "hello \"world\"\n", "a.b.c", "x")
	f.Add("a", "\xff\x00<>&", "a.b", "\u2028")
	f.Add("", "", ".", "..")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		ev := Event{Time: time.Unix(1, 0)}
		ev.AppendField(k1, String(v1))
		ev.AppendField(k2, String(v2))
		out := AppendJSON(nil, &ev, true)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %q=%q %q=%q: %s", k1, v1, k2, v2, out)
		}
		s := AppendJSONString(nil, v1)
		var back string
		if err := json.Unmarshal(s, &back); err != nil {
			t.Fatalf("string %q: %v", v1, err)
		}
		var want strings.Builder
		for _, r := range v1 { // ranging replaces each invalid byte by U+FFFD, as the encoder does
			want.WriteRune(r)
		}
		if back != want.String() {
			t.Fatalf("round trip %q -> %q, want %q", v1, back, want.String())
		}
	})
}
