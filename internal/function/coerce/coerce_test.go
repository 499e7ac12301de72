package coerce

import (
	"math"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"", "fields"},
		{"fields: {}", "fields"},
		{"fields: {a: number}", "fields"},
		{"fields: {a: ip}", "fields"},
		{"fields: {'': integer}", "fields"},
		{"fields: {'@timestamp': string}", "fields"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "fields: {a: Integer, b: bool, c: double, d: int}"); err != nil {
		t.Errorf("type aliases rejected: %v", err)
	}
}

func TestTruncateBounds(t *testing.T) {
	for _, c := range []struct {
		f  float64
		ok bool
	}{{9.2e18, true}, {-9.2e18, true}, {9.3e18, false}, {-9.3e18, false}, {-9223372036854775808, true}} {
		if _, ok := truncate(c.f); ok != c.ok {
			t.Errorf("truncate(%v) ok = %v, want %v", c.f, ok, c.ok)
		}
	}
}

func BenchmarkCoerce(b *testing.B) {
	f := fntest.Build(b, Spec, "fields: {http.status: integer, http.bytes: integer, duration: float, cached: boolean}")
	src := fntest.Event(b, `{"message":"GET / 200","http":{"status":"200","bytes":"5120"},"duration":"12.5","cached":"true"}`)
	fntest.Bench(b, f, src)
}

// TestKinds checks the Go types of converted values, which the JSON golden
// files cannot tell apart (1 and 1.0 print alike).
func TestKinds(t *testing.T) {
	f := fntest.Build(t, Spec, "fields: {i: integer, f: float, b: boolean, s: string, fa: float}")
	out := f.Run(fntest.Event(t, `{"i":"3.9","f":7,"b":"yes","s":12,"fa":[1,"2"]}`))
	ev := &out[0]
	for key, want := range map[string]any{"i": int64(3), "f": float64(7), "b": true, "s": "12"} {
		if got, _ := ev.Get(key); got != want {
			t.Errorf("%s = %#v, want %#v", key, got, want)
		}
	}
	fa, _ := ev.Get("fa")
	if a, ok := fa.([]any); !ok || len(a) != 2 || a[0] != float64(1) || a[1] != float64(2) {
		t.Errorf("fa = %#v, want [1.0 2.0]", fa)
	}
}

// FuzzCoerce converts arbitrary strings to every type: it must not panic,
// a failed conversion must leave the value alone, and an integer must agree
// with the float parse truncated.
func FuzzCoerce(f *testing.F) {
	for _, s := range []string{"42", " -3.99 ", "1e3", "yes", "NaN", "0x1F", "9223372036854775808", "-0", ".5e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []kind{kindInteger, kindFloat, kindBoolean, kindString} {
			v, ok := convert(event.String(s), k)
			if !ok {
				if got, _ := v.Str(); got != s {
					t.Fatalf("failed conversion of %q changed it to %v", s, v.Interface())
				}
				continue
			}
			switch k {
			case kindInteger:
				i, isInt := v.Interface().(int64)
				fl, isNum := parseFloat(strings.TrimSpace(s))
				if !isInt || !isNum || float64(i) != math.Trunc(fl) && math.Abs(fl) < 1<<53 {
					t.Fatalf("%q → integer %v (float parse %v, %v)", s, v.Interface(), fl, isNum)
				}
			case kindFloat:
				if x, isF := v.Interface().(float64); !isF || math.IsInf(x, 0) || math.IsNaN(x) {
					t.Fatalf("%q → float %v", s, v.Interface())
				}
			case kindString:
				if got, _ := v.Str(); got != s {
					t.Fatalf("%q → string %q", s, got)
				}
			}
		}
	})
}
