package lookup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// TestMain fails the package if a test leaves a goroutine behind (a
// reloader that Close did not stop, say).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestExample checks the documented example against a table with the
// columns it names (the example's own path does not exist here).
func TestExample(t *testing.T) {
	var items []map[string]any
	if err := yaml.Unmarshal([]byte(Spec.Example), &items); err != nil || len(items) != 1 || items[0]["type"] != Spec.Type {
		t.Fatalf("example is not one %s item: %v", Spec.Type, err)
	}
	delete(items[0], "type")
	items[0]["file"] = "testdata/networks.csv"
	y, err := yaml.Marshal(items[0])
	if err != nil {
		t.Fatal(err)
	}
	f := fntest.Build(t, Spec, string(y))
	out := f.Run(fntest.Event(t, `{"source": {"ip": "10.20.30.41"}}`))
	if got := fntest.JSON(&out[0]); !strings.Contains(got, `"network":{"team":"security","zone":"pci"}`) {
		t.Errorf("hit: %s", got)
	}
	out = f.Run(fntest.Event(t, `{"source": {"ip": "2001:db9::1"}}`))
	if got := fntest.JSON(&out[0]); !strings.Contains(got, `"network":{"zone":"internet"}`) || !strings.Contains(got, `"tags":["_lookup_miss"]`) {
		t.Errorf("miss: %s", got)
	}
}

