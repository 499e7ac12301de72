package store

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

var (
	benchHosts = func() (h []string) {
		for i := range 20 {
			h = append(h, fmt.Sprintf("node-%02d", i))
		}
		return
	}()
	benchServices = []string{"api", "web", "auth", "billing", "search", "db", "cache", "queue"}
	benchLevels   = []string{"info", "info", "info", "info", "warn", "error", "debug"}
)

// benchEvent returns a realistic log event of about 150 bytes of JSON:
// a templated message with variable parts, service, level, host and
// status fields.
func benchEvent(rng *rand.Rand, t time.Time, buf []byte) (event.Event, []byte) {
	buf = buf[:0]
	status := []int{200, 200, 200, 200, 201, 204, 301, 400, 404, 500, 503}[rng.IntN(11)]
	switch rng.IntN(5) {
	case 0:
		buf = fmt.Appendf(buf, "GET /api/v1/users/%d HTTP/1.1 %d %dms", rng.IntN(100000), status, rng.IntN(900))
	case 1:
		buf = fmt.Appendf(buf, "user u%d logged in from 10.%d.%d.%d", rng.IntN(5000), rng.IntN(256), rng.IntN(256), rng.IntN(256))
	case 2:
		buf = fmt.Appendf(buf, "connection to db-%d timed out after %dms, retrying", rng.IntN(8), rng.IntN(5000))
	case 3:
		buf = fmt.Appendf(buf, "cache miss for key session:%x", rng.Uint32())
	default:
		buf = fmt.Appendf(buf, "order %d processed in %dms total=%d.%02d", rng.IntN(1000000), rng.IntN(300), rng.IntN(500), rng.IntN(100))
	}
	ev := event.NewSized(t, 5)
	ev.AppendField("message", event.String(string(buf)))
	ev.AppendField("service", event.String(benchServices[rng.IntN(len(benchServices))]))
	ev.AppendField("log.level", event.String(benchLevels[rng.IntN(len(benchLevels))]))
	ev.AppendField("host.name", event.String(benchHosts[rng.IntN(len(benchHosts))]))
	ev.AppendField("status", event.Int(int64(status)))
	return ev, buf
}

func benchOptions() Options {
	return Options{Logger: slog.New(slog.DiscardHandler), HighWatermark: 2}
}

// ingest appends n events with the given number of writer goroutines,
// each appending batches of batch events (asynchronously, acknowledged by
// Append's callback), and waits for every acknowledgement. The events'
// contents come from a pregenerated pool (so the allocations measured are
// the store's); their times advance through [from, from+span).
func ingest(tb testing.TB, s *Store, index string, n, writers, batch int, from time.Time, span time.Duration) {
	per := n / writers
	var wg sync.WaitGroup
	var pending sync.WaitGroup
	var failed atomic.Value
	const poolSize = 50_000
	for w := range writers {
		wg.Add(1)
		rng := rand.New(rand.NewPCG(uint64(w), 42))
		var buf []byte
		pool := make([]event.Event, min(poolSize, per))
		for i := range pool {
			pool[i], buf = benchEvent(rng, from, buf)
		}
		go func() {
			defer wg.Done()
			evs := make([]event.Event, batch)
			for done := 0; done < per; {
				k := min(batch, per-done)
				evs = evs[:k]
				for i := range evs {
					// Time order within a writer, as a live source sends.
					evs[i] = pool[(done+i)%len(pool)]
					evs[i].Time = from.Add(time.Duration(int64(span) * int64(done+i) / int64(per)))
				}
				pending.Add(1)
				err := s.Append(context.Background(), index, evs, func(err error) {
					if err != nil {
						failed.Store(err)
					}
					pending.Done()
				})
				if err != nil {
					pending.Done()
					failed.Store(err)
					return
				}
				done += k
			}
		}()
	}
	wg.Wait()
	pending.Wait()
	if err, _ := failed.Load().(error); err != nil {
		tb.Fatal(err)
	}
}

func peakRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

// BenchmarkIngest measures durable ingest: b.N events of ~150 bytes of
// JSON, appended in batches of 1000 by 1 or 4 writers with the default
// group commit (1s), until every batch is acknowledged (fsynced). One op
// is one event.
func BenchmarkIngest(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			dir := b.TempDir()
			s, err := Open(dir, benchOptions())
			if err != nil {
				b.Fatal(err)
			}
			from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			ingest(b, s, "bench", max(b.N, writers), writers, 1000, from, time.Hour)
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
			st := s.Indices()
			s.Close()
			if len(st) == 1 && st[0].Bytes > 0 {
				b.ReportMetric(float64(st[0].RawBytes)/float64(st[0].Events), "rawB/event")
				b.ReportMetric(float64(st[0].Bytes)/float64(st[0].Events), "diskB/event")
			}
			b.Logf("%d events: peak RSS %s", b.N, peakRSS())
		})
	}
}

