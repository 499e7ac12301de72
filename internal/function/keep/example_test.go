package keep

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
)

// TestExampleLoads checks that the documented example is a valid pipeline
// function for the real config loader (errors about the rest of the
// skeleton config are ignored).
func TestExampleLoads(t *testing.T) {
	if !strings.HasPrefix(Spec.Example, "- type: "+Spec.Type+"\n") {
		t.Fatalf("example does not start with - type: %s:\n%s", Spec.Type, Spec.Example)
	}
	reg := component.NewRegistry()
	reg.AddFunction(Spec)
	src := "pipelines:\n  p:\n    " + strings.ReplaceAll(strings.TrimRight(Spec.Example, "\n"), "\n", "\n    ") + "\n"
	_, err := config.Parse([]byte(src), "example.yaml", reg, config.Options{})
	var errs config.Errors
	if err != nil && !errors.As(err, &errs) {
		t.Fatal(err)
	}
	for _, e := range errs {
		if strings.HasPrefix(e.Path, "pipelines") {
			t.Errorf("example does not load: %v\n%s", e, src)
		}
	}
}