// writeFile writes a file in dir and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "host,owner\nweb-01,web\n")
	files := map[string]string{
		"DIR":      dir,
		"GOOD":     good,
		"NOEXT":    writeFile(t, dir, "table.txt", "host,owner\n"),
		"EMPTY":    writeFile(t, dir, "empty.csv", ""),
		"RAGGED":   writeFile(t, dir, "ragged.csv", "host,owner\nweb-01,web\nweb-02\n"),
		"QUOTE":    writeFile(t, dir, "quote.csv", "host,owner\nweb-01,web\nweb-02,\"unterminated\n"),
		"DUPHDR":   writeFile(t, dir, "duphdr.csv", "host,owner,host\n"),
		"NOHDR":    writeFile(t, dir, "nohdr.csv", "\n\nhost,,owner\n"),
		"BADCIDR":  writeFile(t, dir, "nets.csv", "net,zone\n10.0.0.0/8,a\n\n10.0.0.300/8,b\n"),
		"BADRE":    writeFile(t, dir, "re.csv", "re,cat\n^ok$,a\n(unclosed,b\n"),
		"BADJSON":  writeFile(t, dir, "bad.json", "{\n  \"a\": 1,\n  \"b\": ,\n}\n"),
		"TRAILING": writeFile(t, dir, "trailing.json", "{\"a\": 1}\n{\"b\": 2}\n"),
		"SCALAR":   writeFile(t, dir, "scalar.json", "\n\n42\n"),
		"ARRAY":    writeFile(t, dir, "array.json", "[\n {\"id\": \"a\", \"v\": 1},\n {\"v\": 2}\n]\n"),
		"ARRNOOBJ": writeFile(t, dir, "arrnoobj.json", "[\n {\"id\": \"a\"},\n \"b\"\n]\n"),
		"ARRKEY":   writeFile(t, dir, "arrkey.json", "[\n {\"id\": [1]}\n]\n"),
		"OBJ":      writeFile(t, dir, "obj.json", "{\"a\": {\"x\": 1}}"),
		"TRUNC":    writeFile(t, dir, "trunc.json", "{\"a\": {\"x\": 1}"),
	}
	tests := []struct {
		name, yaml, key, want string
	}{
		{"no file", ``, "file", "is required"},
		{"missing file", `file: /nonexistent/hosts.csv`, "file", "no such file"},
		{"directory", `{file: $DIR, format: csv}`, "file", "is a directory"},
		{"bad format", `{file: $GOOD, format: xml}`, "format", "must be csv or json"},
		{"unknown extension", `file: $NOEXT`, "format", "cannot tell the format"},
		{"bad delimiter", `{file: $GOOD, delimiter: ";;"}`, "delimiter", "one character"},
		{"quote delimiter", `{file: $GOOD, delimiter: "\""}`, "delimiter", "one character"},
		{"delimiter with json", `{file: $OBJ, delimiter: ";"}`, "delimiter", "CSV files only"},
		{"bad match", `{file: $GOOD, match: fuzzy}`, "match", "exact, cidr, wildcard or regex"},
		{"empty field", `{file: $GOOD, field: ""}`, "field", "is required"},
		{"field and fields", `{file: $GOOD, field: a, fields: [b, c], key_columns: [host, owner]}`, "fields", "not both"},
		{"fields with cidr", `{file: $GOOD, match: cidr, fields: [b, c], key_columns: [host, owner]}`, "fields", "match: exact"},
		{"fields without key_columns", `{file: $GOOD, fields: [b, c]}`, "key_columns", "one column per entry"},
		{"key_column with fields", `{file: $GOOD, fields: [b], key_column: host}`, "key_column", "key_columns"},
		{"key_columns without fields", `{file: $GOOD, key_columns: [host]}`, "key_columns", "goes with fields"},
		{"empty output field", `{file: $GOOD, output_fields: [""]}`, "output_fields", "must not be empty"},
		{"empty rename", `{file: $GOOD, rename: {owner: ""}}`, "rename", "must not be empty"},
		{"empty default", `{file: $GOOD, default: {"": x}}`, "default", "must not be empty"},
		{"empty tag", `{file: $GOOD, tag_on_miss: [""]}`, "tag_on_miss", "must not be empty"},
		{"negative reload", `{file: $GOOD, reload_interval: -1s}`, "reload_interval", "negative"},
		{"zero max_bytes", `{file: $GOOD, max_bytes: 0}`, "max_bytes", "positive"},
		{"too big", `{file: $GOOD, max_bytes: 10}`, "file", "more than max_bytes (10)"},
		{"unknown key column", `{file: $GOOD, key_column: ip}`, "key_column", `good.csv:1: no column "ip" in the header row (columns: host, owner)`},
		{"unknown output column", `{file: $GOOD, output_fields: [team]}`, "output_fields", `no column "team"`},
		{"unknown rename column", `{file: $GOOD, rename: {team: x}}`, "rename", `no column "team" to rename`},
		{"empty csv", `file: $EMPTY`, "file", "empty.csv:1: the file is empty"},
		{"ragged csv", `file: $RAGGED`, "file", "ragged.csv:3: wrong number of fields"},
		{"unterminated quote", `file: $QUOTE`, "file", `quote.csv:3: column 22: extraneous or missing " in quoted-field`},
		{"duplicate header", `file: $DUPHDR`, "file", `duphdr.csv:1: column "host" appears twice`},
		{"unnamed column", `file: $NOHDR`, "file", "nohdr.csv:3: column 2 of the header row has no name"},
		{"bad cidr", `{file: $BADCIDR, match: cidr}`, "file", `nets.csv:4: invalid CIDR "10.0.0.300/8"`},
		{"bad regex", `{file: $BADRE, match: regex}`, "file", `re.csv:3: invalid regular expression "(unclosed"`},
		{"bad json", `file: $BADJSON`, "file", "bad.json:3: invalid character ','"},
		{"trailing json", `file: $TRAILING`, "file", "trailing.json:2: unexpected data after the table"},
		{"scalar json", `file: $SCALAR`, "file", "scalar.json:3: the file must hold a JSON object {key: value} or an array of objects, not a number"},
		{"truncated json", `file: $TRUNC`, "file", "trunc.json:1: unexpected end of file"},
		{"array without key_column", `file: $ARRAY`, "key_column", "set key_column"},
		{"array row without key", `{file: $ARRAY, key_column: id}`, "file", `array.json:3: the object has no key field "id"`},
		{"array of non-objects", `{file: $ARRNOOBJ, key_column: id}`, "file", "arrnoobj.json:3: the array must hold objects, not a string"},
		{"array composite key value", `{file: $ARRKEY, key_column: id}`, "file", `arrkey.json:2: key field "id" must be a string, number or boolean`},
		{"object with key_column", `{file: $OBJ, key_column: id}`, "key_column", "holds a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fntest.ExpectConfigError(t, Spec, os.Expand(tt.yaml, func(k string) string { return files[k] }), tt.key, tt.want)
		})
	}
	// And the good ones build.
	for _, y := range []string{
		`file: $GOOD`,
		`{file: $GOOD, format: csv, match: wildcard, key_column: owner, output_fields: [host], rename: {host: h}, reload_interval: 0}`,
		`{file: $GOOD, fields: [a, b], key_columns: [owner, host], ignore_case: true}`,
		`{file: $OBJ, match: regex, output_fields: [x]}`,
		`{file: $ARRAY, key_column: v}`,
	} {
		y = os.Expand(y, func(k string) string { return files[k] })
		f, err := fntest.TryBuild(Spec, y)
		if err != nil {
			t.Errorf("%s: %v", y, err)
			continue
		}
		_ = f.Function.(component.Closer).Close()
	}
}

