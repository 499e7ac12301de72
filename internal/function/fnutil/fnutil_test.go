package fnutil

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

func TestNanos(t *testing.T) {
	if Nanos(time.Time{}) != math.MinInt64 || Nanos(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) != math.MaxInt64 {
		t.Error("Nanos does not saturate")
	}
	if got := Nanos(time.Unix(1, 5)); got != int64(time.Second)+5 {
		t.Errorf("Nanos = %d", got)
	}
}

func TestEventNanos(t *testing.T) {
	ts, now := time.Unix(10, 0), time.Unix(20, 0)
	clock := func() time.Time { return now }
	ev := event.New(ts, "m")
	if got := EventNanos(&ev, false, clock); got != ts.UnixNano() {
		t.Errorf("event clock: %d, want the event's time", got)
	}
	if got := EventNanos(&ev, true, clock); got != now.UnixNano() {
		t.Errorf("wall clock: %d, want now", got)
	}
	ev.Time = time.Time{}
	if got := EventNanos(&ev, false, clock); got != now.UnixNano() {
		t.Errorf("no timestamp: %d, want now", got)
	}
}

func TestFieldNames(t *testing.T) {
	for p, want := range map[string]bool{"a": true, "a.b": true, "@timestamp": true, "": false, ".a": false, "a.": false, "a..b": false} {
		if ValidField(p) != want {
			t.Errorf("ValidField(%q) = %v", p, !want)
		}
	}
	for ref, want := range map[string]string{"a.b": "a.b", "[a][b]": "a.b", "[a]": "a", "[]": ""} {
		if got, ok := FieldName(ref); got != want || ok != (want != "") {
			t.Errorf("FieldName(%q) = %q, %v", ref, got, ok)
		}
	}
	for _, c := range []struct {
		key, name string
		want      bool
	}{{"a", "a", true}, {"a.b", "a", true}, {"a.b.c", "a.b", true}, {"ab", "a", false}, {"a", "a.b", false}, {"b.a", "a", false}} {
		if Under(c.key, c.name) != c.want {
			t.Errorf("Under(%q, %q) = %v", c.key, c.name, !c.want)
		}
	}
}

func TestCheckTags(t *testing.T) {
	if err := CheckTags("tag_on_failure", []string{"a", "b"}); err != nil {
		t.Error(err)
	}
	var fe *component.FieldError
	if err := CheckTags("tag_on_miss", []string{"a", ""}); !errors.As(err, &fe) || fe.Field != "tag_on_miss" {
		t.Errorf("got %v, want an error about tag_on_miss", err)
	}
}

func TestHasAnyTag(t *testing.T) {
	ev := event.New(time.Unix(1, 0), "m")
	ev.AddTag("b")
	if !HasAnyTag(&ev, []string{"a", "b"}) || HasAnyTag(&ev, []string{"a"}) || HasAnyTag(&ev, nil) {
		t.Error("HasAnyTag")
	}
}

func TestLimiter(t *testing.T) {
	var l Limiter
	t0 := time.Unix(1000, 0)
	if !l.Allow(t0, time.Minute) {
		t.Error("the first time is not allowed")
	}
	if l.Allow(t0.Add(59*time.Second), time.Minute) {
		t.Error("allowed again within the interval")
	}
	if !l.Allow(t0.Add(time.Minute), time.Minute) {
		t.Error("not allowed after the interval")
	}
}

func TestInput(t *testing.T) {
	c := &counter{}
	fail := NewFailure(component.Env{Failures: c}, []string{"_bad"})
	ev := event.New(time.Unix(1, 0), "text")
	ev.SetValue("n", event.Int(1))
	ev.SetString("obj.x", "y")
	if s, ok := Input(&ev, "message", fail); !ok || s != "text" {
		t.Errorf("message: %q, %v", s, ok)
	}
	if _, ok := Input(&ev, "missing", fail); ok || c.n != 0 || ev.HasTag("_bad") {
		t.Errorf("missing field: ok %v, %d failures", ok, c.n)
	}
	for i, field := range []string{"n", "obj"} {
		if _, ok := Input(&ev, field, fail); ok || c.n != i+1 || !ev.HasTag("_bad") {
			t.Errorf("%s: ok %v, %d failures", field, ok, c.n)
		}
	}
}

type counter struct{ n int }

func (c *counter) Inc() { c.n++ }

func TestCheckTextField(t *testing.T) {
	if err := CheckTextField("field", "a.b"); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"", "a..b", "@timestamp"} {
		var fe *component.FieldError
		if err := CheckTextField("target", name); !errors.As(err, &fe) || fe.Field != "target" {
			t.Errorf("%q: got %v, want an error about target", name, err)
		}
	}
}
