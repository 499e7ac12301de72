package event

import (
	"encoding/json"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestSetGetNested(t *testing.T) {
	ev := New(time.Unix(0, 0), "hello")
	ev.Set("kubernetes", map[string]any{"pod": map[string]any{"name": "web-1"}, "labels": map[string]any{"app": "web"}})
	ev.Set("status", 200)
	if v, ok := ev.Get("kubernetes.pod.name"); !ok || v != "web-1" {
		t.Fatalf("get leaf: %v %v", v, ok)
	}
	obj, ok := ev.Get("kubernetes")
	want := map[string]any{"pod": map[string]any{"name": "web-1"}, "labels": map[string]any{"app": "web"}}
	if !ok || !reflect.DeepEqual(obj, want) {
		t.Fatalf("get object: %#v", obj)
	}
	if v, _ := ev.Get("status"); v != int64(200) {
		t.Fatalf("int normalized: %#v", v)
	}
	// Setting a leaf over an object replaces the object.
	ev.Set("kubernetes", "flat")
	if ev.Has("kubernetes.pod.name") {
		t.Fatal("object not replaced")
	}
	if !ev.Delete("kubernetes") || ev.Has("kubernetes") {
		t.Fatal("delete")
	}
}

func TestRenameAndTags(t *testing.T) {
	ev := New(time.Unix(0, 0), "m")
	ev.Set("a.b", 1)
	ev.Set("a.c", 2)
	if !ev.Rename("a", "x.y") {
		t.Fatal("rename")
	}
	if v, _ := ev.Get("x.y.c"); v != int64(2) || ev.Has("a") {
		t.Fatalf("renamed object: %v", ev.Fields())
	}
	ev.AddTag("one")
	ev.AddTag("two")
	ev.AddTag("one")
	if v, _ := ev.Get("tags"); !reflect.DeepEqual(v, []any{"one", "two"}) || !ev.HasTag("two") || ev.HasTag("three") {
		t.Fatalf("tags: %#v", v)
	}
	// A clone's tag array must not change when the original gets a tag.
	c := ev.Clone()
	ev.AddTag("three")
	if c.HasTag("three") {
		t.Fatal("clone shares tags")
	}
}

func TestTimestamp(t *testing.T) {
	ev := Event{}
	ev.Set("@timestamp", "2026-01-02T03:04:05.123Z")
	if ev.Time.UnixMilli() != time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC).UnixMilli() {
		t.Fatalf("time: %v", ev.Time)
	}
	if _, ok := ev.Lookup("@timestamp"); !ok {
		t.Fatal("lookup @timestamp")
	}
	ev.Set("@timestamp", "not a time")
	if s, _ := ev.GetString("@timestamp"); s != "not a time" {
		t.Fatalf("unparsable kept as field: %q", s)
	}
}

func TestAppendJSON(t *testing.T) {
	ev := New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "line \"one\"\n\x01")
	ev.Set("kubernetes.pod.name", "p")
	ev.Set("kubernetes.namespace", "ns")
	ev.Set("a", 1)
	ev.Set("a-b", true)
	ev.Set("_internal", "x")
	ev.Set("__route", "y")
	ev.Set("f", 1.5)
	ev.Set("n", nil)
	ev.Set("arr", []any{"x", int64(2), map[string]any{"k": "v"}})
	ev.SetString("bad", "\xff")
	out := AppendJSON(nil, &ev, false)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", out, err)
	}
	want := map[string]any{
		"@timestamp": "2026-01-02T03:04:05Z",
		"message":    "line \"one\"\n\x01",
		"kubernetes": map[string]any{"pod": map[string]any{"name": "p"}, "namespace": "ns"},
		"a":          1.0, "a-b": true, "f": 1.5, "n": nil,
		"arr": []any{"x", 2.0, map[string]any{"k": "v"}},
		"bad": "\ufffd",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %s\nwant %v", out, want)
	}
	withInternal := AppendJSON(nil, &ev, true)
	if err := json.Unmarshal(withInternal, &got); err != nil || got["_internal"] != "x" {
		t.Fatalf("internal fields: %s", withInternal)
	}
}

func TestAppendJSONLeafAndObjectClash(t *testing.T) {
	ev := Event{}
	ev.AppendField("a", String("leaf"))
	ev.AppendField("a.b", String("child"))
	out := AppendJSON(nil, &ev, false)
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", out, err)
	}
	if got["a"] != "leaf" || got["a.b"] != "child" {
		t.Fatalf("clash: %s", out)
	}
}

func TestAckerWorstWins(t *testing.T) {
	var got atomic.Int32
	got.Store(-1)
	a := NewAcker(func(s Status) { got.Store(int32(s)) })
	b := NewBatch("src")
	b.AddAcker(a)
	c1, c2 := NewBatch("src"), NewBatch("src")
	b.ShareAcks(c1)
	b.ShareAcks(c2)
	b.Ack(Delivered)
	c1.Ack(Errored)
	if got.Load() != -1 {
		t.Fatal("acked before every copy was done")
	}
	c2.Ack(Delivered)
	if Status(got.Load()) != Errored {
		t.Fatalf("worst status: %v", Status(got.Load()))
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	ev := New(time.Now(), "GET /api/v1/users/42 200 15ms user agent Mozilla/5.0 something fairly long to look like a log line")
	ev.Set("kubernetes.pod.name", "webapp-7d9f8-abcde")
	ev.Set("kubernetes.namespace", "production")
	ev.Set("kubernetes.labels.app", "webapp")
	ev.Set("log.level", "info")
	ev.Set("http.response.status_code", 200)
	buf := AppendJSON(nil, &ev, false)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendJSON(buf[:0], &ev, false)
	}
}

func TestAppendTimestamp(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1999, 7, 8, 9, 10, 11, 120000000, time.FixedZone("x", 3600)),
		time.Date(2026, 3, 4, 5, 6, 7, 1000, time.UTC),
		time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 1),
	} {
		want := tm.UTC().Format(time.RFC3339Nano)
		if got := string(AppendTimestamp(nil, tm)); got != want {
			t.Errorf("AppendTimestamp(%v) = %q, want %q", tm, got, want)
		}
	}
}
