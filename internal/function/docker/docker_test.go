package docker

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"field: \"\"", "field"},
		{"target: .x", "target"},
		{"key: \"%{\"", "key"},
		{"max_bytes: 0", "max_bytes"},
		{"max_pending: -1", "max_pending"},
		{"flush_timeout: -5s", "flush_timeout"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	f, err := fntest.TryBuild(Spec, "join_partial: false\ntarget: c")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Function.(component.Flusher); ok {
		t.Error("a docker function without joining flushes")
	}
	out := f.Run(event.New(time.Now(), `{"log":"part","stream":"stdout","time":"2024-03-15T10:00:00Z"}`))
	if m, _ := out[0].GetString("c.message"); len(out) != 1 || m != "part" {
		t.Errorf("join_partial false: %v", out)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		msg     string
		partial bool
		attrs   int
	}{
		{`{"log":"hello\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, "hello", false, 0},
		{`{"log":"hello","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, "hello", true, 0},
		{`{"log":"a\\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, `a\n`, true, 0},
		{`{"log":"a\\r\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, `a\r`, false, 0},
		{`{"log":"a\r\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, "a", false, 0},
		{`{"log":"\t\n\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, "\t\n", false, 0},
		{`{"log":"x\n","log":"y\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, "y", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","attrs":{"a":"1","b":"2","a":"3"}}`, true, "x", false, 2},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","attrs":{}}`, true, "x", false, 0},
		{`{"log":"\ud800x\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, true, "\ufffdx", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","attrs":{"a":1}}`, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z",}`, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","n":01}`, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","n":[1,]}`, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","n":nul}`, false, "", false, 0},
		{`{"log":"x\u12","stream":"stdout","time":"2024-03-15T10:00:00Z"}`, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z"`, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout"`, false, "", false, 0},
		{`{}`, false, "", false, 0},
		{`[]`, false, "", false, 0},
		{``, false, "", false, 0},
		{`{"log":"x\n","stream":"stdout","time":"2024-03-15T10:00:00Z","deep":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false, "", false, 0},
	}
	for _, tt := range tests {
		l, ok := Parse(tt.in)
		if ok != tt.ok || ok && (l.Message != tt.msg || l.Partial != tt.partial || len(l.Attrs) != tt.attrs || l.Time.IsZero()) {
			t.Errorf("Parse(%s) = %+v %v, want %q partial %v", tt.in, l, ok, tt.msg, tt.partial)
		}
	}
	// The usual line, text and a final \n, allocates nothing.
	line := `{"log":"GET /health 200 12ms\n","stream":"stdout","time":"2024-03-15T11:22:33.444555666Z"}`
	if n := testing.AllocsPerRun(100, func() { Parse(line) }); n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

// FuzzParse checks Parse against encoding/json: on valid JSON both agree
// on whether it is a json-file line and on its values.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"log":"hello\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`,
		`{"log":"tab\there \"q\" \u00e9\ud83d\ude00\r\n","stream":"stderr","time":"2024-03-15T11:22:34+01:00"}`,
		` {"time":"2024-03-15T10:00:00.123Z","stream":"stdout","log":"part","attrs":{"tag":"web"},"x":[1,{"y":null}]} ` + "\n",
		`{"log":"\ud800\n","stream":"stdout","time":"2024-03-15T10:00:00Z"}`,
		`{"log":1}`, `garbage`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := Parse(s)
		if !json.Valid([]byte(s)) {
			return
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			if ok {
				t.Fatalf("Parse(%q) accepted what encoding/json rejects: %v", s, err)
			}
			return
		}
		logText, ok1 := m["log"].(string)
		stream, ok2 := m["stream"].(string)
		ts, ok3 := m["time"].(string)
		attrs, hasAttrs := m["attrs"]
		attrMap, ok4 := attrs.(map[string]any)
		for _, v := range attrMap {
			if _, isStr := v.(string); !isStr {
				ok4 = false
			}
		}
		tm, err := time.Parse(time.RFC3339Nano, ts)
		want := ok1 && ok2 && ok3 && (ok4 || !hasAttrs) && err == nil && strictTime(ts) && (stream == "stdout" || stream == "stderr")
		if want != ok {
			t.Fatalf("Parse(%q) ok = %v, encoding/json says %v", s, ok, want)
		}
		if !ok {
			return
		}
		msg := strings.TrimSuffix(strings.TrimSuffix(logText, "\n"), "\r")
		if !strings.HasSuffix(logText, "\n") {
			msg = logText
		}
		if l.Message != msg || l.Partial == strings.HasSuffix(logText, "\n") || l.Stream != stream || !l.Time.Equal(tm) || len(l.Attrs) != len(attrMap) {
			t.Fatalf("Parse(%q) = %+v, encoding/json: %q %q %v %v", s, l, logText, stream, tm, attrMap)
		}
		for _, a := range l.Attrs {
			if attrMap[a.Key] != a.Value {
				t.Fatalf("attr %s = %q, want %q", a.Key, a.Value, attrMap[a.Key])
			}
		}
	})
}

// strictTime reports whether ts is in RFC 3339's grammar (time.Parse also
// takes one-digit hours).
func strictTime(ts string) bool {
	return len(ts) >= 20 && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' && (ts[len(ts)-1] == 'Z' || ts[len(ts)-3] == ':')
}

func benchEvent(line string) event.Event {
	ev := event.NewSized(time.Now(), 8)
	ev.AppendField("message", event.String(line))
	ev.AppendField("log.file.path", event.String("/var/lib/docker/containers/0f0e1d/0f0e1d-json.log"))
	return ev
}

// BenchmarkDocker measures complete lines (nothing held), lines with
// escapes and attributes, and a message of three lines.
func BenchmarkDocker(b *testing.B) {
	run := func(b *testing.B, config string, lines ...string) {
		f := fntest.Build(b, Spec, config)
		evs := make([]event.Event, len(lines))
		for i, l := range lines {
			evs[i] = benchEvent(l)
		}
		fntest.BenchMessage(b, f, evs, TagFailure, TagTruncated)
	}
	b.Run("full", func(b *testing.B) {
		run(b, "", `{"log":"GET /api/v1/orders 200 12ms user=42 trace=5f2c\n","stream":"stdout","time":"2024-03-15T11:22:33.444555666Z"}`)
	})
	b.Run("escapes_attrs", func(b *testing.B) {
		run(b, "", `{"log":"{\"level\":\"info\",\"msg\":\"order placed\",\"id\":42}\n","stream":"stdout","attrs":{"tag":"shop/checkout"},"time":"2024-03-15T11:22:33.444555666Z"}`)
	})
	b.Run("join3", func(b *testing.B) {
		run(b, "",
			`{"log":"`+strings.Repeat("a", 100)+`","stream":"stdout","time":"2024-03-15T11:22:33.1Z"}`,
			`{"log":"`+strings.Repeat("b", 100)+`","stream":"stdout","time":"2024-03-15T11:22:33.2Z"}`,
			`{"log":"`+strings.Repeat("c", 100)+`\n","stream":"stdout","time":"2024-03-15T11:22:33.3Z"}`)
	})
}
