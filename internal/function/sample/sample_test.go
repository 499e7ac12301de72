package sample

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func keyed(k string) event.Event {
	ev := event.New(base, "m")
	ev.SetString("k", k)
	return ev
}

func TestExactCounts(t *testing.T) {
	for _, rate := range []int{1, 2, 7, 10, 1000} {
		f := fntest.Build(t, Spec, fmt.Sprintf("rate: %d", rate))
		kept := 0
		for i := 0; i < 10000; i++ {
			out := f.Run(event.New(base, "m"))
			keep := len(out) == 1
			if want := i%rate == 0; keep != want {
				t.Fatalf("rate %d: event %d kept=%v, want %v", rate, i, keep, want)
			}
			if keep {
				kept++
				if v, _ := out[0].Lookup("sample_rate"); v.Interface() != int64(rate) {
					t.Fatalf("rate %d: sample_rate %v", rate, v.Interface())
				}
			}
		}
		if want := (10000 + rate - 1) / rate; kept != want {
			t.Errorf("rate %d: kept %d, want %d", rate, kept, want)
		}
	}
}

func TestPerKey(t *testing.T) {
	f := fntest.Build(t, Spec, "rate: 3\nkey: '%{k}'\nrate_field: ''")
	seq := "aababcabcabcccca" // each key keeps its 1st, 4th, 7th... event
	counts := map[rune]int{}
	for i, k := range seq {
		out := f.Run(keyed(string(k)))
		keep := len(out) == 1
		if exp := counts[k]%3 == 0; keep != exp {
			t.Errorf("event %d (%c, #%d of its key): kept=%v", i, k, counts[k]+1, keep)
		}
		counts[k]++
		if keep && out[0].Has("sample_rate") {
			t.Error("rate_field '' still set sample_rate")
		}
	}
}

func TestMaxKeysForgetsLeastRecent(t *testing.T) {
	f := fntest.Build(t, Spec, "rate: 10\nkey: '%{k}'\nmax_keys: 2")
	kept := func(k string) bool { return len(f.Run(keyed(k))) == 1 }
	steps := []struct {
		k    string
		keep bool
	}{
		{"a", true}, {"b", true}, {"a", false}, {"b", false},
		{"c", true},  // forgets a (least recently seen)
		{"b", false}, // b still counting
		{"a", true},  // a forgotten: counts as a first event; forgets c
		{"c", true},
	}
	for i, s := range steps {
		if got := kept(s.k); got != s.keep {
			t.Errorf("step %d (%s): kept=%v, want %v", i, s.k, got, s.keep)
		}
	}
}

func TestManyKeysBounded(t *testing.T) {
	f := fntest.Build(t, Spec, "rate: 2\nkey: 'k%{id}'\nmax_keys: 5000").Function.(*fn)
	ev := event.New(base, "m")
	for i := 0; i < 100_000; i++ {
		ev.SetValue("id", event.Int(int64(i)))
		e := ev
		f.Apply(&e, nil)
	}
	if n := f.cache.Len(); int64(n) > f.cache.Capacity() || n < 4000 {
		t.Errorf("%d keys kept, capacity %d", n, f.cache.Capacity())
	}
}

// TestConcurrent: whatever the interleaving, exactly ceil(n/rate) events
// are kept, globally and per key.
func TestConcurrent(t *testing.T) {
	for _, cfg := range []string{"rate: 7", "rate: 7\nkey: '%{k}'"} {
		f := fntest.Build(t, Spec, cfg)
		const workers, per = 8, 7000
		var kept [2]atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < per; i++ {
					k := (i + w) % 2
					if len(f.Run(keyed(fmt.Sprint(k)))) == 1 {
						kept[k].Add(1)
					}
				}
			}(w)
		}
		wg.Wait()
		total := kept[0].Load() + kept[1].Load()
		if want := int64((workers*per + 6) / 7); total != want {
			t.Errorf("%q: kept %d, want %d", cfg, total, want)
		}
		if cfg != "rate: 7" {
			for k := range kept {
				if want := int64((workers*per/2 + 6) / 7); kept[k].Load() != want {
					t.Errorf("key %d kept %d, want %d", k, kept[k].Load(), want)
				}
			}
		}
	}
}

func TestValidation(t *testing.T) {
	cases := []struct{ yaml, key string }{
		{"rate: 0", "rate"},
		{"rate: -3", "rate"},
		{"key: '%{a'", "key"},
		{"key: '%{a}'\nmax_keys: 0", "max_keys"},
		{"rate_field: '@timestamp'", "rate_field"},
	}
	for _, c := range cases {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}

func BenchmarkSample(b *testing.B) {
	for _, c := range []struct{ name, cfg string }{
		{"global", "rate: 10"},
		{"10k_keys", "rate: 10\nkey: '%{host.name}'"},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, c.cfg)
			evs := make([]event.Event, 10000)
			for i := range evs {
				evs[i] = event.NewSized(base, 6)
				evs[i].AppendField("message", event.String("GET / 200"))
				evs[i].AppendField("host.name", event.String(fmt.Sprintf("node-%05d", i)))
			}
			ev := new(event.Event)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				*ev = evs[i%len(evs)]
				f.Apply(ev, nil)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