// TestSpecBuildWithoutValidate checks that Build loads the table itself
// when it gets a config Validate has not seen, or one it built before.
func TestSpecBuildWithoutValidate(t *testing.T) {
	c := Spec.NewConfig().(*Config)
	c.File = "testdata/hosts.csv"
	c.ReloadInterval = 0
	f, err := Spec.Build(c, component.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev := event.New(time.Time{}, "web-01")
	f.Apply(&ev, nil)
	if got, _ := ev.GetString("owner"); got != "team-web" {
		t.Errorf("owner = %q, want team-web", got)
	}
	// A second Build of the same config loads the file again.
	f2, err := Spec.Build(c, component.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev = event.New(time.Time{}, "web-02")
	f2.Apply(&ev, nil)
	if got, _ := ev.GetString("owner"); got != "team-web" {
		t.Errorf("second build: owner = %q, want team-web", got)
	}
	c = Spec.NewConfig().(*Config)
	c.File = "testdata/missing.csv"
	if _, err := Spec.Build(c, component.Env{}); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: error %v", err)
	}
}

// bumpMtime moves the file's modification time by d from the last one, so
// a rewrite within the file system's time granularity is still seen.
func bumpMtime(t testing.TB, path string, d time.Duration) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	mt := fi.ModTime().Add(d)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

// logRecorder is a slog handler that keeps the messages it gets.
type logRecorder struct {
	mu   sync.Mutex
	recs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	l.recs = append(l.recs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) find(sub string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if strings.Contains(r, sub) {
			return r
		}
	}
	return ""
}

// buildFn builds the function from yaml as the config loader would, logging
// to log.
func buildFn(t testing.TB, y string, log slog.Handler) component.Function {
	t.Helper()
	cfg := Spec.NewConfig().(*Config)
	if err := yaml.Unmarshal([]byte(y), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f, err := Spec.Build(cfg, component.Env{Name: "test[0]", Logger: slog.New(log)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.(component.Closer).Close() })
	return f
}

func owner(f component.Function, host string) string {
	ev := event.New(time.Time{}, "")
	ev.SetString("host", host)
	f.Apply(&ev, nil)
	s, _ := ev.GetString("owner")
	return s
}

// eventually waits up to 20s (the machine may be busy) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "hosts.csv", "host,owner\nweb-01,alice\n")
	log := &logRecorder{}
	f := buildFn(t, "{file: "+path+", field: host, reload_interval: 10ms}", log)
	if got := owner(f, "web-01"); got != "alice" {
		t.Fatalf("before reload: owner %q", got)
	}

	// A rewrite in place is seen by its modification time. The poller may
	// catch the file half-written (and load part of it, or fail): wait for
	// the whole new table.
	writeFile(t, dir, "hosts.csv", "host,owner\nweb-01,bob\nweb-02,carol\n")
	bumpMtime(t, path, time.Second)
	eventually(t, "the new table", func() bool { return owner(f, "web-01") == "bob" && owner(f, "web-02") == "carol" })
	if log.find("table reloaded") == "" {
		t.Error("no reload logged")
	}

	// A broken file, renamed over the table, keeps the old table and logs
	// the file and line of the problem.
	broken := "host,owner\nweb-01,dave\nweb-02\n"
	replace := func(content string, mtime time.Time) {
		tmp := writeFile(t, dir, "hosts.tmp", content)
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	mtime := time.Now().Add(time.Hour).Truncate(time.Second)
	replace(broken, mtime)
	eventually(t, "the error log", func() bool { return log.find("hosts.csv:3: wrong number of fields") != "" })
	if rec := log.find("hosts.csv:3: wrong number of fields"); !strings.Contains(rec, "cannot reload") {
		t.Errorf("error log %q", rec)
	}
	if got := owner(f, "web-01"); got != "bob" {
		t.Errorf("after a broken rewrite: owner %q, want the previous bob", got)
	}

	// A new file of the same size and modification time is still seen:
	// it is another file.
	fixed := "host,owner\nweb-01,ev\nweb-02,c\n"
	if len(fixed) != len(broken) {
		t.Fatalf("test bug: %d and %d bytes", len(fixed), len(broken))
	}
	replace(fixed, mtime)
	eventually(t, "the replaced table", func() bool { return owner(f, "web-01") == "ev" })

	// A deleted file keeps the table.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stat error log", func() bool { return log.find("cannot check") != "" })
	if got := owner(f, "web-01"); got != "ev" {
		t.Errorf("after removal: owner %q", got)
	}
	if err := f.(component.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.(component.Closer).Close(); err != nil { // twice is fine
		t.Fatal(err)
	}
}

// TestReloadConcurrent applies the function from several goroutines while
// the file is rewritten: every event must see one whole version of the
// table (the a and b columns of a row always agree), never a mix.
func TestReloadConcurrent(t *testing.T) {
	dir := t.TempDir()
	table := func(v int) string {
		var b strings.Builder
		b.WriteString("host,a,b\n")
		for i := range 50 {
			fmt.Fprintf(&b, "h%d,%d,%d\n", i, v, v)
		}
		return b.String()
	}
	path := writeFile(t, dir, "t.csv", table(0))
	f := buildFn(t, "{file: "+path+", field: host, reload_interval: 1ms}", slog.DiscardHandler)

	hosts := make([]string, 50)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("h%d", i)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var seen [4]atomic.Int64
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if i%64 == 0 {
					// Leave the reloader and the writer some CPU on
					// small machines.
					runtime.Gosched()
				}
				ev := event.New(time.Time{}, "")
				ev.SetString("host", hosts[(i+g)%len(hosts)])
				f.Apply(&ev, nil)
				a, _ := ev.GetString("a")
				b, _ := ev.GetString("b")
				if a != b || a == "" {
					errs <- fmt.Sprintf("torn row: a=%q b=%q", a, b)
					return
				}
				seen[g].Add(1)
			}
		}()
	}
	stopped := false
	defer func() {
		if !stopped {
			stop.Store(true)
			wg.Wait()
		}
	}()
	// The last version is a good one, so the test knows what to wait for.
	const last = 21
	for v := 1; v <= last; v++ {
		// Write through a temporary file and rename, as writers should;
		// every tenth version is broken and must be skipped.
		content := table(v)
		if v%10 == 0 {
			content += "broken\"row\n"
		}
		tmp := writeFile(t, dir, "t.tmp", content)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Millisecond)
	}
	eventually(t, "the last version", func() bool {
		ev := event.New(time.Time{}, "")
		ev.SetString("host", "h1")
		f.Apply(&ev, nil)
		a, _ := ev.GetString("a")
		return a == fmt.Sprint(last)
	})
	stop.Store(true)
	wg.Wait()
	stopped = true
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	for g := range seen {
		if seen[g].Load() == 0 {
			t.Errorf("goroutine %d applied nothing", g)
		}
	}
	_ = f.(component.Closer).Close()
}

func TestZeroAllocExact(t *testing.T) {
	for _, tc := range []struct{ name, yaml string }{
		{"exact", `{file: testdata/hosts.csv, field: host}`},
		{"ignore_case", `{file: testdata/hosts.csv, field: host, ignore_case: true}`},
		{"composite", `{file: testdata/services.csv, delimiter: ";", fields: [host, port], key_columns: [host, port]}`},
		{"cidr", `{file: testdata/networks.csv, match: cidr, field: host}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fntest.Build(t, Spec, tc.yaml)
			ev := event.NewSized(time.Time{}, 16)
			ev.SetString("host", "web-01")
			ev.SetString("port", "443")
			switch tc.name {
			case "cidr":
				ev.SetString("host", "10.20.30.41")
			case "ignore_case":
				ev.SetString("host", "Web-01")
			}
			before := ev.Len()
			f.Apply(&ev, nil) // adds the output fields once
			if ev.Len() == before {
				t.Fatalf("no hit: %v", ev.Fields())
			}
			if n := testing.AllocsPerRun(100, func() { f.Apply(&ev, nil) }); n != 0 {
				t.Errorf("%v allocations per hit, want 0", n)
			}
		})
	}
}
