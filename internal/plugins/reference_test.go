package plugins

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
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

// TestFunctionExamplesLoad checks that every function's documented example
// is a valid pipeline function.
//
// An example may name a file with a relative `file:` path; the test puts
// the file of the same base name from the function's testdata folder there.
func TestFunctionExamplesLoad(t *testing.T) {
	reg := Registry()
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	for _, typ := range reg.FunctionTypes() {
		spec, _ := reg.Function(typ)
		if !strings.HasPrefix(spec.Example, "- type: "+typ+"\n") {
			t.Errorf("function %s: the example must start with \"- type: %s\":\n%s", typ, typ, spec.Example)
			continue
		}
		for _, line := range strings.Split(spec.Example, "\n") {
			_, file, ok := strings.Cut(line, " file: ")
			if !ok {
				continue
			}
			data, err := os.ReadFile(filepath.Join(pkgDir, "..", "function", typ, "testdata", filepath.Base(file)))
			if err != nil {
				t.Errorf("function %s: example names %s, and its testdata has no such file: %v", typ, file, err)
				continue
			}
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var b strings.Builder
		b.WriteString("sources:\n  in: {type: datagen}\nroutes:\n  - {name: all, pipeline: p, destination: out}\ndestinations:\n  out: {type: blackhole}\npipelines:\n  p:\n")
		for _, line := range strings.Split(strings.TrimRight(spec.Example, "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
		if _, err := config.Parse([]byte(b.String()), typ+"-example.yaml", reg, config.Options{}); err != nil {
			t.Errorf("function %s: example does not load: %v\n%s", typ, err, b.String())
		}
	}
}

// TestFailureTagsDocumented keeps the failure tag table of
// docs/functions.md true: every function's default tag_on_failure must be
// in it, next to the function's name.
func TestFailureTagsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/functions.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 3 {
			rows[strings.TrimSpace(cells[1])] = cells[2]
		}
	}
	reg := Registry()
	for _, typ := range reg.FunctionTypes() {
		spec, _ := reg.Function(typ)
		v := reflect.ValueOf(spec.NewConfig()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name != "tag_on_failure" {
				continue
			}
			tags, ok := v.Field(i).Interface().([]string)
			if !ok {
				t.Errorf("%s: tag_on_failure is %s, want []string", typ, v.Field(i).Type())
				continue
			}
			for _, tag := range tags {
				if !strings.Contains(rows[typ], "`"+tag+"`") {
					t.Errorf("docs/functions.md: the failure tag table lacks %s's default tag %q", typ, tag)
				}
			}
		}
	}
}
