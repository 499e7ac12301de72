package lookup

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/event"
)

// rawTable is a lookup file as parsed, before it is indexed for a match
// mode: every row's key and its cells, in file order.
type rawTable struct {
	// columns lists every column in the order of first appearance (the
	// header of a CSV file; flattened object keys of a JSON file).
	columns []string
	// keyCols are the indexes in columns of the key columns; empty for a
	// JSON object, whose keys are not columns.
	keyCols []int
	rows    []rawRow
}

type rawRow struct {
	line int
	// key is the row's key; the values of a composite key are joined with
	// keySep.
	key   string
	cells []rawCell
}

type rawCell struct {
	col int
	val event.Value
}

// keySep joins the parts of a composite key. NUL does not occur in the
// text of event fields in practice, so joined keys do not collide.
const keySep = "\x00"

// keyError is a problem with the table that is better reported at a config
// key than at the file (a key column the file does not have, say).
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// parseSpec says how to parse a lookup file.
type parseSpec struct {
	format    string // "csv" or "json"
	delimiter rune   // CSV only
	// keyColumns name the key columns of a CSV file or JSON array; empty
	// means the first column of a CSV file.
	keyColumns []string
	maxBytes   int64
}

// readFile reads path, refusing files larger than maxBytes. It returns the
// file's info as of the read, which the reloader compares with later.
func readFile(path string, maxBytes int64) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, nil, fmt.Errorf("%s is a directory, not a lookup file", path)
	}
	if fi.Size() > maxBytes {
		return nil, nil, fmt.Errorf("%s is %d bytes, more than max_bytes (%d)", path, fi.Size(), maxBytes)
	}
	// The file may grow between Stat and ReadAll: read one byte more than
	// allowed to notice.
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, nil, fmt.Errorf("%s is more than max_bytes (%d) bytes", path, maxBytes)
	}
	return data, fi, nil
}

