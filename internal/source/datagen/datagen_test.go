package datagen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/gen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, c *Config, out component.Consumer) component.Source {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	src, err := Spec.Build(c, componenttest.Env(t, "gen1", out))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := src.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return src
}

func TestValidate(t *testing.T) {
	c := Spec.NewConfig().(*Config)
	if c.Format != "json" || c.Rate != 10 || c.Batch != 100 || c.Count != 0 {
		t.Fatalf("defaults %+v", c)
	}
	for _, bad := range []struct {
		field string
		edit  func(*Config)
	}{
		{"format", func(c *Config) { c.Format = "xml" }},
		{"rate", func(c *Config) { c.Rate = -1 }},
		{"batch", func(c *Config) { c.Batch = 0 }},
		{"size", func(c *Config) { c.Size = 0 }},
	} {
		c := NewConfig()
		bad.edit(c)
		var fe *component.FieldError
		if err := c.Validate(); !errors.As(err, &fe) || fe.Field != bad.field {
			t.Errorf("%s: got %v", bad.field, err)
		}
	}
}

func TestJSON(t *testing.T) {
	col := componenttest.NewCollector()
	start(t, &Config{Format: "json", Rate: 0, Count: 250, Batch: 100, Size: 128, Seed: 1}, col)
	evs := col.WaitFor(t, 250, 5*time.Second)
	time.Sleep(20 * time.Millisecond) // the count is a limit: no more may come
	if evs = col.Events(); len(evs) != 250 || col.Batches() != 3 {
		t.Fatalf("%d events in %d batches, want 250 in 3", len(evs), col.Batches())
	}
	seen := map[string]bool{}
	for i := range evs {
		ev := &evs[i]
		id, _ := ev.GetString("id")
		if !strings.HasPrefix(id, "gen1-") || seen[id] {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
		if ev.Time.IsZero() || ev.Message() == "" {
			t.Fatalf("no time or message: %v", ev.Object(true))
		}
		if _, ok := ev.GetString("service.name"); !ok {
			t.Fatalf("no service.name: %v", ev.SortedKeys())
		}
		if v, ok := ev.Lookup("http.response.status_code"); ok {
			if _, isStr := v.Str(); isStr {
				t.Fatalf("status code is a string: %v", v)
			}
		}
	}
	if !seen["gen1-1"] || !seen["gen1-250"] {
		t.Fatal("ids do not run from 1 to 250")
	}
}

func TestTextFormats(t *testing.T) {
	for _, f := range []string{"syslog", "syslog3164", "apache", "raw"} {
		t.Run(f, func(t *testing.T) {
			col := componenttest.NewCollector()
			before := time.Now()
			start(t, &Config{Format: f, Rate: 0, Count: 20, Batch: 7, Size: 100, Seed: 2, RunID: "x"}, col)
			evs := col.WaitFor(t, 20, 5*time.Second)
			for i := range evs {
				msg := evs[i].Message()
				if id, ok := gen.ExtractID([]byte(msg)); !ok || !strings.HasPrefix(id, "x-") {
					t.Fatalf("no id in message %q", msg)
				}
				if evs[i].Time.Before(before) || evs[i].Len() != 1 {
					t.Fatalf("event %v", evs[i].Object(true))
				}
			}
		})
	}
}

func TestK8s(t *testing.T) {
	col := componenttest.NewCollector()
	start(t, &Config{Format: "k8s", Rate: 0, Count: 200, Batch: 50, Size: 128, Seed: 3}, col)
	evs := col.WaitFor(t, 200, 5*time.Second)
	jsonMsgs := 0
	for i := range evs {
		ev := &evs[i]
		if s, _ := ev.GetString("stream"); s != "stdout" && s != "stderr" {
			t.Fatalf("stream %q", s)
		}
		if ev.Message() == "" {
			t.Fatalf("no message: %v", ev.Object(true))
		}
		if _, ok := ev.GetString("log.level"); ok {
			jsonMsgs++
			if id, _ := ev.GetString("id"); !strings.HasPrefix(id, "gen1-") {
				t.Fatalf("JSON message without id: %v", ev.Object(true))
			}
		}
	}
	if jsonMsgs < 50 || jsonMsgs > 170 {
		t.Fatalf("%d of 200 messages were JSON", jsonMsgs)
	}
}

func TestRate(t *testing.T) {
	col := componenttest.NewCollector()
	src := start(t, &Config{Format: "raw", Rate: 100, Batch: 100, Size: 64, Seed: 1}, col)
	time.Sleep(500 * time.Millisecond)
	if err := src.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 50 due in 0.5s; allow for a slow, shared machine.
	if n := len(col.Events()); n < 25 || n > 75 {
		t.Fatalf("%d events in 0.5s at rate 100", n)
	}
	if col.Batches() < 10 {
		t.Fatalf("%d batches: a low rate must trickle, not burst", col.Batches())
	}
}

func TestStopUnderBackpressure(t *testing.T) {
	col := componenttest.NewCollector()
	col.SetBlock(true)
	src := start(t, &Config{Format: "json", Rate: 0, Batch: 10, Size: 128, Seed: 1}, col)
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := src.Stop(ctx); err != nil {
		t.Fatalf("stop while blocked: %v", err)
	}
	if err := src.Stop(ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}
}

func TestStopBeforeStartAndStartTwice(t *testing.T) {
	col := componenttest.NewCollector()
	src, err := New(*NewConfig(), componenttest.Env(t, "g", col))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err == nil {
		t.Error("second Start must fail")
	}
	if err := src.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkMakeBatch(b *testing.B) {
	for _, f := range []string{"json", "raw"} {
		b.Run(f, func(b *testing.B) {
			src, err := New(Config{Format: f, Batch: 100, Size: 150, Seed: 1}, componenttest.Env(b, "g", componenttest.NewCollector()))
			if err != nil {
				b.Fatal(err)
			}
			batch, buf := src.makeBatch(nil, 1, 100)
			b.SetBytes(int64(batch.Bytes))
			batch.Release()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch, buf = src.makeBatch(buf, uint64(i)*100+1, 100)
				batch.Release()
			}
		})
	}
}
