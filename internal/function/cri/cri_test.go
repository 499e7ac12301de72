package cri

import (
	"fmt"
	"strings"
	"sync"
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
		{"target: \"@timestamp\"", "target"},
		{"target: a.", "target"},
		{"key: \"%{unclosed\"", "key"},
		{"max_bytes: 0", "max_bytes"},
		{"max_bytes: 65MiB", "max_bytes"},
		{"max_pending: 0", "max_pending"},
		{"flush_timeout: -1s", "flush_timeout"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "unknown: 1"); err == nil {
		t.Error("unknown key accepted")
	}
	f, err := fntest.TryBuild(Spec, "join_partial: false\ntarget: c\nkey: \"%{a}\"\nmax_bytes: 64MiB\nmax_pending: 1\nflush_timeout: 0s")
	if err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	if _, ok := f.Function.(component.Flusher); ok {
		t.Error("a cri function without joining flushes")
	}
	f = fntest.Build(t, Spec, "")
	if fl, ok := f.Function.(component.Flusher); !ok || fl.FlushInterval() != time.Second {
		t.Errorf("default cri function: flusher %v", ok)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		stream  string
		partial bool
		msg     string
	}{
		{"2016-10-06T00:17:09.669794202Z stdout F log content 1", true, "stdout", false, "log content 1"},
		{"2016-10-06T00:17:09.669794202Z stderr P partial \n", true, "stderr", true, "partial "},
		{"2016-10-06T00:17:09Z stdout F", true, "stdout", false, ""},
		{"2016-10-06T00:17:09Z stdout P:x:y msg", true, "stdout", true, "msg"},
		{"2016-10-06T00:17:09Z stdout F:x", true, "stdout", false, ""},
		{"2016-10-06T00:17:09Z stdout F\tmsg", false, "", false, ""},
		{"2016-10-06T00:17:09Z stdout ", false, "", false, ""},
		{"2016-10-06T00:17:09Z stdout", false, "", false, ""},
		{"2016-10-06T00:17:09Z", false, "", false, ""},
		{"2016-10-06T00:17:09Z  stdout F x", false, "", false, ""},
		{"2016-10-06T00:17:09 stdout F x", false, "", false, ""},
		{"", false, "", false, ""},
	}
	for _, tt := range tests {
		l, ok := Parse(tt.in)
		if ok != tt.ok || ok && (l.Stream != tt.stream || l.Partial != tt.partial || l.Message != tt.msg || l.Time.IsZero()) {
			t.Errorf("Parse(%q) = %+v %v", tt.in, l, ok)
		}
	}
}

// TestFlush checks the timeout and final flushes: held messages idle for
// flush_timeout are passed on tagged, oldest first; final passes on all.
func TestFlush(t *testing.T) {
	f := fntest.Build(t, Spec, "flush_timeout: 10s")
	j := f.Function.(*joinFn).join
	now := time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)
	j.now = func() time.Time { return now }
	line := func(path, text string) event.Event {
		ev := event.New(now, "2024-03-15T10:00:00Z stdout P "+text)
		ev.SetString("log.file.path", path)
		return ev
	}
	if out := f.Run(line("/a", "a1 ")); len(out) != 0 {
		t.Fatalf("partial line passed: %v", out)
	}
	now = now.Add(5 * time.Second)
	f.Run(line("/b", "b1 "))
	var got []string
	emit := func(ev event.Event) {
		if !ev.HasTag(TagTruncated) {
			t.Errorf("flushed event not tagged: %s", fntest.JSON(&ev))
		}
		got = append(got, ev.Message())
	}
	f.Function.(component.Flusher).Flush(now.Add(4*time.Second), false, emit)
	if len(got) != 0 || j.Pending() != 2 {
		t.Fatalf("flushed %v before the timeout, %d pending", got, j.Pending())
	}
	f.Function.(component.Flusher).Flush(now.Add(5*time.Second), false, emit)
	if strings.Join(got, "|") != "a1 " || j.Pending() != 1 {
		t.Fatalf("flushed %q, %d pending; want a1 and 1", got, j.Pending())
	}
	// A final flush takes all, oldest first.
	f.Run(line("/c", "c1 "))
	f.Function.(component.Flusher).Flush(now, true, emit)
	if strings.Join(got, "|") != "a1 |b1 |c1 " || j.Pending() != 0 {
		t.Fatalf("final flush: %q, %d pending", got, j.Pending())
	}
	// The flushed event comes back through the routes: untouched.
	ev := event.New(now, "a1 ")
	ev.AddTag(TagTruncated)
	if out := f.Run(ev); len(out) != 1 || out[0].Message() != "a1 " || f.Failures.Value() != 0 {
		t.Errorf("returning event: %v, %d failures", out, f.Failures.Value())
	}
}