// parse parses the contents of a lookup file. Errors name path and the
// line of the problem.
func parse(path string, data []byte, spec parseSpec) (*rawTable, error) {
	if spec.format == "json" {
		return parseJSON(path, data, spec)
	}
	return parseCSV(path, data, spec)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func parseCSV(path string, data []byte, spec parseSpec) (*rawTable, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	r.Comma = spec.delimiter
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s:1: the file is empty; its first line must be the header row naming the columns", path)
	}
	if err != nil {
		return nil, csvError(path, err)
	}
	hl, _ := r.FieldPos(0) // the header's line: blank lines before it are skipped
	t := &rawTable{columns: make([]string, len(header))}
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("%s:%d: column %d of the header row has no name", path, hl, i+1)
		}
		if seen[h] {
			return nil, fmt.Errorf("%s:%d: column %q appears twice in the header row", path, hl, h)
		}
		seen[h] = true
		t.columns[i] = h
	}
	// One row a line, at most: allocate the rows once.
	t.rows = make([]rawRow, 0, bytes.Count(data, []byte{'\n'}))
	if len(spec.keyColumns) == 0 {
		t.keyCols = []int{0}
	}
	for _, k := range spec.keyColumns {
		i := indexOf(t.columns, k)
		if i < 0 {
			return nil, &keyError{key: keyColumnKey(spec), err: fmt.Errorf("%s:%d: no column %q in the header row (columns: %s)", path, hl, k, strings.Join(t.columns, ", "))}
		}
		t.keyCols = append(t.keyCols, i)
	}
	var key strings.Builder
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		line, _ := r.FieldPos(0)
		row := rawRow{line: line, key: rec[t.keyCols[0]]}
		if len(t.keyCols) > 1 {
			key.Reset()
			for j, c := range t.keyCols {
				if j > 0 {
					key.WriteString(keySep)
				}
				key.WriteString(rec[c])
			}
			row.key = key.String()
		}
		row.cells = make([]rawCell, 0, len(rec))
		for i, v := range rec {
			// An empty cell is no value: the event keeps what it has.
			if v != "" {
				row.cells = append(row.cells, rawCell{col: i, val: event.String(v)})
			}
		}
		t.rows = append(t.rows, row)
	}
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.Column > 0 && !errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("%s:%d: column %d: %v", path, pe.Line, pe.Column, pe.Err)
		}
		return fmt.Errorf("%s:%d: %v", path, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func keyColumnKey(spec parseSpec) string {
	if len(spec.keyColumns) > 1 {
		return "key_columns"
	}
	return "key_column"
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// jsonTable accumulates the columns of a JSON table as rows add them.
type jsonTable struct {
	rawTable
	index map[string]int
}

func (t *jsonTable) column(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	i := len(t.columns)
	t.columns = append(t.columns, name)
	t.index[name] = i
	return i
}

// valueColumn is the column of a JSON object entry whose value is not an
// object: {"10.0.0.1": "db"} gives the row {value: "db"}.
const valueColumn = "value"

func parseJSON(path string, data []byte, spec parseSpec) (*rawTable, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)))
	dec.UseNumber()
	// Offsets are into the data without the BOM.
	data = bytes.TrimPrefix(data, utf8BOM)
	t := &jsonTable{index: map[string]int{}}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, fmt.Errorf("%s:1: the file is empty; it must hold a JSON object {key: value} or an array of objects", path)
	}
	if err != nil {
		return nil, jsonError(path, data, dec, err)
	}
	switch tok {
	case json.Delim('{'):
		if len(spec.keyColumns) > 0 {
			return nil, &keyError{key: keyColumnKey(spec), err: fmt.Errorf("%s holds a JSON object, whose keys are the lookup keys: key_column and key_columns apply to CSV files and JSON arrays of objects", path)}
		}
		for dec.More() {
			line := lineAt(data, dec.InputOffset())
			tok, err := dec.Token()
			if err != nil {
				return nil, jsonError(path, data, dec, err)
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, jsonError(path, data, dec, err)
			}
			row := rawRow{line: line, key: tok.(string)}
			if m, ok := v.(map[string]any); ok {
				t.flatten(&row, "", m)
				sortCells(row.cells)
			} else if v != nil {
				row.cells = append(row.cells, rawCell{col: t.column(valueColumn), val: event.Any(normalize(v))})
			}
			t.rows = append(t.rows, row)
		}
	case json.Delim('['):
		if len(spec.keyColumns) == 0 {
			return nil, &keyError{key: "key_column", err: fmt.Errorf("%s holds a JSON array of objects: set key_column to the field that holds each object's key", path)}
		}
		for _, k := range spec.keyColumns {
			t.keyCols = append(t.keyCols, t.column(k))
		}
		var key strings.Builder
		for dec.More() {
			line := lineAt(data, dec.InputOffset())
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, jsonError(path, data, dec, err)
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s:%d: the array must hold objects, not %s", path, line, jsonKind(v))
			}
			row := rawRow{line: line}
			t.flatten(&row, "", m)
			sortCells(row.cells)
			key.Reset()
			for j, kc := range t.keyCols {
				c := row.cell(kc)
				if c == nil {
					return nil, fmt.Errorf("%s:%d: the object has no key field %q", path, line, t.columns[kc])
				}
				if c.val.IsNull() || isComposite(c.val) {
					return nil, fmt.Errorf("%s:%d: key field %q must be a string, number or boolean", path, line, t.columns[kc])
				}
				if j > 0 {
					key.WriteString(keySep)
				}
				key.WriteString(c.val.Text())
			}
			row.key = key.String()
			t.rows = append(t.rows, row)
		}
	default:
		return nil, fmt.Errorf("%s:%d: the file must hold a JSON object {key: value} or an array of objects, not %s", path, lineAt(data, 0), jsonKind(tok))
	}
	if _, err := dec.Token(); err != nil { // the closing } or ]
		return nil, jsonError(path, data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s:%d: unexpected data after the table", path, lineAt(data, dec.InputOffset()))
	}
	return &t.rawTable, nil
}

func (r *rawRow) cell(col int) *rawCell {
	for i := range r.cells {
		if r.cells[i].col == col {
			return &r.cells[i]
		}
	}
	return nil
}

func isComposite(v event.Value) bool {
	switch v.Interface().(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// flatten adds the leaves of m to row as dotted columns. A null leaf is no
// value, like an empty CSV cell.
func (t *jsonTable) flatten(row *rawRow, prefix string, m map[string]any) {
	// Visit the keys sorted, so that columns are numbered the same way on
	// every load.
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch x := v.(type) {
		case nil:
		case map[string]any:
			t.flatten(row, name, x)
		default:
			row.cells = append(row.cells, rawCell{col: t.column(name), val: event.Any(normalize(x))})
		}
	}
}

// sortCells puts a JSON row's cells in column order (columns first seen in
// an earlier row have lower numbers than the row's new ones).
func sortCells(cells []rawCell) {
	slices.SortFunc(cells, func(a, b rawCell) int { return a.col - b.col })
}

// normalize turns the json.Numbers in v (and in arrays and objects inside
// it) into int64 or float64, the plain values events hold.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		return event.Any(x).Interface()
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any, json.Delim:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// jsonError adds the line of a decoding error to it.
func jsonError(path string, data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s:%d: unexpected end of file", path, lineAt(data, int64(len(data))))
	}
	return fmt.Errorf("%s:%d: %v", path, lineAt(data, off), err)
}

// lineAt returns the line (from 1) of the first token at or after off,
// skipping the whitespace and separators the decoder has not consumed yet.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	i := int(off)
	for i < len(data) && strings.IndexByte(" \t\r\n,:", data[i]) >= 0 {
		i++
	}
	if i == len(data) {
		i = int(off)
	}
	return 1 + bytes.Count(data[:i], []byte{'\n'})
}
