package dissect

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// apacheLines reads the synthetic Apache combined log lines used by the
// benchmarks (testdata/apache_combined.log: varied clients, methods,
// statuses, "-" sizes, referrers and user agents).
func apacheLines(tb testing.TB) []string {
	tb.Helper()
	data, err := os.ReadFile("testdata/apache_combined.log")
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

const apachePattern = `%{clientip} %{ident} %{auth} [%{timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{response} %{bytes} "%{referrer}" "%{agent}"`

// benchDissect applies a dissect config to lines. The events are reused
// (Reset keeps their field slices), so the allocations reported are
// dissect's own.
func benchDissect(b *testing.B, cfg string, lines []string) {
	f := fntest.Build(b, Spec, cfg)
	events := make([]event.Event, len(lines))
	for i := range events {
		events[i] = event.NewSized(time0, 16)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := &events[i%len(events)]
		ev.Reset()
		ev.AppendField(event.MessageField, event.String(lines[i%len(lines)]))
		f.Apply(ev, nil)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if f.Failures.Value() != 0 {
		b.Fatalf("%d failures", f.Failures.Value())
	}
}

// BenchmarkApacheCombined dissects realistic Apache combined log lines into
// eleven fields.
func BenchmarkApacheCombined(b *testing.B) {
	benchDissect(b, "pattern: '"+apachePattern+"'", apacheLines(b))
}

// BenchmarkApacheCombinedParallel is BenchmarkApacheCombined on every core,
// as a pipeline runs it.
func BenchmarkApacheCombinedParallel(b *testing.B) {
	f := fntest.Build(b, Spec, "pattern: '"+apachePattern+"'")
	lines := apacheLines(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ev := event.NewSized(time0, 16)
		i := 0
		for pb.Next() {
			ev.Reset()
			ev.AppendField(event.MessageField, event.String(lines[i%len(lines)]))
			f.Apply(&ev, nil)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSyslogAppendConvert uses appends, an indirect field and a
// conversion: the appends and the conversion allocate.
func BenchmarkSyslogAppendConvert(b *testing.B) {
	benchDissect(b, `pattern: '%{ts} %{+ts} %{+ts} %{host} %{prog}[%{pid}]: %{?key}=%{&key} %{msg}'
convert_datatype: {pid: int}`, []string{
		"Mar 16 00:01:25 evita postfix/smtpd[1713]: client=camomile.cloud9.net connect from camomile.cloud9.net[168.100.1.3]",
		"Dec 10 06:55:46 LabSZ sshd[24200]: user=webmaster Invalid user webmaster from 173.234.31.186",
	})
}

// BenchmarkRegexpSameFields is Go's regexp extracting the same eleven
// fields from the same lines, for comparison.
func BenchmarkRegexpSameFields(b *testing.B) {
	re := regexp.MustCompile(`^(\S+) (\S+) (\S+) \[([^\]]*)\] "(\S+) (\S+) HTTP/([^"]*)" (\S+) (\S+) "([^"]*)" "([^"]*)"`)
	lines := apacheLines(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if re.FindStringSubmatchIndex(lines[i%len(lines)]) == nil {
			b.Fatal("no match")
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
