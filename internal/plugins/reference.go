package plugins

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
)

// Reference renders the plugin reference (docs/reference.md) from the
// registry: each plugin's doc string and every config key with its type and
// default, read from the plugin's own config struct so the page cannot drift
// from the code.
func Reference(r *component.Registry) string {
	var b strings.Builder
	b.WriteString("# Plugin reference\n\n")
	b.WriteString("Generated from the code by `go test ./internal/plugins -update`; do not edit by hand.\n")
	b.WriteString("Durations take `500ms`, `30s`, `5m`, `2h`, `7d`; sizes take `512KiB`, `10MiB`, `1GiB`.\n\n")
	b.WriteString("Every destination also takes `queue` (`type: memory|disk`, `max_events` (memory 100000, disk unbounded), `max_bytes` (memory 64MiB, disk 1GiB), `when_full: block|drop_newest`; ")
	b.WriteString("disk only: `fsync: {interval: 500ms, every: 0}`, `compression: none|zstd`, `segment_bytes: 64MiB`), ")
	b.WriteString("`batch` (`max_events: 1000`, `max_bytes: 8MiB`, `timeout: 0`), `retry` (`initial_backoff: 100ms`, `max_backoff: 30s`) ")
	b.WriteString("and `dead_letter` (`destination: NAME`, where permanently rejected events go). ")
	b.WriteString("Every function also takes `if` (an expression; only matching events are processed), `description` and `disabled`.\n")
	section := func(title string, types []string, get func(string) (string, string, any)) {
		fmt.Fprintf(&b, "\n## %s\n", title)
		for _, t := range types {
			doc, example, cfg := get(t)
			fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", t, doc)
			rows := keys(reflect.ValueOf(cfg), "")
			if len(rows) == 0 {
				b.WriteString("No options.\n")
			} else {
				b.WriteString("| key | type | default | description |\n|---|---|---|---|\n")
				for _, row := range rows {
					fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", row[0], row[1], row[2], row[3])
				}
			}
			if example != "" {
				fmt.Fprintf(&b, "\nExample:\n\n```yaml\n%s\n```\n", strings.TrimRight(example, "\n"))
			}
		}
	}
	section("Sources", r.SourceTypes(), func(t string) (string, string, any) { s, _ := r.Source(t); return s.Doc, "", s.NewConfig() })
	section("Functions", r.FunctionTypes(), func(t string) (string, string, any) {
		s, _ := r.Function(t)
		return s.Doc, s.Example, s.NewConfig()
	})
	section("Destinations", r.DestinationTypes(), func(t string) (string, string, any) {
		s, _ := r.Destination(t)
		return s.Doc, "", s.NewConfig()
	})
	return b.String()
}

var (
	durationType = reflect.TypeOf(config.Duration(0))
	sizeType     = reflect.TypeOf(config.ByteSize(0))
)

// keys lists a config struct's keys as rows of key, type, default and
// description (the field's `doc` struct tag).
func keys(v reflect.Value, prefix string) [][4]string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var rows [][4]string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if strings.Contains(opts, "inline") {
			rows = append(rows, keys(fv, prefix)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft != durationType && ft != sizeType && ft != reflect.TypeOf(time.Time{}) {
			rows = append(rows, keys(fv, key+".")...)
			continue
		}
		rows = append(rows, [4]string{key, typeName(ft), defaultOf(fv), strings.ReplaceAll(f.Tag.Get("doc"), "|", "\\|")})
	}
	return rows
}

func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case sizeType:
		return "size"
	}
	switch t.Kind() {
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "map of " + typeName(t.Elem())
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	}
	return t.Kind().String()
}

func defaultOf(v reflect.Value) string {
	if v.IsZero() {
		return ""
	}
	switch v.Type() {
	case durationType:
		return "`" + time.Duration(v.Int()).String() + "`"
	case sizeType:
		n := v.Int()
		for _, u := range []struct {
			s string
			m int64
		}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
			if n%u.m == 0 {
				return fmt.Sprintf("`%d%s`", n/u.m, u.s)
			}
		}
		return fmt.Sprintf("`%d`", n)
	}
	return fmt.Sprintf("`%v`", v.Interface())
}
