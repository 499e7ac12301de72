package file

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2025, 3, 14, 10, 20, 30, 0, time.UTC)

// mkEvent returns an event at t0 with message msg and the given key/value
// string fields.
func mkEvent(msg string, kv ...string) event.Event {
	ev := event.New(t0, msg)
	for i := 0; i+1 < len(kv); i += 2 {
		ev.SetString(kv[i], kv[i+1])
	}
	return ev
}

func mkBatch(evs ...event.Event) *event.Batch {
	b := event.NewBatch("test")
	b.Events = append(b.Events, evs...)
	return b
}

// newTestSink builds a file sink whose data directory is a fresh temp dir.
func newTestSink(t *testing.T, mutate func(c *Config)) (*sink, string) {
	t.Helper()
	c := NewConfig().(*Config)
	c.Path = "out.ndjson"
	c.IdleTimeout = 0
	if mutate != nil {
		mutate(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	env := componenttest.Env(t, "file", nil)
	s, err := newSink(c, env)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, env.DataDir
}

func write(t *testing.T, s *sink, evs ...event.Event) error {
	t.Helper()
	b := mkBatch(evs...)
	defer b.Release()
	return s.Write(context.Background(), b)
}

func mustWrite(t *testing.T, s *sink, evs ...event.Event) {
	t.Helper()
	if err := write(t, s, evs...); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		field  string // "" when valid
	}{
		{"defaults with a path", func(c *Config) {}, ""},
		{"missing path", func(c *Config) { c.Path = "" }, "path"},
		{"unclosed template", func(c *Config) { c.Path = "/x/%{ns.log" }, "path"},
		{"directory path", func(c *Config) { c.Path = "/var/log/" }, "path"},
		{"bad format", func(c *Config) { c.Format = "xml" }, "format"},
		{"bad compression", func(c *Config) { c.Compression = "zstd" }, "compression"},
		{"bad level", func(c *Config) { c.CompressionLevel = 0 }, "compression_level"},
		{"negative max_bytes", func(c *Config) { c.Rotate.MaxBytes = -1 }, "rotate.max_bytes"},
		{"tiny interval", func(c *Config) { c.Rotate.Interval = config.Duration(time.Millisecond) }, "rotate.interval"},
		{"negative keep", func(c *Config) { c.Rotate.Keep = -1 }, "rotate.keep"},
		{"zero max_open_files", func(c *Config) { c.MaxOpenFiles = 0 }, "max_open_files"},
		{"negative idle_timeout", func(c *Config) { c.IdleTimeout = -1 }, "idle_timeout"},
		{"text gzip rotated", func(c *Config) {
			c.Format, c.Compression = "text", "gzip"
			c.Rotate = Rotate{MaxBytes: 1 << 20, Interval: config.Duration(time.Hour), Keep: 3}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig().(*Config)
			c.Path = "/var/log/sluice/%{kubernetes.namespace}.ndjson"
			tt.mutate(c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *component.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("error = %v, want a FieldError for %q", err, tt.field)
			}
		})
	}
}

func TestTemplatePaths(t *testing.T) {
	s, dir := newTestSink(t, func(c *Config) {
		c.Path = "%{kubernetes.namespace}/%{+yyyy-MM-dd}.ndjson"
		c.Format = "text"
	})
	mustWrite(t, s,
		mkEvent("a1", "kubernetes.namespace", "alpha"),
		mkEvent("a2", "kubernetes.namespace", "alpha"),
		mkEvent("b1", "kubernetes.namespace", "beta"),
		mkEvent("a3", "kubernetes.namespace", "alpha"),
		mkEvent("c1", "kubernetes.namespace", "gamma"),
		mkEvent("b2", "kubernetes.namespace", "beta"),
	)
	mustWrite(t, s, mkEvent("a4", "kubernetes.namespace", "alpha"))
	want := map[string]string{
		"alpha": "a1\na2\na3\na4\n",
		"beta":  "b1\nb2\n",
		"gamma": "c1\n",
	}
	for ns, content := range want {
		if got := readFile(t, filepath.Join(dir, ns, "2025-03-14.ndjson")); got != content {
			t.Errorf("%s: got %q, want %q", ns, got, content)
		}
	}
}

func TestFormats(t *testing.T) {
	ev := mkEvent("hello \"world\"", "log.level", "info", "kubernetes.pod.name", "web-1", "_route", "r1", "__receive_time", "x")
	noMsg := event.Event{Time: t0}
	noMsg.SetString("log.level", "warn")
	tests := []struct {
		format string
		want   string
	}{
		{"json", `{"@timestamp":"2025-03-14T10:20:30Z","kubernetes":{"pod":{"name":"web-1"}},"log":{"level":"info"},"message":"hello \"world\""}` + "\n" +
			`{"@timestamp":"2025-03-14T10:20:30Z","log":{"level":"warn"}}` + "\n"},
		{"text", "hello \"world\"\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			s, dir := newTestSink(t, func(c *Config) { c.Format = tt.format })
			mustWrite(t, s, ev, noMsg)
			got := readFile(t, filepath.Join(dir, "out.ndjson"))
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Contains(got, "_route") || strings.Contains(got, "receive_time") {
				t.Fatalf("internal fields leaked: %s", got)
			}
		})
	}
}

