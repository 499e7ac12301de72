package grok

import (
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-grok"
	"github.com/elastic/go-grok/patterns"

	"github.com/sluicehq/sluice/internal/function/fntest"
)

// apacheLines reads the synthetic Apache combined log lines used by the
// benchmarks (testdata/apache_combined.log: varied clients, IPv6 and host
// names, methods, statuses, "-" sizes, referrers and user agents).
func apacheLines(tb testing.TB) []string {
	tb.Helper()
	return fntest.ReadLines(tb, "testdata/apache_combined.log")
}

var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// benchGrok applies a grok config to lines (see fntest.BenchLines), all of
// which must match.
func benchGrok(b *testing.B, cfg string, lines []string) {
	f := fntest.Build(b, Spec, cfg)
	fntest.BenchLines(b, f, lines...)
	if f.Failures.Value() != 0 {
		b.Fatalf("%d failures", f.Failures.Value())
	}
}

// BenchmarkCombinedApacheLog parses realistic Apache combined log lines with
// the library's COMBINEDAPACHELOG (ECS fields, typed status and size).
func BenchmarkCombinedApacheLog(b *testing.B) {
	benchGrok(b, "patterns: ['%{COMBINEDAPACHELOG}']", apacheLines(b))
}

// BenchmarkCombinedApacheLogParallel is BenchmarkCombinedApacheLog on every
// core, as a pipeline runs it.
func BenchmarkCombinedApacheLogParallel(b *testing.B) {
	fntest.BenchLinesParallel(b, fntest.Build(b, Spec, "patterns: ['%{COMBINEDAPACHELOG}']"), apacheLines(b)...)
}

// BenchmarkSyslog parses syslog lines with a short custom
// pattern, the kind most pipelines write.
func BenchmarkSyslog(b *testing.B) {
	benchGrok(b, `patterns: ['^%{SYSLOGTIMESTAMP:timestamp} %{SYSLOGHOST:host.name} %{PROG:process.name}(?:\[%{POSINT:process.pid:int}\])?: %{GREEDYDATA:message}']
overwrite: [message]`, []string{
		"Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
		"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
		"Jun  9 06:06:20 combo kernel: Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com)",
	})
}

// BenchmarkNoMatch measures a line that no pattern matches: both patterns
// are searched at every position before the event is tagged.
func BenchmarkNoMatch(b *testing.B) {
	f := fntest.Build(b, Spec, "patterns: ['%{COMBINEDAPACHELOG}', '%{SYSLOGLINE}']")
	fntest.BenchLines(b, f, strings.Repeat("this line is not a log line of any known kind; ", 5))
}

// BenchmarkGoGrokParseString is go-grok's own API on the same lines, for
// comparison: it runs the unanchored regexp with every group capturing and
// builds a map per event.
func BenchmarkGoGrokParseString(b *testing.B) {
	g, err := grok.NewWithPatterns(patterns.Httpd)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Compile("%{COMBINEDAPACHELOG}", true); err != nil {
		b.Fatal(err)
	}
	lines := apacheLines(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := g.ParseString(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
