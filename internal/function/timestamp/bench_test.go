package timestamp

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// BenchmarkTimestamp measures the function, one sub-benchmark per format:
// the field lookup, the parse and setting @timestamp (target: a field adds
// the allocation of a time value).
func BenchmarkTimestamp(b *testing.B) {
	cases := []struct {
		name, config string
		value        event.Value
	}{
		{"ISO8601/Z", "formats: [ISO8601]", event.String("2024-03-15T11:22:33.444555Z")},
		{"ISO8601/offset", "formats: [ISO8601]", event.String("2024-03-15T11:22:33.444+01:00")},
		{"ISO8601/space_comma", "formats: [ISO8601]", event.String("2024-03-15 11:22:33,444")},
		{"ISO8601/timezone", "formats: [ISO8601]\ntimezone: Europe/Berlin", event.String("2024-03-15 11:22:33.444")},
		{"RFC3339", "formats: [RFC3339]", event.String("2024-03-15T11:22:33.444555666Z")},
		{"UNIX/string", "formats: [UNIX]", event.String("1710501753.444")},
		{"UNIX/int", "formats: [UNIX]", event.Int(1710501753)},
		{"UNIX/float", "formats: [UNIX]", event.Float(1710501753.444)},
		{"UNIX_MS/int", "formats: [UNIX_MS]", event.Int(1710501753444)},
		{"UNIX_MS/string", "formats: [UNIX_MS]", event.String("1710501753444")},
		{"UNIX_US/int", "formats: [UNIX_US]", event.Int(1710501753444555)},
		{"UNIX_NS/int", "formats: [UNIX_NS]", event.Int(1710501753444555666)},
		{"TAI64N", "formats: [TAI64N]", event.String("@4000000065f4301a1a7d8f40")},
		{"joda/access_log", `formats: ["dd/MMM/yyyy:HH:mm:ss Z"]`, event.String("15/Mar/2024:11:22:33 +0100")},
		{"joda/syslog", `formats: ["MMM dd HH:mm:ss"]`, event.String("Mar 15 11:22:33")},
		{"joda/syslog_timezone", "formats: [\"MMM dd HH:mm:ss\"]\ntimezone: Europe/Berlin", event.String("Mar 15 11:22:33")},
		{"joda/log4j", `formats: ["yyyy-MM-dd HH:mm:ss,SSS"]`, event.String("2024-03-15 11:22:33,444")},
		{"joda/zone_id", `formats: ["yyyy-MM-dd HH:mm:ss ZZZ"]`, event.String("2024-03-15 11:22:33 Europe/Berlin")},
		{"go/access_log", `formats: ["go:02/Jan/2006:15:04:05 -0700"]`, event.String("15/Mar/2024:11:22:33 +0100")},
		{"go/access_log_utc", `formats: ["go:02/Jan/2006:15:04:05 -0700"]`, event.String("15/Mar/2024:11:22:33 +0000")},
		{"fallback/third_matches", `formats: [ISO8601, "dd/MMM/yyyy:HH:mm:ss Z", UNIX_MS]`, event.String("1710501753444")},
		{"target_field", "formats: [ISO8601]\ntarget: event.created", event.String("2024-03-15T11:22:33.444Z")},
		{"failure", "formats: [ISO8601]", event.String("not a date")},
	}
	ref := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, c.config)
			base := event.NewSized(ref, 6)
			base.AppendField("message", event.String("GET / 200"))
			base.AppendField("timestamp", c.value)
			if out := f.Run(base.Clone()); out[0].Time.Equal(ref) != (c.name == "failure" || c.name == "target_field") {
				b.Fatalf("unexpected result %s", fntest.JSON(&out[0]))
			}
			ev := event.NewSized(time.Time{}, 8)
			b.ReportAllocs()
			for b.Loop() {
				fntest.Restore(&ev, &base) // the same event every time, without allocating
				f.Apply(&ev, nil)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
