package plugins

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/reference.md")

// TestReferenceUpToDate keeps docs/reference.md equal to what the code says.
func TestReferenceUpToDate(t *testing.T) {
	const path = "../../docs/reference.md"
	got := Reference(Registry())
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Fatal("docs/reference.md is out of date: run go test ./internal/plugins -update")
	}
}
