// Package esconformance runs Elasticsearch's client YAML REST tests
// (../shared/conformance/es: tests/ holds the .yml files, api/ the JSON
// API specs that map API names to HTTP paths) against Sluice's
// Elasticsearch-compatible API.
//
// By default the tests start the API themselves, over the Backend that
// newBackend (backend_test.go) returns; set SLUICE_ES_URL to run them
// against a running server instead (http://localhost:9200), and
// SLUICE_ES_CONFORMANCE_DIR to read the files from elsewhere. The tests
// skip when the files are absent. The files are never copied into this
// repository.
//
//	go test ./test/esconformance -run TestConformance -v
//
// Each file is a subtest, each test of a file a subtest of it; the summary
// (passed, failed and skipped per file, with reasons) is logged at the end.
package esconformance
