package kql

import (
	"testing"
)

func benchMatch(b *testing.B, q string, want bool) {
	ev := benchEvent()
	n := mustParse(b, q)
	if Match(n, &ev) != want {
		b.Fatalf("%q: Match != %v", q, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		Match(n, &ev)
	}
}

// The benchmark event has ten fields and a 140-byte message; free-text
// misses scan all of it.
func BenchmarkMatchTerm(b *testing.B)          { benchMatch(b, "refused", true) }
func BenchmarkMatchTermMiss(b *testing.B)      { benchMatch(b, "timeout", false) }
func BenchmarkMatchPhrase(b *testing.B)        { benchMatch(b, `"connection refused"`, true) }
func BenchmarkMatchPhraseMiss(b *testing.B)    { benchMatch(b, `"refused connection"`, false) }
func BenchmarkMatchFieldTerm(b *testing.B)     { benchMatch(b, "service:gateway", true) }
func BenchmarkMatchFieldNumber(b *testing.B)   { benchMatch(b, "status:502", true) }
func BenchmarkMatchRange(b *testing.B)         { benchMatch(b, "status >= 500", true) }
func BenchmarkMatchTimeRange(b *testing.B)     { benchMatch(b, "@timestamp >= now-1d", true) }
func BenchmarkMatchWildcard(b *testing.B)      { benchMatch(b, "upstr*", true) }
func BenchmarkMatchFieldWildcard(b *testing.B) { benchMatch(b, "host.name:web-*", true) }
func BenchmarkMatchBool(b *testing.B) {
	benchMatch(b, "service:api and status >= 500 and not log.level:debug", true)
}

func BenchmarkParse(b *testing.B) {
	const q = `service:(api or web) and status >= 500 and not "connection refused" and host.name:web-*`
	b.ReportAllocs()
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		if _, err := ParseAt(q, fixedNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenize(b *testing.B) {
	ev := benchEvent()
	msg := ev.Message()
	n := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		Tokenize(msg, func(string) { n++ })
	}
}

func BenchmarkEventTokens(b *testing.B) {
	ev := benchEvent()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		EventTokens(&ev, func(string, string) { n++ })
	}
}
