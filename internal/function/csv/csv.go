// Package csv is the "csv" function: split a field holding one line of
// delimited text into named fields, like Logstash's csv filter.
//
// Semantics (Logstash's, unless said otherwise):
//
//   - The input is the string field `field` (default "message"), with one
//     trailing line terminator removed. A missing field is not a failure;
//     a value that is not a string is one.
//   - The line is split as Ruby's CSV.parse_line splits it (see scanner):
//     `separator` (any non-empty string, default ",") between fields,
//     `quote_char` (one character, default '"') around fields that hold
//     separators, quotes (doubled) or line breaks. Malformed quoting (an
//     unterminated quoted field, text after a closing quote, a quote inside
//     an unquoted field) is a failure: tag_on_failure (default
//     _csvparsefailure), the event otherwise unchanged.
//   - Field i is named columns[i]; extra fields are named column<i+1>
//     (column3, column4, …) unless autogenerate_column_names is false, in
//     which case they are dropped. Fields go to the root or below target,
//     each replacing a field of the same name (the target itself is not
//     cleared, as in Logstash). An empty field is "" (Logstash gives nil
//     for an unquoted empty field), or is not set at all with
//     skip_empty_columns.
//   - convert maps a column name to integer (decimal), float or boolean
//     ("true"/"false", any case, spaces around ignored); a value that does
//     not convert stays a string, as in Logstash. Dates are left to the
//     date function.
//   - An empty line sets nothing and is not a failure (Logstash tags it by
//     accident); skip_empty_rows drops it instead.
//   - skip_header drops the event when its fields equal the column names
//     (the header line of a file), which needs columns or
//     autodetect_column_names. autodetect_column_names takes the column
//     names from the first line this function sees and drops that event;
//     the names are kept until the pipeline is reloaded. With several
//     pipeline workers "first" means the first to get there, so use it only
//     for sources that read one file in order (Logstash requires one worker).
package csv

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the csv function's configuration.
type Config struct {
	Field                   string            `yaml:"field" doc:"Field holding the line of CSV."`
	Target                  string            `yaml:"target" doc:"Prefix for the column fields; empty puts them at the event's root."`
	Columns                 []string          `yaml:"columns" doc:"Column names in order; fields beyond them are named column<N> (1-based)."`
	Separator               string            `yaml:"separator" doc:"String between fields (\\t for tabs in a double-quoted YAML string)."`
	QuoteChar               string            `yaml:"quote_char" doc:"Character that quotes fields holding separators; doubled inside a quoted field."`
	SkipHeader              bool              `yaml:"skip_header" doc:"Drop events whose fields equal the column names (header lines)."`
	AutodetectColumnNames   bool              `yaml:"autodetect_column_names" doc:"Take the column names from the first line seen (and drop that event); for single-file, in-order sources only."`
	AutogenerateColumnNames bool              `yaml:"autogenerate_column_names" doc:"Name fields beyond columns column<N>; false drops them."`
	Convert                 map[string]string `yaml:"convert" doc:"Column name to type: integer, float or boolean; values that do not convert stay strings."`
	SkipEmptyColumns        bool              `yaml:"skip_empty_columns" doc:"Do not set fields that are empty."`
	SkipEmptyRows           bool              `yaml:"skip_empty_rows" doc:"Drop events whose line is empty."`
	TagOnFailure            []string          `yaml:"tag_on_failure" doc:"Tags added when the line has malformed quoting or the field is not a string."`
}

func newConfig() any {
	return &Config{
		Field:                   event.MessageField,
		Separator:               ",",
		QuoteChar:               `"`,
		AutogenerateColumnNames: true,
		TagOnFailure:            []string{"_csvparsefailure"},
	}
}

// Validate checks the options.
func (c *Config) Validate() error {
	if err := fnutil.CheckTextField("field", c.Field); err != nil {
		return err
	}
	if c.Target != "" && (!fnutil.ValidField(c.Target) || c.Target == event.TimestampField) {
		return component.Errorf("target", "%q is not a field name (use a dotted name like parsed.csv, or leave it empty for the root)", c.Target)
	}
	for i, col := range c.Columns {
		if !fnutil.ValidField(col) || (c.Target == "" && col == event.TimestampField) {
			return component.Errorf("columns", "column %d: %q is not a field name", i+1, col)
		}
	}
	if c.Separator == "" {
		return component.Errorf("separator", "must not be empty (default \",\")")
	}
	if utf8.RuneCountInString(c.QuoteChar) != 1 {
		return component.Errorf("quote_char", "must be exactly one character, got %q", c.QuoteChar)
	}
	if strings.Contains(c.Separator, c.QuoteChar) {
		return component.Errorf("separator", "must not contain quote_char %q", c.QuoteChar)
	}
	if c.SkipHeader && len(c.Columns) == 0 && !c.AutodetectColumnNames {
		return component.Errorf("skip_header", "needs columns or autodetect_column_names to know what the header looks like")
	}
	if c.AutodetectColumnNames && len(c.Columns) > 0 {
		return component.Errorf("autodetect_column_names", "cannot be used with columns: the first line would replace them")
	}
	for col, typ := range c.Convert {
		switch typ {
		case "integer", "float", "boolean":
		case "date", "date_time":
			return component.Errorf("convert", "%s: %s is not supported here; parse dates with the date function", col, typ)
		default:
			return component.Errorf("convert", "%s: unknown type %q (use integer, float or boolean)", col, typ)
		}
	}
	return fnutil.CheckTags("tag_on_failure", c.TagOnFailure)
}

