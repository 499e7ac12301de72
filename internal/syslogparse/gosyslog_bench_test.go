package syslogparse

import (
	"testing"

	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

var (
	bench5424 = []byte(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry with some more words in it`)
	bench3164 = []byte(`<34>Oct 11 22:14:15 mymachine su[1234]: 'su root' failed for lonvick on /dev/pts/8 with some more words in it`)
)

// BenchmarkGoSyslog5424 measures github.com/leodido/go-syslog/v4, the
// alternative this package's parser was chosen over (parse only, before any
// event is built).
func BenchmarkGoSyslog5424(b *testing.B) {
	p := rfc5424.NewParser(rfc5424.WithBestEffort())
	b.ReportAllocs()
	b.SetBytes(int64(len(bench5424)))
	for b.Loop() {
		if _, err := p.Parse(bench5424); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoSyslog3164 is BenchmarkGoSyslog5424 for RFC 3164.
func BenchmarkGoSyslog3164(b *testing.B) {
	p := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithYear(rfc3164.CurrentYear{}))
	b.ReportAllocs()
	b.SetBytes(int64(len(bench3164)))
	for b.Loop() {
		if _, err := p.Parse(bench3164); err != nil {
			b.Fatal(err)
		}
	}
}
