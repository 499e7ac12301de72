// Package lookup is the "lookup" function: enrich events with the row of a
// table (a CSV or JSON file) whose key matches a field, like Cribl Stream's
// Lookup and Logstash's translate and cidr filters.
//
// The table. A CSV file's first line is the header naming the columns; the
// key is the column named by key_column (default the first). A JSON file is
// either an object {"key": value} — an object value gives one column per
// leaf (nested objects become dotted columns, {"geo": {"city": ...}} gives
// "geo.city"), any other value gives the single column "value" — or an
// array of objects, whose key field key_column names. An empty CSV cell and
// a JSON null are no value: nothing is set for them. The first row with a
// given key wins; later duplicates are ignored.
//
// Matching. The value of `field` (its text, for numbers and booleans) is
// matched against the keys by `match`:
//   - exact: equal strings (ignore_case: equal after lowercasing);
//   - cidr: keys are IPv4 or IPv6 prefixes (10.0.0.0/8) or single addresses;
//     the value must be an IP address, and the longest prefix containing it
//     wins. IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) match IPv4 keys;
//     a value that is not an address is a miss;
//   - wildcard: keys may hold `*` (any run of characters) and `?` (one
//     character); the most specific matching key wins: a key without
//     wildcards, then the one with the most literal characters, then the
//     fewest `*`, then the longest literal prefix, then the first in the
//     file (see wildIndex);
//   - regex: keys are unanchored RE2 regular expressions (use ^ and $ to
//     anchor); the first matching row in file order wins. Each event is
//     tried against every expression in turn, so keep regex tables small.
//
// fields and key_columns match a composite key instead (match: exact
// only): every field equals its column.
//
// Output. A hit sets the row's columns (output_fields, default every column
// but the key) as fields named by the column, or by `rename`, under
// `target`; with overwrite: false, fields the event already has are kept.
// A miss — the field is there but no key matches — sets the `default`
// values (keys are column names, renamed and put under target like the
// columns) and adds the tag_on_miss tags. An event without the field is
// left alone (as Logstash's translate does: its fallback applies only to a
// field that is present). A miss is not a failure: lookup never counts
// failures.
//
// Reload. Every reload_interval the file is checked (os.Stat: modification
// time, size and identity, so an atomic rename is seen); when it changed it
// is loaded again and replaces the table atomically, so events see the old
// table or the new one, never a mix. A file that no longer loads (missing,
// unparsable, bigger than max_bytes) leaves the previous table in use; the
// error, with the file and line of the problem, is logged once per change.
// Writers should replace the file by renaming a complete new one over it;
// a file caught half-written is logged and loaded again once it changes.
// When the config is loaded, a missing or invalid file is a config error.
package lookup

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the lookup function's configuration.
type Config struct {
	File           string            `yaml:"file" doc:"Path of the table: a CSV file with a header row, or a JSON object {key: value or object} or array of objects; relative to the working directory."`
	Format         string            `yaml:"format" doc:"csv or json; empty picks by the file's extension (.csv, .tsv, .json)."`
	Delimiter      string            `yaml:"delimiter" doc:"CSV field separator, one character; empty means ',' (a tab for .tsv files)."`
	Match          string            `yaml:"match" doc:"How keys match: exact, cidr (longest prefix wins), wildcard (* and ?, most specific wins) or regex (first match in file order)."`
	IgnoreCase     bool              `yaml:"ignore_case" doc:"Match exact and wildcard keys, and regex expressions, without regard to case."`
	Field          string            `yaml:"field" doc:"Field whose value is looked up."`
	Fields         []string          `yaml:"fields" doc:"Fields of a composite key, matched against key_columns in order (instead of field; match: exact only)."`
	KeyColumn      string            `yaml:"key_column" doc:"Column (CSV) or field (JSON array of objects) holding the key; empty means the first CSV column. Required for JSON arrays."`
	KeyColumns     []string          `yaml:"key_columns" doc:"Key columns of a composite key, one per entry of fields."`
	OutputFields   []string          `yaml:"output_fields" doc:"Columns to add to the event; empty means every column but the key. A JSON object column (geo) takes its leaves (geo.city, ...)."`
	Rename         map[string]string `yaml:"rename" doc:"Field names for columns, {column: field}; a column not listed keeps its name, and renaming a JSON object column renames its leaves."`
	Target         string            `yaml:"target" doc:"Prefix of the output fields; empty means the event root."`
	Overwrite      bool              `yaml:"overwrite" doc:"Replace fields the event already has; false sets only absent ones."`
	Default        map[string]string `yaml:"default" doc:"Values to set when no key matches, {column: value}; renamed and put under target like the columns."`
	TagOnMiss      []string          `yaml:"tag_on_miss" doc:"Tags to add when the field is present but no key matches."`
	ReloadInterval config.Duration   `yaml:"reload_interval" doc:"How often to check the file for changes and reload it; 0 never reloads."`
	MaxBytes       config.ByteSize   `yaml:"max_bytes" doc:"Largest file accepted; a bigger one is an error (and a reload keeps the previous table)."`

	pspec     parseSpec
	ospec     outputSpec
	validated bool
	// initial is the table Validate loaded. The first Build takes it, so
	// that the config does not keep it alive after the function reloads a
	// new one; later Builds (a preview, say) load the file again.
	initial atomic.Pointer[loaded]
}

