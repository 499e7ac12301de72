package hash

import (
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: ['']", "fields"},
		{"fields: ['@timestamp']", "fields"},
		{"fields: [a, a]", "fields"},
		{"fields: [user, user.email]", "fields"},
		{"fields: [a.b, a]", "fields"},
		{"fields: [a]\nalgorithm: crc32", "algorithm"},
		{"fields: [a]\nalgorithm: ''", "algorithm"},
		{"fields: [a]\nencoding: base32", "encoding"},
		{"fields: [a]\nfingerprint: fp\ntarget: x", "target"},
		{"fields: [a]\nfingerprint: '@timestamp'", "fingerprint"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}

// TestConcurrent runs one function from many goroutines (under -race): the
// pooled hashes must not leak state between events.
func TestConcurrent(t *testing.T) {
	f := fntest.Build(t, Spec, "fields: [a]\nsalt: s")
	want := f.Run(fntest.Event(t, `{"a":"x"}`))[0]
	w, _ := want.GetString("a")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				ev := event.Event{}
				ev.SetString("a", "x")
				f.Apply(&ev, nil)
				if got, _ := ev.GetString("a"); got != w {
					t.Errorf("got %s, want %s", got, w)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkHash(b *testing.B) {
	for _, bc := range []struct{ name, cfg string }{
		{"each", "fields: [user.email, client.ip]\nsalt: s"},
		{"fingerprint", "fields: [host.name, message]\nfingerprint: fp"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, bc.cfg)
			src := fntest.Event(b, `{"message":"GET /api/v1/users 200","host":{"name":"web-1"},"user":{"email":"a@b.io"},"client":{"ip":"10.0.0.1"}}`)
			fntest.Bench(b, f, src)
		})
	}
}

func TestOverlapAllowedInFingerprint(t *testing.T) {
	if _, err := fntest.TryBuild(Spec, "fields: [user, user.email]\nfingerprint: fp"); err != nil {
		t.Error(err)
	}
	if _, err := fntest.TryBuild(Spec, "fields: [ab, a]"); err != nil {
		t.Error(err)
	}
}