// lines returns n events with messages "line-000".. so every text line is
// 9 bytes.
func lines(from, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = mkEvent(fmt.Sprintf("line-%03d", from+i))
	}
	return evs
}

func TestRotateBySize(t *testing.T) {
	tests := []struct {
		name  string
		keep  int
		files []string // oldest first
	}{
		{"keep all", 0, []string{"out.log.3", "out.log.2", "out.log.1", "out.log"}},
		{"keep 2", 2, []string{"out.log.2", "out.log.1", "out.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newTestSink(t, func(c *Config) {
				c.Path = "out.log"
				c.Format = "text"
				c.Rotate.MaxBytes = 40 // four 9-byte lines per file
				c.Rotate.Keep = tt.keep
			})
			// 6 + 5 + 3 lines = 14 lines: files of 4, 4, 4, 2 lines.
			mustWrite(t, s, lines(0, 6)...)
			mustWrite(t, s, lines(6, 5)...)
			mustWrite(t, s, lines(11, 3)...)
			var all strings.Builder
			for _, name := range tt.files {
				got := readFile(t, filepath.Join(dir, name))
				if len(got) > 40 {
					t.Errorf("%s is %d bytes, over max_bytes", name, len(got))
				}
				all.WriteString(got)
			}
			var want strings.Builder
			skip := 0
			if tt.keep == 2 {
				skip = 4 // the oldest file was deleted
			}
			for i := skip; i < 14; i++ {
				fmt.Fprintf(&want, "line-%03d\n", i)
			}
			if all.String() != want.String() {
				t.Fatalf("contents oldest first:\n%s\nwant\n%s", all.String(), want.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "out.log.4")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("unexpected out.log.4: %v", err)
			}
			if tt.keep == 2 {
				if _, err := os.Stat(filepath.Join(dir, "out.log.3")); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("out.log.3 should have been deleted: %v", err)
				}
			}
		})
	}
}

func TestRotateOversizedLine(t *testing.T) {
	s, dir := newTestSink(t, func(c *Config) {
		c.Path = "out.log"
		c.Format = "text"
		c.Rotate.MaxBytes = 10
	})
	mustWrite(t, s, mkEvent("a"), mkEvent(strings.Repeat("x", 25)), mkEvent("b"))
	want := map[string]string{"out.log.2": "a\n", "out.log.1": strings.Repeat("x", 25) + "\n", "out.log": "b\n"}
	for name, content := range want {
		if got := readFile(t, filepath.Join(dir, name)); got != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
}

func TestRotateByInterval(t *testing.T) {
	s, dir := newTestSink(t, func(c *Config) {
		c.Path = "out.log"
		c.Format = "text"
		c.Rotate.Interval = config.Duration(time.Hour)
	})
	// Start from the real clock so that the file's mtime (read when it is
	// opened again) is consistent with the fake one.
	base := time.Now().Truncate(time.Hour)
	clock := base.Add(10 * time.Minute)
	s.now = func() time.Time { return clock }

	mustWrite(t, s, mkEvent("one"))
	clock = base.Add(50 * time.Minute)
	mustWrite(t, s, mkEvent("two"))
	clock = base.Add(65 * time.Minute) // past the top of the hour
	mustWrite(t, s, mkEvent("three"))
	clock = base.Add(70 * time.Minute)
	mustWrite(t, s, mkEvent("four"))

	if got := readFile(t, filepath.Join(dir, "out.log.1")); got != "one\ntwo\n" {
		t.Errorf("out.log.1 = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "out.log")); got != "three\nfour\n" {
		t.Errorf("out.log = %q", got)
	}
}

// gunzip decodes a whole (possibly multi-member) gzip file with the standard
// library, independently of the writer's implementation.
func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := stdgzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: invalid gzip stream: %v", path, err)
	}
	return string(b)
}

