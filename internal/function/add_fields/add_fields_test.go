package addfields

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, y := range []string{
		"",
		"fields: {}",
		"fields: {a: '%{'}",
		"fields: [{name: '', value: x}]",
		"fields: [{name: a, value: 1}, {name: a, value: 2}]",
	} {
		fntest.ExpectConfigError(t, Spec, y, "fields", "")
	}
	for _, y := range []string{
		"fields: plain",
		"fields: [x]",
		"fields: [{name: a}]",
		"fields: [{name: a, value: 1, extra: 2}]",
		"fields: {[a]: b}",
		"fields: {a: .inf}",
	} {
		if _, err := fntest.TryBuild(Spec, y); err == nil {
			t.Errorf("%q: accepted", y)
		}
	}
}

// TestLoaderLine checks that a decoding error points at its line.
func TestLoaderLine(t *testing.T) {
	reg := component.NewRegistry()
	reg.AddFunction(Spec)
	src := "sources: {}\nroutes: []\ndestinations: {}\npipelines:\n  p:\n    - type: add_fields\n      fields:\n        - {name: a, value: 1}\n        - {name: b, valu: 2}\n"
	_, err := config.Parse([]byte(src), "x.yaml", reg, config.Options{})
	if err == nil || !strings.Contains(err.Error(), "x.yaml:9") || !strings.Contains(err.Error(), `unknown key "valu"`) {
		t.Errorf("got %v, want an error at x.yaml:9 about valu", err)
	}
}

func BenchmarkAddFields(b *testing.B) {
	f := fntest.Build(b, Spec, "fields: {env: prod, index_name: 'logs-%{kubernetes.namespace}'}")
	src := fntest.Event(b, `{"message":"m","kubernetes":{"namespace":"prod"}}`)
	fntest.Bench(b, f, src)
}