// TestNoTimeout checks that flush_timeout 0 holds messages until the final
// flush.
func TestNoTimeout(t *testing.T) {
	f := fntest.Build(t, Spec, "flush_timeout: 0s")
	f.Run(event.New(time.Now(), "2024-03-15T10:00:00Z stdout P held"))
	fl := f.Function.(component.Flusher)
	n := 0
	fl.Flush(time.Now().Add(time.Hour), false, func(event.Event) { n++ })
	if n != 0 {
		t.Fatal("flushed without a timeout")
	}
	fl.Flush(time.Now(), true, func(event.Event) { n++ })
	if n != 1 {
		t.Fatalf("final flush emitted %d", n)
	}
}

// TestConcurrent joins the lines of many files from several goroutines,
// each goroutine owning some files (as sources do); run with -race.
func TestConcurrent(t *testing.T) {
	f := fntest.Build(t, Spec, "max_pending: 8")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []string
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				path := fmt.Sprintf("/g%d/f%d", g, i%3)
				var out []event.Event
				for k, tag := range []string{"P", "P", "F"} {
					ev := event.New(time.Now(), fmt.Sprintf("2024-03-15T10:00:00Z stdout %s %d.%d;", tag, i, k))
					ev.SetString("log.file.path", path)
					out = append(out, f.Run(ev)...)
				}
				mu.Lock()
				for _, ev := range out {
					got = append(got, ev.Message())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != 800 {
		t.Fatalf("%d events, want 800", len(got))
	}
	for _, m := range got {
		var i int
		if _, err := fmt.Sscanf(m, "%d.0;", &i); err != nil || m != fmt.Sprintf("%d.0;%d.1;%d.2;", i, i, i) {
			t.Fatalf("joined %q", m)
		}
	}
}

// FuzzParse checks that Parse never panics and that what it accepts is a
// CRI line: the message is the end of the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2016-10-06T00:17:09.669794202Z stdout F log content 1",
		"2021-02-03T10:11:12.123456789+01:00 stderr P part\n",
		"2016-10-06T00:17:09Z stdout F:a:b",
		"2016-10-06T00:17:09Z stdout F",
		"garbage", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := Parse(s)
		if !ok {
			return
		}
		if l.Stream != "stdout" && l.Stream != "stderr" || l.Time.Location() != time.UTC {
			t.Fatalf("Parse(%q) = %+v", s, l)
		}
		if !strings.HasSuffix(strings.TrimSuffix(s, "\n"), l.Message) {
			t.Fatalf("Parse(%q): message %q is not the end of the line", s, l.Message)
		}
		tag := map[bool]string{true: "P", false: "F"}[l.Partial]
		prefix := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "\n"), l.Message), " ")
		if f := strings.Split(prefix, " "); len(f) != 3 || f[1] != l.Stream || !strings.HasPrefix(f[2], tag) {
			t.Fatalf("Parse(%q) = %+v from %q", s, l, prefix)
		}
	})
}