// loaded is a table and the file it was loaded from, as of the load.
type loaded struct {
	tbl  *table
	info os.FileInfo
}

// Validate checks the settings, then loads the table, so that a missing or
// invalid file is a config error naming the file and line of the problem.
func (c *Config) Validate() error {
	if c.File == "" {
		return component.Errorf("file", "is required: the path of a CSV or JSON lookup table")
	}
	format := c.Format
	ext := strings.ToLower(filepath.Ext(c.File))
	switch {
	case format == "csv" || format == "json":
	case format != "":
		return component.Errorf("format", "must be csv or json, not %q", format)
	case ext == ".csv" || ext == ".tsv":
		format = "csv"
	case ext == ".json":
		format = "json"
	default:
		return component.Errorf("format", "cannot tell the format of %s from its extension: set format: csv or json", c.File)
	}
	c.pspec = parseSpec{format: format, delimiter: ',', maxBytes: int64(c.MaxBytes)}
	if ext == ".tsv" {
		c.pspec.delimiter = '\t'
	}
	if c.Delimiter != "" {
		if format != "csv" {
			return component.Errorf("delimiter", "applies to CSV files only")
		}
		r, n := utf8.DecodeRuneInString(c.Delimiter)
		if n != len(c.Delimiter) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
			return component.Errorf("delimiter", "must be one character other than a quote or a line break, not %q", c.Delimiter)
		}
		c.pspec.delimiter = r
	}
	switch c.Match {
	case matchExact, matchCIDR, matchWildcard, matchRegex:
	default:
		return component.Errorf("match", "must be exact, cidr, wildcard or regex, not %q", c.Match)
	}
	if err := c.validateKeys(); err != nil {
		return err
	}
	for _, f := range c.OutputFields {
		if f == "" {
			return component.Errorf("output_fields", "column names must not be empty")
		}
	}
	for k, v := range c.Rename {
		if k == "" || v == "" {
			return component.Errorf("rename", "column and field names must not be empty")
		}
	}
	for k := range c.Default {
		if k == "" {
			return component.Errorf("default", "column names must not be empty")
		}
	}
	if err := fnutil.CheckTags("tag_on_miss", c.TagOnMiss); err != nil {
		return err
	}
	if c.ReloadInterval < 0 {
		return component.Errorf("reload_interval", "must not be negative (0 never reloads)")
	}
	if c.MaxBytes <= 0 {
		return component.Errorf("max_bytes", "must be positive")
	}
	c.ospec = outputSpec{
		match:      c.Match,
		ignoreCase: c.IgnoreCase,
		fields:     c.OutputFields,
		rename:     c.Rename,
		target:     c.Target,
		defaults:   c.Default,
	}
	t, fi, err := c.load()
	if err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			return component.Errorf(ke.key, "%v", ke.err)
		}
		return component.Errorf("file", "cannot load the lookup table: %v", err)
	}
	c.initial.Store(&loaded{tbl: t, info: fi})
	c.validated = true
	return nil
}

