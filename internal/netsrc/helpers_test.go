package netsrc

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component/componenttest"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// lineHandler is the smallest useful Handler: one event per line.
func lineHandler(env component.Env, m *metrics.Source, maxBytes int) Handler {
	return func(ctx context.Context, c *Conn) error {
		fr := NewFramer(c, FramerOptions{MaxBytes: maxBytes})
		for {
			ch, err := fr.Next()
			if len(ch.Frames) > 0 || ch.Bytes > 0 {
				b := event.NewBatch(env.Name)
				now := time.Now()
				for _, f := range ch.Frames {
					ev := event.New(now, f.Text)
					if f.Truncated {
						ev.AddTag("_truncated")
					}
					b.Events = append(b.Events, ev)
				}
				b.Bytes = ch.Bytes
				if cerr := Emit(ctx, env.Out, m, b); cerr != nil && ctx.Err() != nil {
					return cerr
				}
			}
			if err != nil {
				return err
			}
		}
	}
}

// waitUntil polls cond until it holds or the timeout passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func selfSignedTLS(t testing.TB) (server, client *tls.Config) {
	c := componenttest.SelfSigned(t)
	return c.Server, c.Client
}
