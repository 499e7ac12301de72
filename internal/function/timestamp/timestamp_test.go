package timestamp

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"field: \"\"", "field"},
		{"target: \"\"", "target"},
		{"timezone: Nowhere/Special", "timezone"},
		{"formats: []", "formats"},
		{"formats: [\"\"]", "formats"},
		{"formats: [ISO8601, \"yyyy-MM-ddTHH:mm:ss\"]", "formats"},
		{"formats: [\"yyyy-MM-dd 'T\"]", "formats"},
		{"formats: [\"go:\"]", "formats"},
		{"formats: [\"go:no elements\"]", "formats"},
		{"formats: [unix]", "formats"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "formats: [ISO8601, RFC3339, UNIX, UNIX_MS, UNIX_US, UNIX_NS, TAI64N, \"dd/MMM/yyyy:HH:mm:ss Z\", \"go:2006\"]\ntimezone: Local\ntarget: x"); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

// TestTimeValue checks that a time value is taken as it is, so that
// timestamp can copy @timestamp to another field.
func TestTimeValue(t *testing.T) {
	f := fntest.Build(t, Spec, "field: \"@timestamp\"\ntarget: event.ingested")
	ev := event.New(time.Date(2024, 3, 15, 1, 2, 3, 4, time.UTC), "m")
	out := f.Run(ev)
	if v, _ := out[0].Get("event.ingested"); v != ev.Time {
		t.Errorf("event.ingested = %v, want %v", v, ev.Time)
	}
	if f.Failures.Value() != 0 {
		t.Error("counted a failure")
	}
}

// TestNoReferenceTime checks that an event without a timestamp gets the
// year of the clock.
func TestNoReferenceTime(t *testing.T) {
	f := fntest.Build(t, Spec, "formats: [\"MMM dd HH:mm:ss\"]")
	now := time.Now().UTC()
	ev := event.New(time.Time{}, "m")
	ev.SetString("timestamp", now.Format("Jan 02 15:04:05"))
	out := f.Run(ev)
	if d := out[0].Time.Sub(now.Truncate(time.Second)); d < -time.Second || d > time.Second {
		t.Errorf("@timestamp = %v, want about %v", out[0].Time, now)
	}
}

// TestOutOfRange checks that results outside years 1 to 9999 fail.
func TestOutOfRange(t *testing.T) {
	f := fntest.Build(t, Spec, "formats: [UNIX, ISO8601]")
	for _, v := range []any{int64(253402300800), "253402300800", int64(-62135596801), "0001-01-01T00:00:00Z", 1e15} {
		ev := event.New(ref, "m")
		ev.SetValue("timestamp", event.Any(v))
		out := f.Run(ev)
		if !out[0].HasTag(TagFailure) || !out[0].Time.Equal(ref) {
			t.Errorf("%v: time %v, tagged %v", v, out[0].Time, out[0].HasTag(TagFailure))
		}
	}
	ev := event.New(ref, "m")
	ev.SetValue("timestamp", event.Int(253402300799))
	if out := f.Run(ev); out[0].Time.Year() != 9999 {
		t.Errorf("last second of 9999: %v", out[0].Time)
	}
}

// TestConcurrent applies one function from several goroutines (the zone
// cache is shared); run with -race.
func TestConcurrent(t *testing.T) {
	f := fntest.Build(t, Spec, "formats: [\"yyyy-MM-dd HH:mm:ss ZZZ\", UNIX]")
	done := make(chan struct{})
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"}
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				z := zones[(g+i)%len(zones)]
				ev := event.New(ref, "m")
				ev.SetString("timestamp", "2024-07-15 12:00:00 "+z)
				out := f.Run(ev)
				loc, _ := time.LoadLocation(z)
				if want := time.Date(2024, 7, 15, 12, 0, 0, 0, loc); !out[0].Time.Equal(want) {
					t.Errorf("%s: %v, want %v", z, out[0].Time, want)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
