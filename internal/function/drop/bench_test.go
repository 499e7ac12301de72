package drop

import (
	"testing"

	"github.com/sluicehq/sluice/internal/function/fntest"
)

func BenchmarkDrop(b *testing.B) {
	f := fntest.Build(b, Spec, `percentage: 50`)
	fntest.Bench(b, f, fntest.Event(b, `{"@timestamp":"2026-05-01T10:00:00Z","message":"GET /api/v1/users 200 in 12ms","host":{"name":"web-01"},"kubernetes":{"namespace":"shop","pod":{"name":"web-7d9f"},"labels":{"app":"web"}},"http":{"response":{"status_code":200}},"duration_ms":712,"app":"web","debug":"x","log":{"level":"INFO"}}`))
}
