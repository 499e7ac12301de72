package csv

import (
	stdcsv "encoding/csv"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidation(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"field: ''", "field"},
		{"target: x..y", "target"},
		{"target: '@timestamp'", "target"},
		{"columns: [a, '']", "columns"},
		{"columns: ['@timestamp']", "columns"},
		{"separator: ''", "separator"},
		{"quote_char: ''", "quote_char"},
		{"quote_char: \"''\"", "quote_char"},
		{"separator: ',\"'", "separator"},
		{"skip_header: true", "skip_header"},
		{"columns: [a]\nautodetect_column_names: true", "autodetect_column_names"},
		{"convert: {a: date}", "convert"},
		{"convert: {a: int}", "convert"},
		{"tag_on_failure: ['']", "tag_on_failure"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	for _, ok := range []string{"target: r\ncolumns: ['@timestamp']", "quote_char: '|'\nseparator: ';;'", "autodetect_column_names: true\nskip_header: true"} {
		if _, err := fntest.TryBuild(Spec, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		sep, quote, in string
		want           []string
		err            bool
	}{
		{",", `"`, ``, nil, false},
		{",", `"`, `a`, []string{"a"}, false},
		{",", `"`, `,`, []string{"", ""}, false},
		{",", `"`, `a,,b,`, []string{"a", "", "b", ""}, false},
		{",", `"`, `"a,b",c`, []string{"a,b", "c"}, false},
		{",", `"`, `""`, []string{""}, false},
		{",", `"`, `""""`, []string{`"`}, false},
		{",", `"`, `"a""b""",x`, []string{`a"b"`, "x"}, false},
		{",", `"`, "\"line\nbreak\"", []string{"line\nbreak"}, false},
		{",", `"`, `"open`, nil, true},
		{",", `"`, `"a"b`, nil, true},
		{",", `"`, `a"b`, nil, true},
		{",", `"`, `a, "b"`, nil, true},
		{"::", `'`, `a::'b::c'::d"e`, []string{"a", "b::c", `d"e`}, false},
		{"::", `'`, `a:b::`, []string{"a:b", ""}, false},
		{"\t", `|`, "|x\ty|\t||", []string{"x\ty", ""}, false},
		{"→", `«`, "a→«b→c»", nil, true},
		{"→", `"`, "é→\"b→c\"→", []string{"é", "b→c", ""}, false},
	}
	for _, tt := range tests {
		s := scanner{sep: tt.sep, quote: tt.quote}
		got, err := s.split(nil, tt.in)
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("split(%q, sep %q, quote %q) = %q, %v", tt.in, tt.sep, tt.quote, got, err)
		}
	}
}

// TestAutodetectConcurrent: of many events racing to be the header, one
// wins and is dropped; the others are data named by the winner.
func TestAutodetectConcurrent(t *testing.T) {
	f := fntest.Build(t, Spec, "autodetect_column_names: true")
	var wg sync.WaitGroup
	var mu sync.Mutex
	dropped := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := event.New(time.Unix(1, 0), "a,b")
			kept := f.Apply(&ev, nil)
			mu.Lock()
			defer mu.Unlock()
			if !kept {
				dropped++
			} else if v, _ := ev.GetString("a"); v != "a" {
				t.Errorf("data event not named by the header: %v", ev.Fields())
			}
		}()
	}
	wg.Wait()
	if dropped != 1 {
		t.Errorf("%d header events dropped, want 1", dropped)
	}
}

func TestAllocations(t *testing.T) {
	f := fntest.Build(t, Spec, "columns: [a, b, c, d]\ntarget: csv")
	ev := event.NewSized(time.Unix(1, 0), 16)
	allocs := testing.AllocsPerRun(100, func() {
		ev.SetString(event.MessageField, `2026-01-02,alice,"quoted, field",x,y`)
		f.Apply(&ev, nil)
	})
	if allocs > 0 && !fntest.RaceEnabled {
		t.Errorf("%v allocations per line, want 0", allocs)
	}
	if v, _ := ev.GetString("csv.column5"); v != "y" {
		t.Errorf("csv.column5 = %q", v)
	}
}

