package syslogparse

import (
	"testing"
	"time"
)

// BenchmarkParse5424 measures parsing one RFC 5424 message with structured
// data and building its event (what the syslog source does per message).
func BenchmarkParse5424(b *testing.B) {
	benchBuild(b, string(bench5424))
}

// BenchmarkParse3164 is BenchmarkParse5424 for an RFC 3164 message.
func BenchmarkParse3164(b *testing.B) {
	benchBuild(b, string(bench3164))
}

func benchBuild(b *testing.B, msg string) {
	bl := NewBuilder(time.UTC, false)
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, ok := bl.Build(msg, now, "192.0.2.1:514", 0); !ok {
			b.Fatal("parse failed")
		}
	}
}
