package syslog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/syslogparse"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	tests := []struct {
		yaml, key string
	}{
		{"field: \"\"", "field"},
		{"target: \"@timestamp\"", "target"},
		{"target: .x", "target"},
		{"target: x.", "target"},
		{"timezone: Mars/Olympus_Mons", "timezone"},
		{"timezone: \"+25:00\"", "timezone"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "nonsense: 1"); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := fntest.TryBuild(Spec, "field: raw\ntarget: a.b\ntimezone: Local\nkeep_original: true\ntag_on_failure: []"); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

// TestSameAsSource checks that the function, with the default config, makes
// the fields the syslog source's builder makes from every parsable line of
// syslogparse's golden input (the source adds log.source.address).
func TestSameAsSource(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("..", "..", "syslogparse", "testdata", "parse.txt"))
	if err != nil {
		t.Fatal(err)
	}
	f := fntest.Build(t, Spec, "keep_original: true")
	b := syslogparse.NewBuilder(time.UTC, true)
	recv := time.Date(2024, time.March, 15, 12, 0, 0, 0, time.UTC)
	sc := bufio.NewScanner(strings.NewReader(string(in)))
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want, ok := b.Build(line, recv, "", 0)
		if !ok {
			continue
		}
		n++
		ev := event.New(recv, line)
		out := f.Run(ev)
		if len(out) != 1 {
			t.Fatalf("%q: %d events out", line, len(out))
		}
		if got, w := fntest.JSON(&out[0]), fntest.JSON(&want); got != w {
			t.Errorf("%q:\n function %s\n   source %s", line, got, w)
		}
	}
	if n < 20 {
		t.Fatalf("only %d parsable lines compared", n)
	}
}

// TestConcurrent runs the function from many goroutines (pooled parser
// state must not leak between them); run with -race.
func TestConcurrent(t *testing.T) {
	f := fntest.Build(t, Spec, "")
	lines := []string{
		`<13>1 2024-03-15T11:22:33Z h1 app1 1 - [a@1 k="1"] one`,
		`<14>1 2024-03-15T11:22:34Z h2 app2 2 - [b@2 j="2"][c@3 i="3"] two`,
		`<34>Mar 15 11:22:35 h3 app3[3]: three`,
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := (g + i) % len(lines)
				out := f.Run(event.New(time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC), lines[k]))
				host, _ := out[0].GetString("log.syslog.hostname")
				sdCount := 0
				for _, fl := range out[0].Fields() {
					if strings.HasPrefix(fl.Key, syslogparse.FieldSDPrefix) {
						sdCount++
					}
				}
				if host != [...]string{"h1", "h2", "h3"}[k] || sdCount != [...]int{1, 2, 0}[k] {
					t.Errorf("line %d: host %q, %d structured data fields", k, host, sdCount)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzSyslog checks that any line leaves a well-formed event: parsed (then
// message is part of the line) or unchanged and tagged, never both.
func FuzzSyslog(f *testing.F) {
	for _, s := range []string{
		`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event`,
		`<13>1 - - - - - [a@1 x="\]"][a@1 x="dup"]`,
		`<34>Oct 11 22:14:15 mymachine su: 'su root' failed`,
		`<189>237: *Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: x`,
		`<13>Feb 29 10:00:00 host app: leap`,
		`<0>`, `<13`, `garbage`, ``,
	} {
		f.Add(s, "")
		f.Add(s, "sys")
	}
	fns := map[string]*fntest.Func{
		"":    fntest.Build(f, Spec, "keep_original: true"),
		"sys": fntest.Build(f, Spec, "keep_original: true\ntarget: sys"),
	}
	f.Fuzz(func(t *testing.T, line, target string) {
		fn, ok := fns[target]
		if !ok {
			return
		}
		recv := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		out := fn.Run(event.New(recv, line))
		if len(out) != 1 {
			t.Fatalf("%d events out", len(out))
		}
		ev := out[0]
		failed := ev.HasTag(syslogparse.TagParseFailure)
		orig, hasOrig := ev.GetString(fnutil.Join(target, syslogparse.FieldOriginal))
		msg, _ := ev.GetString(fnutil.Join(target, event.MessageField))
		if failed {
			if hasOrig || ev.Len() != 2 || ev.Message() != line || !ev.Time.Equal(recv) {
				t.Fatalf("failed %q but changed: %s", line, fntest.JSON(&ev))
			}
		} else {
			if orig != line || !strings.Contains(line, strings.TrimPrefix(msg, "\ufeff")) {
				t.Fatalf("%q: original %q, message %q", line, orig, msg)
			}
			if _, ok := ev.Get(fnutil.Join(target, syslogparse.FieldPriority)); !ok {
				t.Fatalf("%q parsed without a priority", line)
			}
		}
		seen := map[string]bool{}
		for _, fl := range ev.Fields() {
			if seen[fl.Key] {
				t.Fatalf("duplicate field %s", fl.Key)
			}
			seen[fl.Key] = true
		}
		if js := event.AppendJSON(nil, &ev, true); !json.Valid(js) {
			t.Fatalf("invalid JSON %s", js)
		}
	})
}

func benchApply(b *testing.B, config, line string, wantOK bool) {
	f := fntest.Build(b, Spec, config)
	base := event.NewSized(time.Now(), 2)
	base.AppendField("message", event.String(line))
	base.AppendField("log.file.path", event.String("/var/log/messages"))
	if out := f.Run(base.Clone()); out[0].HasTag(syslogparse.TagParseFailure) == wantOK {
		b.Fatalf("unexpected output %s", fntest.JSON(&out[0]))
	}
	ev := event.NewSized(time.Time{}, 24)
	b.ReportAllocs()
	for b.Loop() {
		fntest.Restore(&ev, &base) // the same event every time, without allocating
		f.Apply(&ev, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSyslog measures the function on the messages of syslogparse's
// BenchmarkParse5424 and BenchmarkParse3164.
func BenchmarkSyslog(b *testing.B) {
	const (
		l5424 = `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry with some more words in it`
		l3164 = `<34>Oct 11 22:14:15 mymachine su[1234]: 'su root' failed for lonvick on /dev/pts/8 with some more words in it`
	)
	b.Run("5424", func(b *testing.B) { benchApply(b, "", l5424, true) })
	b.Run("3164", func(b *testing.B) { benchApply(b, "", l3164, true) })
	b.Run("5424/target", func(b *testing.B) { benchApply(b, "target: syslog", l5424, true) })
	b.Run("failure", func(b *testing.B) { benchApply(b, "", "not syslog", false) })
}