func (c *Config) validateKeys() error {
	if len(c.Fields) == 0 {
		if c.Field == "" {
			return component.Errorf("field", "is required: the field whose value is looked up")
		}
		if len(c.KeyColumns) > 0 {
			return component.Errorf("key_columns", "goes with fields (a composite key); with field, use key_column")
		}
		if c.KeyColumn != "" {
			c.pspec.keyColumns = []string{c.KeyColumn}
		}
		return nil
	}
	if c.Field != "" && c.Field != event.MessageField {
		return component.Errorf("fields", "set field or fields, not both")
	}
	if c.Match != matchExact {
		return component.Errorf("fields", "composite keys need match: exact")
	}
	if c.KeyColumn != "" {
		return component.Errorf("key_column", "with fields, name the key columns in key_columns")
	}
	if len(c.KeyColumns) != len(c.Fields) {
		return component.Errorf("key_columns", "must name one column per entry of fields (%d), not %d", len(c.Fields), len(c.KeyColumns))
	}
	for i := range c.Fields {
		if c.Fields[i] == "" || c.KeyColumns[i] == "" {
			return component.Errorf("fields", "field and column names must not be empty")
		}
	}
	c.pspec.keyColumns = c.KeyColumns
	return nil
}

// load reads, parses and indexes the file.
func (c *Config) load() (*table, os.FileInfo, error) {
	data, fi, err := readFile(c.File, c.pspec.maxBytes)
	if err != nil {
		return nil, nil, err
	}
	raw, err := parse(c.File, data, c.pspec)
	if err != nil {
		return nil, nil, err
	}
	t, err := build(c.File, raw, &c.ospec)
	if err != nil {
		return nil, nil, err
	}
	return t, fi, nil
}

type fn struct {
	field     string
	fields    []string // a composite key, instead of field
	fold      bool     // lowercase the key (ignore_case with exact or wildcard)
	overwrite bool
	tags      []string

	tbl atomic.Pointer[table]

	cfg       *Config
	log       *slog.Logger
	stop      chan struct{}
	done      chan struct{} // closed when the reloader exits; nil without one
	closeOnce sync.Once
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	t := f.tbl.Load()
	var row int32
	var hit bool
	if len(f.fields) > 0 || (f.fold && t.exact != nil) {
		// Build the key on the stack: a map index by string(b) does not
		// allocate.
		var buf [256]byte
		b, ok := f.appendKey(buf[:0], ev)
		if !ok {
			return true
		}
		row, hit = t.exact[string(b)]
	} else {
		s, ok := ev.GetString(f.field)
		if !ok {
			return true
		}
		if f.fold {
			s = strings.ToLower(s)
		}
		row, hit = t.find(s)
	}
	if !hit {
		f.set(ev, t.defaults)
		for _, tag := range f.tags {
			ev.AddTag(tag)
		}
		return true
	}
	f.set(ev, t.rows[row])
	return true
}

// appendKey appends the exact-match key of ev to b: the fields of a
// composite key joined with keySep, lowercased with ignore_case. It
// reports false when a key field is missing.
func (f *fn) appendKey(b []byte, ev *event.Event) ([]byte, bool) {
	if len(f.fields) == 0 {
		s, ok := ev.GetString(f.field)
		return appendFold(b, s), ok
	}
	for i, name := range f.fields {
		s, ok := ev.GetString(name)
		if !ok {
			return b, false
		}
		if i > 0 {
			b = append(b, keySep...)
		}
		if f.fold {
			b = appendFold(b, s)
		} else {
			b = append(b, s...)
		}
	}
	return b, true
}

