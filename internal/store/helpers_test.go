package store

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/event"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeBenchStore()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testOptions flush fast and log nothing.
func testOptions() Options {
	return Options{
		FlushInterval: 5 * time.Millisecond,
		Logger:        slog.New(slog.DiscardHandler),
		HighWatermark: 2, // off: the test machine's disk is not ours
	}
}

func mustOpen(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustWrite(t testing.TB, s *Store, index string, evs []event.Event) {
	t.Helper()
	if err := s.Write(context.Background(), index, evs); err != nil {
		t.Fatal(err)
	}
}

// canon renders an event in a canonical text form: time, then the fields
// sorted by key with their canonical value encodings.
func canon(ev *event.Event) string {
	var b strings.Builder
	b.WriteString(ev.Time.UTC().Format(time.RFC3339Nano))
	fields := slices.Clone(ev.Fields())
	slices.SortFunc(fields, func(a, b event.Field) int { return strings.Compare(a.Key, b.Key) })
	for _, f := range fields {
		fmt.Fprintf(&b, " %s=%x", f.Key, appendCanon(nil, f.Value))
	}
	return b.String()
}

// stored is what a brute-force model of the store holds for one event.
type stored struct {
	index string
	key   eventKey
	ev    event.Event
	canon string
}

func model(index string, evs []event.Event) []stored {
	out := make([]stored, len(evs))
	for i := range evs {
		ev := evs[i]
		if dupKeys(ev.Fields()) {
			ev = dedupe(&ev)
		}
		h, _ := eventHash(&ev, nil)
		out[i] = stored{index: index, key: eventKey{t: ev.Time.UnixNano(), h: h, index: index}, ev: ev, canon: canon(&ev)}
	}
	return out
}

// sortModel sorts like a search: newest first unless asc.
func sortModel(m []stored, asc bool) {
	slices.SortStableFunc(m, func(a, b stored) int {
		c := cmpKey(&a.key, &b.key)
		if asc {
			return c
		}
		return -c
	})
}

var (
	words    = strings.Fields("error warn info debug connection refused timeout user login failed succeeded disk full retry backoff cache miss hit request response upstream downstream kafka broker partition leader élan Über naïve 東京 数据")
	services = []string{"api", "web", "db", "auth", "billing"}
	levels   = []string{"debug", "info", "warn", "error"}
)

// randEvent returns a realistic random event at time t.
func randEvent(rng *rand.Rand, t time.Time, seq int) event.Event {
	ev := event.NewSized(t, 8)
	var msg strings.Builder
	for i := range 3 + rng.IntN(8) {
		if i > 0 {
			msg.WriteByte(' ')
		}
		msg.WriteString(words[rng.IntN(len(words))])
	}
	fmt.Fprintf(&msg, " id=%d", seq)
	ev.AppendField("message", event.String(msg.String()))
	ev.AppendField("service", event.String(services[rng.IntN(len(services))]))
	ev.AppendField("log.level", event.String(levels[rng.IntN(len(levels))]))
	ev.AppendField("status", event.Int(int64([]int{200, 200, 200, 404, 500, 503}[rng.IntN(6)])))
	if rng.IntN(3) == 0 {
		ev.AppendField("duration", event.Float(rng.Float64()*100))
	}
	if rng.IntN(5) == 0 {
		ev.AppendField("tags", event.Any([]any{"a", words[rng.IntN(len(words))]}))
	}
	if rng.IntN(7) == 0 {
		ev.AppendField("user.admin", event.Bool(rng.IntN(2) == 0))
	}
	if rng.IntN(11) == 0 {
		ev.AppendField(fmt.Sprintf("extra.f%d", rng.IntN(20)), event.String(words[rng.IntN(len(words))]))
	}
	return ev
}

// allValuesEvents has every value kind, in dense, sparse, constant,
// dictionary and mixed columns.
func allValuesEvents(base time.Time) []event.Event {
	var evs []event.Event
	add := func(ev event.Event) { evs = append(evs, ev) }
	for i := range 300 {
		ev := event.NewSized(base.Add(time.Duration(i)*time.Millisecond+time.Duration(i%7)), 16)
		ev.AppendField("const", event.String("same"))
		ev.AppendField("dict", event.String(services[i%len(services)]))
		ev.AppendField("plain", event.String(fmt.Sprintf("value %d with some text ünïcødé", i*7919)))
		ev.AppendField("int", event.Int(int64(i*i)-5000))
		ev.AppendField("float", event.Float(float64(i)/3))
		ev.AppendField("bool", event.Bool(i%3 == 0))
		ev.AppendField("time", event.Time(base.Add(time.Duration(i)*time.Hour+123456789)))
		ev.AppendField("null", event.Null)
		if i%4 == 0 {
			ev.AppendField("sparse", event.String("s"+fmt.Sprint(i)))
		}
		if i%10 == 0 {
			ev.AppendField("sparse.const", event.Int(42))
		}
		switch i % 6 {
		case 0:
			ev.AppendField("mixed", event.String("text"))
		case 1:
			ev.AppendField("mixed", event.Int(int64(i)))
		case 2:
			ev.AppendField("mixed", event.Float(math.Inf(1)))
		case 3:
			ev.AppendField("mixed", event.Null)
		case 4:
			ev.AppendField("mixed", event.Any([]any{int64(1), "two", 3.5, true, nil, map[string]any{"k": "v", "n": int64(2)}}))
		case 5:
			ev.AppendField("mixed", event.Time(time.Date(2300, 1, 2, 3, 4, 5, 6, time.UTC)))
		}
		ev.AppendField("json", event.Any([]any{"x", int64(i)}))
		add(ev)
	}
	odd := event.NewSized(base.Add(time.Hour), 8)
	odd.AppendField("empty", event.String(""))
	odd.AppendField("nan", event.Float(math.NaN()))
	odd.AppendField("negzero", event.Float(math.Copysign(0, -1)))
	odd.AppendField("minint", event.Int(math.MinInt64))
	odd.AppendField("maxint", event.Int(math.MaxInt64))
	odd.AppendField("zero time", event.Time(time.Time{}))
	odd.AppendField("invalid utf8", event.String("a\xffb\x00c"))
	odd.AppendField("big", event.String(strings.Repeat("long line ", 20000)))
	odd.AppendField("emptyarr", event.Any([]any{}))
	odd.AppendField("@timestamp", event.String("a string timestamp field"))
	add(odd)
	return evs
}

// searchAll returns every event of the indices, newest first.
func searchAll(t testing.TB, s *Store, indices ...string) []Hit {
	t.Helper()
	var hits []Hit
	q := Query{Indices: indices, Limit: 1000}
	for {
		res, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		hits = append(hits, res.Hits...)
		if res.Cursor == "" {
			return hits
		}
		q.Cursor = res.Cursor
	}
}

// mergeAll merges every partition down to one part (for stores opened
// with DisableMerges).
func mergeAll(t testing.TB, s *Store) {
	t.Helper()
	s.mu.RLock()
	var ps []*partition
	for _, idx := range s.indices {
		ps = append(ps, idx.partitionList()...)
	}
	s.mu.RUnlock()
	for _, p := range ps {
		for {
			parts := p.pickMerge(true)
			if parts == nil {
				break
			}
			err := s.mergeParts(p, parts)
			p.doneMerging(parts)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