// quoteAll writes fields as a CSV line, every field quoted.
func quoteAll(fields []string, sep, quote string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(quote + strings.ReplaceAll(f, quote, quote+quote) + quote)
	}
	return b.String()
}

// FuzzSplit compares the scanner with encoding/csv (strict mode, comma,
// one line), and checks that quoting any fields with any separator and
// quote splits back to those fields.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{`a,b,c`, `"a,b",""""`, `a"b`, `"a"b`, `"open`, `,,`, `x,"y""z",`, "é,\xff", `a, "b"`} {
		f.Add(s, ",", `"`)
	}
	f.Add("a::b", "::", "'")
	f.Add("x\ty", "\t", "|")
	f.Fuzz(func(t *testing.T, line, sep, quote string) {
		if sep == "" || utf8.RuneCountInString(quote) != 1 || strings.Contains(sep, quote) {
			return // what Validate rejects
		}
		s := scanner{sep: sep, quote: quote}
		got, err := s.split(nil, line)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(line) {
				t.Fatalf("bad error %v", err)
			}
		}
		if sep == "," && quote == `"` && line != "" && !strings.ContainsAny(line, "\r\n") {
			r := stdcsv.NewReader(strings.NewReader(line))
			want, werr := r.Read()
			if (err == nil) != (werr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
				t.Fatalf("%q: got %q, %v; encoding/csv %q, %v", line, got, err, want, werr)
			}
		}
		if err == nil {
			again, err := s.split(nil, quoteAll(got, sep, quote))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("%q quoted as %q splits to %q, %v", got, quoteAll(got, sep, quote), again, err)
			}
		}
	})
}

// FuzzCSV runs the function on any line: it never panics, a failure leaves
// the event unchanged but for the tag, and a target keeps output inside.
func FuzzCSV(f *testing.F) {
	f.Add("a,b,\"c,d\"")
	f.Add("x,\"bad")
	fn := fntest.Build(f, Spec, "target: csv\ncolumns: [a, b]\nconvert: {b: integer, column3: boolean}")
	f.Fuzz(func(t *testing.T, line string) {
		ev := event.New(time.Unix(1, 0), line)
		ev.SetString("other", "x")
		out := fn.Run(ev)
		if len(out) != 1 {
			t.Fatalf("%d events out", len(out))
		}
		got := &out[0]
		if got.HasTag("_csvparsefailure") {
			if got.Len() != 3 {
				t.Fatalf("failed line changed the event: %v", got.Fields())
			}
			return
		}
		for _, fl := range got.Fields() {
			if fl.Key != event.MessageField && fl.Key != "other" && !strings.HasPrefix(fl.Key, "csv.") {
				t.Fatalf("field %q outside the target", fl.Key)
			}
		}
	})
}

const benchLine = `2026-01-02T03:04:05Z,web-1,alice,GET,/api/v1/items?page=2,200,5120,0.012,"Mozilla/5.0 (X11; Linux x86_64)",true`

func BenchmarkCSV(b *testing.B) {
	b.Run("function", func(b *testing.B) {
		f := fntest.Build(b, Spec, `columns: [time, host, user, method, path, status, bytes, duration, agent, cached]
convert: {status: integer, bytes: integer, duration: float, cached: boolean}`)
		ts := time.Unix(1700000000, 0)
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			ev := event.NewSized(ts, 12)
			ev.AppendField(event.MessageField, event.String(benchLine))
			ev.AppendField("host.name", event.String("web-1"))
			f.Apply(&ev, nil)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("split", func(b *testing.B) {
		s := scanner{sep: ",", quote: `"`}
		var buf []string
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			buf, _ = s.split(buf[:0], benchLine)
		}
	})
	b.Run("encoding_csv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			r := stdcsv.NewReader(strings.NewReader(benchLine))
			r.ReuseRecord = true
			if _, err := r.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
