package esconformance

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/esapi"
)

// conformanceDir is where the YAML tests and API specs are: beside the
// repository (../shared) unless SLUICE_ES_CONFORMANCE_DIR says otherwise.
func conformanceDir() string {
	if d := os.Getenv("SLUICE_ES_CONFORMANCE_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "conformance", "es")
}

// TestConformance runs every test file of the conformance directory.
func TestConformance(t *testing.T) {
	dir := conformanceDir()
	if _, err := os.Stat(filepath.Join(dir, "tests")); err != nil {
		t.Skipf("the Elasticsearch YAML tests are not present (%s): %v", dir, err)
	}
	specs, err := loadSpecs(filepath.Join(dir, "api"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	err = filepath.WalkDir(filepath.Join(dir, "tests"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var (
		mu      sync.Mutex
		results []result
	)
	record := func(r result) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	external := os.Getenv("SLUICE_ES_URL")
	for _, path := range files {
		rel, _ := filepath.Rel(filepath.Join(dir, "tests"), path)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := parseSuite(rel, data)
			if err != nil {
				record(result{file: rel, test: "(file)", status: "failed", reason: "cannot parse: " + err.Error()})
				t.Fatal(err)
			}
			if !s.stack {
				for _, tc := range s.tests {
					record(result{file: rel, test: tc.name, status: "skipped", reason: "serverless only (requires stack: false)"})
				}
				t.Skip("serverless only (requires stack: false)")
			}
			base := strings.TrimRight(external, "/")
			if base == "" {
				srv := httptest.NewServer(esapi.New(newBackend(t), esapi.Options{}))
				t.Cleanup(srv.Close)
				base = srv.URL
			}
			runSuite(t, s, base, specs, record)
		})
	}
	t.Logf("Elasticsearch YAML conformance (%s):\n%s", dir, summarize(results))
	if out := os.Getenv("SLUICE_ES_CONFORMANCE_REPORT"); out != "" {
		if err := os.WriteFile(out, []byte(summarize(results)), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runSuite runs the tests of one file: setup, the test, teardown (always).
func runSuite(t *testing.T, s *suite, base string, specs map[string]*apiSpec, record func(result)) {
	client := &http.Client{Timeout: 60 * time.Second}
	version := serverVersion(client, base)
	for _, tc := range s.tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := &runner{base: base, client: client, specs: specs, version: version, stash: map[string]any{}}
			err := r.run(s.setup)
			if err == nil {
				err = r.run(tc.steps)
			}
			var skip *skipError
			// Teardown runs whatever happened, on a fresh response state.
			if len(s.teardown) > 0 && !errors.As(err, &skip) {
				if terr := r.run(s.teardown); terr != nil && err == nil {
					err = errors.New("teardown: " + terr.Error())
				}
			}
			res := result{file: s.file, test: tc.name, dur: time.Since(start)}
			switch {
			case err == nil:
				res.status = "passed"
			case errors.As(err, &skip):
				res.status, res.reason = "skipped", skip.reason
			default:
				res.status, res.reason = "failed", err.Error()
			}
			record(res)
			switch res.status {
			case "failed":
				t.Error(err)
			case "skipped":
				t.Skip(res.reason)
			}
		})
	}
}

// serverVersion reads version.number from GET /.
func serverVersion(c *http.Client, base string) string {
	res, err := c.Get(base + "/")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	_ = json.NewDecoder(res.Body).Decode(&info)
	return info.Version.Number
}
