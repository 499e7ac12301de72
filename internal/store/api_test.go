package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

func TestIndexNames(t *testing.T) {
	for _, ok := range []string{"logs", "logs-2024.01.01", "a", ".hidden", "ünï", strings.Repeat("x", 255), "a+b", "a_b"} {
		if err := ValidateIndexName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Logs", "a/b", `a\b`, "a*", "a?", `a"`, "a<", "a>", "a|b", "a b", "a,b", "a#", "a:b", "-a", "_a", "+a", ".", "..", strings.Repeat("x", 256), "a\x00b", "a\nb"} {
		if err := ValidateIndexName(bad); !errors.Is(err, ErrInvalidIndexName) {
			t.Errorf("%q: %v, want ErrInvalidIndexName", bad, err)
		}
	}
	s := mustOpen(t, t.TempDir(), testOptions())
	if err := s.Write(context.Background(), "Bad", []event.Event{event.New(time.Now(), "x")}); !errors.Is(err, ErrInvalidIndexName) {
		t.Fatalf("write to a bad name: %v", err)
	}
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"logs-*", "logs-a", true}, {"logs-*", "logs-", true}, {"logs-*", "log", false},
		{"*-prod", "api-prod", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"*", "x", true}, {"logs", "logs", true}, {"logs", "logs2", false},
	} {
		if got := matchIndex([]string{c.pattern}, c.name); got != c.want {
			t.Errorf("match %q %q = %v", c.pattern, c.name, got)
		}
	}
}

func TestWriteRejectsPerEvent(t *testing.T) {
	s := mustOpen(t, t.TempDir(), testOptions())
	now := time.Now()
	good := func(i int) event.Event { return event.New(now.Add(time.Duration(i)), fmt.Sprint("good ", i)) }
	long := good(1)
	long.AppendField(strings.Repeat("k", 257), event.String("v"))
	many := good(3)
	for i := range 1001 {
		many.AppendField(fmt.Sprint("f", i), event.Int(int64(i)))
	}
	big := good(5)
	big.AppendField("big", event.String(strings.Repeat("x", 1<<20)))
	empty := good(6)
	empty.AppendField("", event.String("v"))
	ancient := event.New(time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), "too old")
	dup := good(8)
	dup.AppendField("k", event.String("first"))
	dup.AppendField("k", event.String("last"))
	evs := []event.Event{good(0), long, good(2), many, good(4), big, empty, ancient, dup}
	err := s.Write(context.Background(), "limits", evs)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a *RejectedError", err)
	}
	want := map[int]error{1: ErrFieldNameTooLong, 3: ErrTooManyFields, 5: ErrEventTooLarge, 6: ErrEmptyFieldName, 7: ErrTimestampRange}
	if len(rej.Rejected) != len(want) || rej.Stored != 4 {
		t.Fatalf("rejections %v, stored %d", rej.Rejected, rej.Stored)
	}
	for _, r := range rej.Rejected {
		if !errors.Is(r.Err, want[r.Event]) {
			t.Errorf("event %d: %v, want %v", r.Event, r.Err, want[r.Event])
		}
	}
	t.Log(err)
	hits := searchAll(t, s, "limits")
	if len(hits) != 4 {
		t.Fatalf("%d stored, want 4", len(hits))
	}
	// The duplicate key kept its last value.
	if v, _ := hits[0].Event.GetString("k"); v != "last" {
		t.Fatalf("duplicate key: %q, want the last value", v)
	}
	// An event without a timestamp gets the current time.
	var noTime event.Event
	noTime.AppendField("message", event.String("no time"))
	mustWrite(t, s, "limits", []event.Event{noTime})
	res, _ := s.Search(context.Background(), Query{Indices: []string{"limits"}, Limit: 1})
	if got := res.Hits[0].Event; got.Message() != "no time" || time.Since(got.Time) > time.Minute {
		t.Fatalf("event without a time stored as %v %q", got.Time, got.Message())
	}
}

func TestIndexAdmin(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, testOptions())
	ctx := context.Background()
	if err := s.CreateIndex("made"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndex("made"); !errors.Is(err, ErrIndexExists) {
		t.Fatalf("create twice: %v", err)
	}
	if !s.IndexExists("made") || s.IndexExists("nope") {
		t.Fatal("IndexExists")
	}
	mustWrite(t, s, "written", dayEvents(time.Now().UTC(), 5))
	s.Close()
	s = mustOpen(t, dir, testOptions())
	st := s.Indices()
	if len(st) != 2 || st[0].Name != "made" || st[0].Events != 0 || st[1].Events != 5 || st[1].RawBytes == 0 || st[1].Bytes == 0 {
		t.Fatalf("indices after reopening: %+v", st)
	}
	if err := s.DeleteIndex("written"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIndex("written"); !errors.Is(err, ErrIndexNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if n, _ := s.Count(ctx, Query{}); n != 0 || s.IndexExists("written") {
		t.Fatalf("deleted index still there")
	}
	// Recreated by a write, empty of the old data.
	mustWrite(t, s, "written", dayEvents(time.Now().UTC(), 2))
	if n, _ := s.Count(ctx, Query{Indices: []string{"written"}}); n != 2 {
		t.Fatalf("count %d after recreating", n)
	}
}

func TestGetAndSurrounding(t *testing.T) {
	s := mustOpen(t, t.TempDir(), testOptions())
	ctx := context.Background()
	base := time.Date(2024, 6, 1, 23, 59, 55, 0, time.UTC) // crosses midnight
	var evs []event.Event
	for i := range 10 {
		evs = append(evs, event.New(base.Add(time.Duration(i)*time.Second), fmt.Sprint("line ", i)))
	}
	mustWrite(t, s, "s", evs[:5])
	mustWrite(t, s, "s", evs[5:])
	mustWrite(t, s, "other", evs) // same times, another index
	res, err := s.Search(ctx, Query{Indices: []string{"s"}, Filter: Filter{Match: func(ev *event.Event) bool { return ev.Message() == "line 5" }}})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("%v %v", res, err)
	}
	id := res.Hits[0].ID
	h, err := s.Get(ctx, id)
	if err != nil || h.Event.Message() != "line 5" || h.Index != "s" {
		t.Fatalf("Get: %+v %v", h, err)
	}
	around, err := s.Surrounding(ctx, id, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range around {
		if h.Index != "s" {
			t.Fatalf("surrounding event from index %s", h.Index)
		}
		got = append(got, h.Event.Message())
	}
	if want := []string{"line 2", "line 3", "line 4", "line 5", "line 6", "line 7"}; !slices.Equal(got, want) {
		t.Fatalf("surrounding: %v, want %v", got, want)
	}
	if _, err := s.Get(ctx, "garbage"); !errors.Is(err, ErrBadID) {
		t.Fatalf("bad id: %v", err)
	}
	gone := eventKey{t: 1, h: 2, index: "s"}.String()
	if _, err := s.Get(ctx, gone); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing id: %v", err)
	}
}

func TestIdenticalEventsPageCorrectly(t *testing.T) {
	s := mustOpen(t, t.TempDir(), testOptions())
	ts := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	var evs []event.Event
	for range 7 {
		evs = append(evs, event.New(ts, "same"))
	}
	mustWrite(t, s, "dups", evs[:3])
	mustWrite(t, s, "dups", evs[3:]) // another part
	seen := make(map[string]bool)
	q := Query{Limit: 2}
	for {
		res, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if seen[h.ID] {
				t.Fatalf("id %s returned twice", h.ID)
			}
			seen[h.ID] = true
			if g, err := s.Get(context.Background(), h.ID); err != nil || g.ID != h.ID {
				t.Fatalf("Get(%s): %v %v", h.ID, g.ID, err)
			}
		}
		if res.Cursor == "" {
			break
		}
		q.Cursor = res.Cursor
	}
	if len(seen) != 7 {
		t.Fatalf("%d identical events paged, want 7", len(seen))
	}
}

func TestSubscribe(t *testing.T) {
	opts := testOptions()
	opts.TailBuffer = 3
	s := mustOpen(t, t.TempDir(), opts)
	ch, cancel := s.Subscribe([]string{"tail-*"}, Filter{Match: func(ev *event.Event) bool { return strings.Contains(ev.Message(), "keep") }})
	now := time.Now()
	mustWrite(t, s, "other", []event.Event{event.New(now, "keep but other index")})
	mustWrite(t, s, "tail-a", []event.Event{event.New(now, "keep 1"), event.New(now, "drop"), event.New(now.Add(time.Millisecond), "keep 2")})
	for _, want := range []string{"keep 1", "keep 2"} {
		h := <-ch
		if h.Event.Message() != want || h.Index != "tail-a" || h.ID == "" {
			t.Fatalf("got %+v, want %q", h, want)
		}
		if g, err := s.Get(context.Background(), h.ID); err != nil || g.Event.Message() != want {
			t.Fatalf("Get of a tailed event: %v", err)
		}
	}
	// A slow subscriber: 3 fit, 5 are dropped, then a notice.
	var evs []event.Event
	for i := range 8 {
		evs = append(evs, event.New(now.Add(time.Duration(i)), fmt.Sprint("keep ", i)))
	}
	mustWrite(t, s, "tail-a", evs)
	// Publishing may finish after Write returns: wait until the five that
	// did not fit are counted before reading, or reading would make room.
	for deadline := time.Now().Add(5 * time.Second); s.Counters().TailDropped < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("counters %+v: the slow subscriber's drops were not counted", s.Counters())
		}
		time.Sleep(time.Millisecond)
	}
	for i := range 3 {
		if h := <-ch; h.Event.Message() != fmt.Sprint("keep ", i) {
			t.Fatalf("got %q", h.Event.Message())
		}
	}
	mustWrite(t, s, "tail-a", []event.Event{event.New(now, "keep after")})
	if h := <-ch; h.Dropped != 5 {
		t.Fatalf("got %+v, want a notice of 5 dropped", h)
	}
	if h := <-ch; h.Event.Message() != "keep after" {
		t.Fatalf("got %+v", h)
	}
	if c := s.Counters(); c.TailDropped != 5 {
		t.Fatalf("counters %+v", c)
	}
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after cancel")
	}
	// Close ends the others.
	ch2, _ := s.Subscribe(nil, Filter{})
	s.Close()
	if _, ok := <-ch2; ok {
		t.Fatal("channel open after Close")
	}
}

func TestAutoInterval(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		span   time.Duration
		target int
		want   time.Duration
	}{
		{time.Minute, 100, time.Second},
		{15 * time.Minute, 100, 10 * time.Second},
		{time.Hour, 100, time.Minute},
		{24 * time.Hour, 100, 30 * time.Minute},
		{24 * time.Hour, 40, time.Hour},
		{7 * 24 * time.Hour, 100, 3 * time.Hour},
		{365 * 24 * time.Hour, 100, 24 * time.Hour},
	} {
		if got := AutoInterval(base, base.Add(c.span), c.target); got != c.want {
			t.Errorf("AutoInterval(%v, %d) = %v, want %v", c.span, c.target, got, c.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	for in, want := range map[string]string{
		"Hello, World!":                    "hello world",
		"GET /api/v1/users?id=42 HTTP/1.1": "get api v1 users id 42 http 1 1",
		"snake_case-and.dots":              "snake_case and dots",
		"Übergröße naïve 東京タワー ΣΑΣ":        "übergröße naïve 東京タワー σασ",
		"a\xffb":                      "a b",
		"":                            "",
		"   ":                         "",
		"x١٢٣y":                       "x١٢٣y",
		"10.0.0.1:8080":               "10 0 0 1 8080",
		"ERROR[2024-01-02T10:00:00Z]": "error 2024 01 02t10 00 00z",
	} {
		if got := strings.Join(Tokenize(in), " "); got != want {
			t.Errorf("Tokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeleteWhileWriting deletes and recreates an index while writers
// write to it: every Write returns (nil), none hangs, and the store stays
// consistent.
func TestDeleteWhileWriting(t *testing.T) {
	s := mustOpen(t, t.TempDir(), testOptions())
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan error, 100)
	for w := range 4 {
		go func() {
			defer func() { errs <- nil }()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if err := s.Write(ctx, "churn", dayEvents(time.Now().UTC().Add(-time.Duration(w*24)*time.Hour), 20)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if err := s.DeleteIndex("churn"); err != nil && !errors.Is(err, ErrIndexNotFound) {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Millisecond)
	}
	close(done)
	for range 4 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("write: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a Write hung")
		}
	}
	if _, err := s.Count(ctx, Query{}); err != nil {
		t.Fatal(err)
	}
}