// converter turns a field's text into its value.
type converter func(string) event.Value

func convertInteger(s string) event.Value {
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
		return event.Int(n)
	}
	return event.String(s)
}

func convertFloat(s string) event.Value {
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return event.Float(f)
	}
	return event.String(s)
}

func convertBoolean(s string) event.Value {
	switch t := strings.TrimSpace(s); {
	case strings.EqualFold(t, "true"):
		return event.Bool(true)
	case strings.EqualFold(t, "false"):
		return event.Bool(false)
	}
	return event.String(s)
}

var converters = map[string]converter{"integer": convertInteger, "float": convertFloat, "boolean": convertBoolean}

// layout is the naming of a line's fields: full field names and converters
// for the named columns, and the header line's fields, to recognize it.
type layout struct {
	header []string
	keys   []string
	convs  []converter
}

// autoNames is how many column<N> names are made up front.
const autoNames = 64

type fn struct {
	field         string
	target        string
	scan          scanner
	skipHeader    bool
	autodetect    bool
	autogenerate  bool
	skipEmptyCols bool
	skipEmptyRows bool
	convert       map[string]converter
	layout        atomic.Pointer[layout]
	auto          *layout // column1…column64 (index i names field i)
	fail          *fnutil.Failure
	pool          sync.Pool // of *[]string
}

func (f *fn) newLayout(names, header []string) *layout {
	l := &layout{header: header, keys: make([]string, len(names)), convs: make([]converter, len(names))}
	for i, n := range names {
		l.keys[i] = fnutil.Join(f.target, n)
		l.convs[i] = f.convert[n]
	}
	return l
}

// column returns the field name and converter of field i, or ok false
// when the field is not to be set.
func (f *fn) column(l *layout, i int) (key string, conv converter, ok bool) {
	if l != nil && i < len(l.keys) {
		return l.keys[i], l.convs[i], true
	}
	if !f.autogenerate {
		return "", nil, false
	}
	if i < len(f.auto.keys) {
		return f.auto.keys[i], f.auto.convs[i], true
	}
	name := "column" + strconv.Itoa(i+1)
	return fnutil.Join(f.target, name), f.convert[name], true
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	s, ok := fnutil.Input(ev, f.field, f.fail)
	if !ok {
		return true
	}
	bufp := f.pool.Get().(*[]string)
	defer func() {
		clear(*bufp)
		*bufp = (*bufp)[:0]
		f.pool.Put(bufp)
	}()
	vals, err := f.scan.split((*bufp)[:0], trimEOL(s))
	*bufp = vals
	if err != nil {
		f.fail.Fail(ev)
		return true
	}
	if len(vals) == 0 {
		return !f.skipEmptyRows
	}
	l := f.layout.Load()
	if l == nil && f.autodetect {
		header := make([]string, len(vals))
		names := make([]string, len(vals))
		for i, v := range vals {
			header[i] = strings.Clone(v) // do not keep the line alive
			names[i] = header[i]
			if v == "" {
				names[i] = "column" + strconv.Itoa(i+1)
			}
		}
		if f.layout.CompareAndSwap(nil, f.newLayout(names, header)) {
			return false // the header line
		}
		l = f.layout.Load()
	}
	if f.skipHeader && l != nil && slices.Equal(l.header, vals) {
		return false
	}
	ev.Grow(len(vals))
	for i, val := range vals {
		if f.skipEmptyCols && val == "" {
			continue
		}
		key, conv, ok := f.column(l, i)
		if !ok {
			continue
		}
		if conv != nil {
			ev.SetValue(key, conv(val))
		} else {
			ev.SetValue(key, event.String(val))
		}
	}
	return true
}

// Spec registers the csv function.
var Spec = component.FunctionSpec{
	Type: "csv",
	Doc: "Splits a field holding a line of CSV (default message) into named fields, like Logstash's csv filter: columns (extra fields are column<N>), " +
		"any separator string, a quote character, integer/float/boolean conversion, header skipping or detection. " +
		"Malformed quoting is a failure (tag_on_failure, default _csvparsefailure).",
	Example: `- type: csv
  columns: [time, user, action, bytes, ok]
  separator: ","
  convert:
    bytes: integer
    ok: boolean
  skip_header: true`,
	NewConfig: newConfig,
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("csv", cfg)
		if err != nil {
			return nil, err
		}
		f := &fn{
			field:         c.Field,
			target:        c.Target,
			scan:          scanner{sep: c.Separator, quote: c.QuoteChar},
			skipHeader:    c.SkipHeader,
			autodetect:    c.AutodetectColumnNames,
			autogenerate:  c.AutogenerateColumnNames,
			skipEmptyCols: c.SkipEmptyColumns,
			skipEmptyRows: c.SkipEmptyRows,
			convert:       map[string]converter{},
			fail:          fnutil.NewFailure(env, c.TagOnFailure),
		}
		for col, typ := range c.Convert {
			f.convert[col] = converters[typ]
		}
		if len(c.Columns) > 0 {
			f.layout.Store(f.newLayout(c.Columns, c.Columns))
		}
		auto := make([]string, autoNames)
		for i := range auto {
			auto[i] = "column" + strconv.Itoa(i+1)
		}
		f.auto = f.newLayout(auto, nil)
		f.pool.New = func() any { return new([]string) }
		return f, nil
	},
}
