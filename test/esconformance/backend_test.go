package esconformance

import (
	"testing"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/esapi/esapitest"
)

// newBackend returns the backend a conformance run serves the API over.
// Each test file gets a fresh one; t.TempDir and t.Cleanup are available
// for a backend that keeps data on disk.
//
// It is the one place to change to run the conformance files against the
// store: return the store's esapi.Backend adapter here.
func newBackend(t *testing.T) esapi.Backend {
	t.Helper()
	return esapitest.NewMemory()
}
