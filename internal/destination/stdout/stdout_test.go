package stdout

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingWriter records every Write call.
type countingWriter struct {
	bytes.Buffer
	calls int
	err   error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.err != nil {
		return 0, w.err
	}
	return w.Buffer.Write(p)
}

func testBatch() *event.Batch {
	t0 := time.Date(2025, 3, 14, 10, 20, 30, 0, time.UTC)
	a := event.New(t0, "first line")
	a.SetString("log.level", "info")
	a.SetString("_route", "secret-internal")
	b := event.New(t0, `second "quoted"`)
	b.SetValue("status", event.Int(500))
	noMsg := event.Event{Time: t0}
	noMsg.SetString("host.name", "h1")
	batch := event.NewBatch("test")
	batch.Events = append(batch.Events, a, b, noMsg)
	return batch
}

func TestFormats(t *testing.T) {
	tests := []struct {
		format string
		want   string
	}{
		{"json", `{"@timestamp":"2025-03-14T10:20:30Z","log":{"level":"info"},"message":"first line"}` + "\n" +
			`{"@timestamp":"2025-03-14T10:20:30Z","message":"second \"quoted\"","status":500}` + "\n" +
			`{"@timestamp":"2025-03-14T10:20:30Z","host":{"name":"h1"}}` + "\n"},
		{"text", "first line\nsecond \"quoted\"\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			c := NewConfig().(*Config)
			c.Format = tt.format
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			var w countingWriter
			s := newSink(c, componenttest.Env(t, "out", nil), &w)
			b := testBatch()
			defer b.Release()
			for range 2 {
				if err := s.Write(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.String(); got != tt.want+tt.want {
				t.Fatalf("got\n%s\nwant (twice)\n%s", got, tt.want)
			}
			if w.calls != 2 {
				t.Fatalf("%d write calls for 2 batches, want 2", w.calls)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		format string
		ok     bool
	}{{"json", true}, {"text", true}, {"", false}, {"yaml", false}} {
		c := &Config{Format: tt.format}
		err := c.Validate()
		var fe *component.FieldError
		if tt.ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "format")) {
			t.Errorf("format %q: error = %v", tt.format, err)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := &countingWriter{err: errors.New("broken pipe")}
	s := newSink(&Config{Format: "json"}, componenttest.Env(t, "out", nil), w)
	b := testBatch()
	defer b.Release()
	err := s.Write(context.Background(), b)
	if err == nil || component.IsPermanent(err) {
		t.Fatalf("error = %v, want a retryable error", err)
	}
}

func TestSpecBuild(t *testing.T) {
	sink, err := Spec.Build(Spec.NewConfig(), componenttest.Env(t, "out", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkStdoutWrite(b *testing.B) {
	t0 := time.Now()
	batch := event.NewBatch("bench")
	for i := range 1000 {
		ev := event.New(t0.Add(time.Duration(i)), "GET /api/v1/orders/000123 HTTP/1.1 200 1532 \"-\" \"curl/8.5.0\" 0.012")
		ev.SetString("log.level", "info")
		ev.SetString("host.name", "node-7")
		ev.SetString("kubernetes.namespace", "payments")
		ev.SetString("kubernetes.pod.name", "checkout-7d9f8b6c5d-x2k4q")
		batch.Events = append(batch.Events, ev)
	}
	defer batch.Release()
	var w countingWriter
	s := newSink(&Config{Format: "json"}, componenttest.Env(b, "out", nil), &w)
	_ = s.Write(context.Background(), batch)
	b.SetBytes(int64(w.Len()))
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
