package esconformance

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/search"
	"github.com/sluicehq/sluice/internal/store"
)

// newBackend returns the backend a conformance run serves the API over:
// the real store in a fresh directory for each test file, through the
// adapter sluice uses (search.ESBackend).
func newBackend(t *testing.T) esapi.Backend {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{FlushInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &search.ESBackend{Store: st}
}