// FuzzJoin feeds lines of a few files and streams in arbitrary order and
// sizes through the function and checks that no text is lost or
// duplicated: the messages of each file and stream, in order, spell its
// lines' texts in order, and a message only ends early when tagged.
func FuzzJoin(f *testing.F) {
	f.Add([]byte{0x01, 0x82, 0x43, 0x04, 0xff, 0x10}, uint8(8), uint8(2))
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x00}, uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, ops []byte, maxBytes, maxPending uint8) {
		fn := fntest.Build(t, Spec, fmt.Sprintf("max_bytes: %d\nmax_pending: %d\nflush_timeout: 0s", int(maxBytes)+1, int(maxPending%4)+1))
		sent := map[string]*strings.Builder{}
		got := map[string]*strings.Builder{}
		add := func(m map[string]*strings.Builder, k, s string) {
			if m[k] == nil {
				m[k] = &strings.Builder{}
			}
			m[k].WriteString(s)
		}
		collect := func(ev event.Event) {
			path, _ := ev.GetString("log.file.path")
			stream, _ := ev.GetString("stream")
			add(got, path+"/"+stream, ev.Message())
		}
		for i, b := range ops {
			path := fmt.Sprintf("/f%d", b&3)
			stream := [2]string{"stdout", "stderr"}[b>>2&1]
			tag := "F"
			if b&0x80 != 0 {
				tag = "P"
			}
			text := fmt.Sprintf("<%d:%s>", i, strings.Repeat("x", int(b>>3&7)))
			add(sent, path+"/"+stream, text)
			ev := event.New(time.Unix(int64(i), 0), "2024-03-15T10:00:00Z "+stream+" "+tag+" "+text)
			ev.SetString("log.file.path", path)
			for _, out := range fn.Run(ev) {
				collect(out)
			}
		}
		fn.Function.(component.Flusher).Flush(time.Now(), true, collect)
		if len(sent) != len(got) {
			t.Fatalf("%d keys sent, %d out", len(sent), len(got))
		}
		for k, s := range sent {
			if got[k] == nil || got[k].String() != s.String() {
				t.Fatalf("%s: sent %q, got %q", k, s.String(), got[k])
			}
		}
		if n := fn.Function.(*joinFn).join.Pending(); n != 0 {
			t.Fatalf("%d pending after the final flush", n)
		}
	})
}

// benchApply measures the function on the lines of one message (see
// fntest.BenchMessage). setup, when not nil, runs first.
func benchApply(b *testing.B, config string, setup func(*fntest.Func), lines ...string) {
	f := fntest.Build(b, Spec, config)
	if setup != nil {
		setup(f)
	}
	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		evs[i] = benchEvent(l)
	}
	fntest.BenchMessage(b, f, evs, TagFailure, TagTruncated)
}

func benchEvent(line string) event.Event {
	ev := event.NewSized(time.Now(), 8)
	ev.AppendField("message", event.String(line))
	ev.AppendField("log.file.path", event.String("/var/log/pods/shop_checkout-7d9f8c6b5-x2x9z_0f0e/app/0.log"))
	return ev
}

// BenchmarkCRI measures complete lines (the common case: nothing held),
// complete lines while another file has a partial line held (the key is
// rendered and looked up), a message of three lines (P, P, F), and complete
// lines without joining.
func BenchmarkCRI(b *testing.B) {
	const line = "2024-03-15T11:22:33.444555666Z stdout F GET /api/v1/orders 200 12ms user=42 trace=5f2c"
	b.Run("full", func(b *testing.B) { benchApply(b, "", nil, line) })
	b.Run("full/others_pending", func(b *testing.B) {
		benchApply(b, "", func(f *fntest.Func) {
			other := benchEvent("2024-03-15T11:22:33Z stdout P held")
			other.SetString("log.file.path", "/other")
			f.Run(other)
		}, line)
	})
	b.Run("join3", func(b *testing.B) {
		benchApply(b, "", nil,
			"2024-03-15T11:22:33.1Z stdout P "+strings.Repeat("a", 100),
			"2024-03-15T11:22:33.2Z stdout P "+strings.Repeat("b", 100),
			"2024-03-15T11:22:33.3Z stdout F "+strings.Repeat("c", 100))
	})
	b.Run("no_join", func(b *testing.B) { benchApply(b, "join_partial: false", nil, line) })
}