// appendFold appends strings.ToLower(s) to b, without allocating when s is
// ASCII.
func appendFold(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func (f *fn) set(ev *event.Event, cells []cell) {
	for _, c := range cells {
		if !f.overwrite && ev.Has(c.name) {
			continue
		}
		ev.SetValue(c.name, c.val)
	}
}

// reload polls the file every interval and swaps in the new table when the
// file changed and loads. last is the file as of the table in use.
func (f *fn) reload(interval time.Duration, last os.FileInfo) {
	defer close(f.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	statFailed := false
	for {
		select {
		case <-f.stop:
			return
		case <-tick.C:
		}
		fi, err := os.Stat(f.cfg.File)
		if err != nil {
			if !statFailed {
				f.log.Error("lookup: cannot check the table file; keeping the loaded table", "error", err)
				statFailed = true
			}
			continue
		}
		statFailed = false
		if sameFile(fi, last) {
			continue
		}
		// Remember the change even if it does not load, so a broken file
		// is reported once, not on every tick.
		last = fi
		t, loaded, err := f.cfg.load()
		if err != nil {
			f.log.Error("lookup: cannot reload the table; keeping the previous one", "error", err)
			continue
		}
		last = loaded
		f.tbl.Store(t)
		f.log.Info("lookup: table reloaded", "rows", len(t.rows))
	}
}

func sameFile(a, b os.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

// Close stops the reloader and waits for it to exit. It is safe to call
// more than once.
func (f *fn) Close() error {
	f.closeOnce.Do(func() {
		if f.done != nil {
			close(f.stop)
			<-f.done
		}
	})
	return nil
}

// Spec registers the lookup function.
var Spec = component.FunctionSpec{
	Type:       "lookup",
	ReadsFiles: true,
	Doc: "Enriches events from a CSV or JSON table (file) by matching a field against the table's keys: exactly, by CIDR " +
		"(longest prefix wins), by wildcard (* and ?, most specific wins) or by regex. A hit sets the row's columns " +
		"(output_fields, rename, under target); a miss sets default and adds tag_on_miss; an event without the field " +
		"is left alone. The file is checked every reload_interval and reloaded atomically when it changes; a file that " +
		"does not load keeps the previous table and logs the error with its line.",
	Example: `- type: lookup
  file: lookups/networks.csv
  match: cidr
  field: source.ip
  output_fields: [zone, owner]
  rename: {owner: team}
  target: source.network
  default: {zone: internet}
  tag_on_miss: [_lookup_miss]
`,
	NewConfig: func() any {
		return &Config{
			Match:          matchExact,
			Field:          event.MessageField,
			Overwrite:      true,
			ReloadInterval: config.Duration(10 * time.Second),
			MaxBytes:       256 << 20,
		}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("lookup", cfg)
		if err != nil {
			return nil, err
		}
		l := c.initial.Swap(nil)
		if l == nil && !c.validated {
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("lookup: %w", err)
			}
			l = c.initial.Swap(nil)
		}
		if l == nil {
			t, fi, err := c.load()
			if err != nil {
				return nil, fmt.Errorf("lookup: cannot load the table: %w", err)
			}
			l = &loaded{tbl: t, info: fi}
		}
		f := &fn{
			field:     c.Field,
			fields:    c.Fields,
			fold:      c.IgnoreCase && (c.Match == matchExact || c.Match == matchWildcard),
			overwrite: c.Overwrite,
			tags:      c.TagOnMiss,
			cfg:       c,
			log:       fnutil.Logger(env).With("function", env.Name, "file", c.File),
		}
		f.tbl.Store(l.tbl)
		if c.ReloadInterval > 0 {
			f.stop, f.done = make(chan struct{}), make(chan struct{})
			go f.reload(c.ReloadInterval.D(), l.info)
		}
		return f, nil
	},
}