// The search benchmarks share one store of benchEvents() events (default
// 2M, SLUICE_BENCH_EVENTS to change) spread over one day, ingested by 4
// writers and merged as an idle day would be. A needle token is in 10 of
// them.
var (
	benchOnce  sync.Once
	benchS     *Store
	benchDirTm string
	benchDay   = time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC)
)

const needle = "needle7x9q"

func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("SLUICE_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 2_000_000
}

func benchStore(b *testing.B) *Store {
	benchOnce.Do(func() {
		var err error
		if benchDirTm, err = os.MkdirTemp("", "sluice-store-bench-"); err != nil {
			b.Fatal(err)
		}
		// Merged by hand below, so no background merge disturbs the timings.
		opts := benchOptions()
		opts.DisableMerges = true
		s, err := Open(benchDirTm, opts)
		if err != nil {
			b.Fatal(err)
		}
		n := benchEvents()
		start := time.Now()
		ingest(b, s, "logs", n, 4, 1000, benchDay, 24*time.Hour)
		ing := time.Since(start)
		rng := rand.New(rand.NewPCG(9, 9))
		var needles []event.Event
		for range 10 {
			ev := event.New(benchDay.Add(time.Duration(rng.Int64N(int64(24*time.Hour)))), "found the "+needle+" in the haystack")
			ev.AppendField("service", event.String("api"))
			needles = append(needles, ev)
		}
		if err := s.Write(context.Background(), "logs", needles); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		mergeAll(b, s)
		st := s.Indices()[0]
		var bloom uint64
		for _, p := range s.indices["logs"].partitionList() {
			for _, pt := range p.parts {
				bloom += pt.meta.bloomSize
			}
		}
		fmt.Fprintf(os.Stderr, "bench store: %d events ingested in %v (%.0f/s), final merge %v; %d parts, %.1f MB raw JSON, %.1f MB on disk (1/%.1f, Bloom filters %.0f%%)\n",
			st.Events, ing.Round(time.Millisecond), float64(n)/ing.Seconds(), time.Since(start).Round(time.Millisecond),
			st.Parts, float64(st.RawBytes)/1e6, float64(st.Bytes)/1e6, float64(st.RawBytes)/float64(st.Bytes), 100*float64(bloom)/float64(st.Bytes))
		benchS = s
	})
	if benchS == nil {
		b.Skip("bench store failed")
	}
	return benchS
}

func closeBenchStore() {
	if benchS != nil {
		benchS.Close()
		os.RemoveAll(benchDirTm)
	}
}

func benchSearch(b *testing.B, q Query, wantMin int64) {
	s := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var res *Result
	for b.Loop() {
		var err error
		if res, err = s.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if res.Total < wantMin {
		b.Fatalf("total %d, want at least %d", res.Total, wantMin)
	}
	b.ReportMetric(float64(res.Total), "matches")
}

func BenchmarkSearchNeedle(b *testing.B) {
	benchSearch(b, Query{Filter: Filter{
		Match:   func(ev *event.Event) bool { return containsToken(ev.Message(), needle) },
		Clauses: [][][]string{{{needle}}},
	}}, 10)
}

func BenchmarkSearchFieldTerms(b *testing.B) {
	// status:500 and service:api
	benchSearch(b, Query{Filter: Filter{
		Match: func(ev *event.Event) bool {
			st, _ := ev.Lookup("status")
			svc, _ := ev.GetString("service")
			return svc == "api" && st.Interface() == int64(500)
		},
		Clauses: [][][]string{{{FieldToken("service", "api")}}, {{FieldToken("status", "500")}}},
		Fields:  []string{"service", "status"},
	}}, 1000)
}

func BenchmarkSearchNewest(b *testing.B) {
	benchSearch(b, Query{}, int64(benchEvents()))
}

func BenchmarkSearchFreeText(b *testing.B) {
	// A common word: most blocks pass the Bloom filters, Match decides.
	benchSearch(b, Query{Filter: Filter{
		Match:   func(ev *event.Event) bool { return containsToken(ev.Message(), "timed") },
		Clauses: [][][]string{{{"timed"}}},
		Fields:  []string{"message"},
	}}, 1000)
}

func BenchmarkHistogram24h(b *testing.B) {
	s := benchStore(b)
	q := Query{From: benchDay, To: benchDay.Add(24 * time.Hour)}
	iv := AutoInterval(q.From, q.To, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Histogram(context.Background(), q, iv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHistogram24hFiltered(b *testing.B) {
	s := benchStore(b)
	q := Query{From: benchDay, To: benchDay.Add(24 * time.Hour), Filter: Filter{
		Match:   func(ev *event.Event) bool { v, _ := ev.GetString("log.level"); return v == "error" },
		Clauses: [][][]string{{{FieldToken("log.level", "error")}}},
		Fields:  []string{"log.level"},
	}}
	iv := AutoInterval(q.From, q.To, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Histogram(context.Background(), q, iv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTopValues(b *testing.B) {
	s := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.TopValues(context.Background(), Query{}, "host.name", 10); err != nil {
			b.Fatal(err)
		}
	}
}
