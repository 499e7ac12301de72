package dissect

import (
	"regexp"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/function/fntest"
)

var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// apacheLines reads the synthetic Apache combined log lines used by the
// benchmarks (testdata/apache_combined.log: varied clients, methods,
// statuses, "-" sizes, referrers and user agents).
func apacheLines(tb testing.TB) []string {
	tb.Helper()
	return fntest.ReadLines(tb, "testdata/apache_combined.log")
}

const apachePattern = `%{clientip} %{ident} %{auth} [%{timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{response} %{bytes} "%{referrer}" "%{agent}"`

// benchDissect applies a dissect config to lines (see fntest.BenchLines),
// all of which must match.
func benchDissect(b *testing.B, cfg string, lines []string) {
	f := fntest.Build(b, Spec, cfg)
	fntest.BenchLines(b, f, lines...)
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
	fntest.BenchLinesParallel(b, fntest.Build(b, Spec, "pattern: '"+apachePattern+"'"), apacheLines(b)...)
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