func TestGzipRotateAndClose(t *testing.T) {
	s, dir := newTestSink(t, func(c *Config) {
		c.Path = "out.ndjson.gz"
		c.Format = "text"
		c.Compression = "gzip"
		c.Rotate.MaxBytes = 60 // about two batches' members per file
	})
	var want strings.Builder
	for i := range 6 {
		evs := lines(i*3, 3)
		mustWrite(t, s, evs...)
		for _, ev := range evs {
			want.WriteString(ev.Message() + "\n")
		}
		// Valid before Close, too.
		gunzip(t, filepath.Join(dir, "out.ndjson.gz"))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "out.ndjson*.gz"))
	if len(names) < 3 {
		t.Fatalf("expected several rotated files, got %v", names)
	}
	// Oldest first: out.ndjson.N.gz ... out.ndjson.1.gz, out.ndjson.gz.
	var all strings.Builder
	for i := len(names) - 1; i >= 1; i-- {
		all.WriteString(gunzip(t, filepath.Join(dir, fmt.Sprintf("out.ndjson.%d.gz", i))))
	}
	all.WriteString(gunzip(t, filepath.Join(dir, "out.ndjson.gz")))
	if all.String() != want.String() {
		t.Fatalf("decompressed:\n%s\nwant\n%s", all.String(), want.String())
	}
}

func TestMaxOpenFiles(t *testing.T) {
	s, dir := newTestSink(t, func(c *Config) {
		c.Path = "%{ns}.log"
		c.Format = "text"
		c.MaxOpenFiles = 2
	})
	mustWrite(t, s, mkEvent("a1", "ns", "a"), mkEvent("b1", "ns", "b"), mkEvent("c1", "ns", "c"))
	if n := len(s.files); n > 2 {
		t.Fatalf("%d files open, want at most 2", n)
	}
	if _, open := s.files[filepath.Join(dir, "a.log")]; open {
		t.Fatalf("a.log (least recently used) should have been closed")
	}
	mustWrite(t, s, mkEvent("a2", "ns", "a"), mkEvent("d1", "ns", "d"))
	if n := len(s.files); n > 2 {
		t.Fatalf("%d files open, want at most 2", n)
	}
	for name, want := range map[string]string{"a": "a1\na2\n", "b": "b1\n", "c": "c1\n", "d": "d1\n"} {
		if got := readFile(t, filepath.Join(dir, name+".log")); got != want {
			t.Errorf("%s.log = %q, want %q", name, got, want)
		}
	}
}

func TestIdleTimeout(t *testing.T) {
	s, _ := newTestSink(t, func(c *Config) { c.IdleTimeout = config.Duration(20 * time.Millisecond) })
	mustWrite(t, s, mkEvent("x"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.files)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("idle file still open after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Writing again reopens and appends.
	mustWrite(t, s, mkEvent("y"))
}

func TestPathChecks(t *testing.T) {
	tests := []struct {
		name      string
		tmpl      string // relative to a temp dir when it starts with "T/"
		value     string
		permanent bool
		file      string // expected file, relative to the temp dir, when accepted
	}{
		{"plain", "T/logs/%{ns}/app.log", "web", false, "logs/web/app.log"},
		{"dotdot escapes", "T/logs/%{ns}/app.log", "../../etc", true, ""},
		{"dotdot to sibling", "T/logs/%{ns}/app.log", "../secrets", true, ""},
		{"dotdot stays inside", "T/logs/%{ns}/app.log", "a/../b", false, "logs/b/app.log"},
		{"empty rendering", "%{ns}", "", true, ""},
		{"directory rendering", "T/logs/%{ns}", "web/", true, ""},
		{"absolute value under a relative template", "%{ns}.log", "/etc/passwd", false, "data/etc/passwd.log"},
		{"relative dotdot", "%{ns}.log", "../../x", true, ""},
		{"nul byte", "T/logs/%{ns}.log", "a\x00b", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			c := NewConfig().(*Config)
			c.Path = strings.Replace(tt.tmpl, "T/", tmp+"/", 1)
			c.Format = "text"
			c.IdleTimeout = 0
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			env := componenttest.Env(t, "file", nil)
			env.DataDir = filepath.Join(tmp, "data")
			s, err := newSink(c, env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			err = write(t, s, mkEvent("bad", "ns", tt.value), mkEvent("good", "ns", "ok"))
			if tt.permanent {
				if !component.IsPermanent(err) {
					t.Fatalf("error = %v, want a permanent error", err)
				}
				if !strings.Contains(err.Error(), "rejected 1 of 2 events") {
					t.Fatalf("error does not say what was rejected: %v", err)
				}
				t.Logf("error: %v", err)
				// The valid event was still written.
				okPath := strings.Replace(strings.Replace(tt.tmpl, "T/", tmp+"/", 1), "%{ns}", "ok", 1)
				if !filepath.IsAbs(okPath) {
					okPath = filepath.Join(env.DataDir, okPath)
				}
				if got := readFile(t, okPath); got != "good\n" {
					t.Fatalf("valid event: got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			if got := readFile(t, filepath.Join(tmp, tt.file)); got != "bad\n" {
				t.Fatalf("%s = %q", tt.file, got)
			}
		})
	}
}

func TestErrorClassification(t *testing.T) {
	t.Run("missing directory without mkdir is retryable", func(t *testing.T) {
		s, dir := newTestSink(t, func(c *Config) {
			c.Path = "sub/out.log"
			c.Mkdir = false
		})
		err := write(t, s, mkEvent("x"))
		if err == nil || component.IsPermanent(err) {
			t.Fatalf("error = %v, want a retryable error", err)
		}
		if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, s, mkEvent("x"))
	})
	t.Run("file in place of a directory is permanent", func(t *testing.T) {
		s, dir := newTestSink(t, func(c *Config) { c.Path = "%{ns}/out.log" })
		if err := os.WriteFile(filepath.Join(dir, "blocker"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		err := write(t, s, mkEvent("x", "ns", "blocker"))
		if !component.IsPermanent(err) {
			t.Fatalf("error = %v, want permanent", err)
		}
	})
	t.Run("write after close", func(t *testing.T) {
		s, _ := newTestSink(t, nil)
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := write(t, s, mkEvent("x")); err == nil {
			t.Fatal("write after close succeeded")
		}
	})
}

func TestAppendsToExistingFile(t *testing.T) {
	s, dir := newTestSink(t, func(c *Config) { c.Format = "text" })
	path := filepath.Join(dir, "out.ndjson")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, mkEvent("new"))
	if got := readFile(t, path); got != "old\nnew\n" {
		t.Fatalf("got %q", got)
	}
}

func TestBytesOut(t *testing.T) {
	c := NewConfig().(*Config)
	c.Path, c.Format, c.IdleTimeout = "out.log", "text", 0
	env := componenttest.Env(t, "f1", nil)
	s, err := newSink(c, env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	mustWrite(t, s, mkEvent("12345"), mkEvent("678"))
	var buf bytes.Buffer
	fams, err := env.Metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "sluice_destination_bytes_out_total" {
			for _, m := range f.GetMetric() {
				fmt.Fprintf(&buf, "%v", m.GetCounter().GetValue())
			}
		}
	}
	if buf.String() != "10" {
		t.Fatalf("bytes out = %q, want 10", buf.String())
	}
}

func TestRelativeDataDir(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	for _, dataDir := range []string{".", "./data", "data/"} {
		c := NewConfig().(*Config)
		c.Path, c.Format, c.IdleTimeout = "%{ns}/out.log", "text", 0
		env := componenttest.Env(t, "file", nil)
		env.DataDir = dataDir
		s, err := newSink(c, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := write(t, s, mkEvent("x", "ns", "a")); err != nil {
			t.Fatalf("data dir %q: %v", dataDir, err)
		}
		s.Close(context.Background())
		if got := readFile(t, filepath.Join(tmp, dataDir, "a", "out.log")); got == "" {
			t.Fatalf("data dir %q: empty file", dataDir)
		}
	}
}
