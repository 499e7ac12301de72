package fntest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/event"
)

// LoghubDir holds the loghub samples, seen from a function's package
// folder: outside the repository (they may not be copied into it), in the
// shared folder next to the repository root.
const LoghubDir = "../../../../shared/testdata/loghub"

// SkipWithoutLoghub skips the test when the loghub samples are not at
// LoghubDir.
func SkipWithoutLoghub(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(LoghubDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("loghub samples not found at %s", LoghubDir)
	}
}

// CheckLoghub runs f on every line of a system's loghub sample (2000 lines)
// and compares the fields with loghub's ground truth, its structured CSV,
// row by row: every column but LineId, EventId and EventTemplate must come
// out as the field of the same name, with the same text. Each line is
// stripped first, as loghub's parser does before matching it. A line that
// comes out tagged failureTag is a mismatch; a column in optional may be
// missing where the ground truth is empty (its part of the line is absent).
func CheckLoghub(t *testing.T, f *Func, system, failureTag string, optional ...string) {
	t.Helper()
	lines, header, rows := readLoghub(t, system)
	columns := header[1 : len(header)-2] // drop LineId, EventId, EventTemplate
	var problems []string
	for _, row := range rows {
		var n int
		if _, err := fmt.Sscan(row[0], &n); err != nil || n < 1 || n > len(lines) {
			t.Fatalf("row with LineId %q", row[0])
		}
		out := f.Run(event.New(eventTime, strings.TrimSpace(lines[n-1])))
		if out[0].HasTag(failureTag) {
			problems = append(problems, fmt.Sprintf("line %d: no match: %q", n, lines[n-1]))
			continue
		}
		for i, col := range columns {
			want := row[i+1]
			got, ok := out[0].GetString(col)
			if !ok && want == "" && slices.Contains(optional, col) {
				continue
			}
			if !ok || got != want {
				problems = append(problems, fmt.Sprintf("line %d: %s = %q (present %v), want %q", n, col, got, ok, want))
			}
		}
	}
	if len(rows) != 2000 {
		t.Errorf("%d rows, want 2000", len(rows))
	}
	if len(problems) > 0 {
		t.Errorf("%d mismatches, the first ones:\n%s", len(problems), strings.Join(problems[:min(len(problems), 15)], "\n"))
	}
}

// readLoghub returns the lines of a system's log (without line endings) and
// the header and rows of its structured CSV.
func readLoghub(t *testing.T, system string) (lines, header []string, rows [][]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(LoghubDir, system, system+"_2k.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	file, err := os.Open(filepath.Join(LoghubDir, system, system+"_2k.log_structured.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	records, err := csv.NewReader(file).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, rows = records[0], records[1:]
	if header[0] != "LineId" || header[len(header)-2] != "EventId" || header[len(header)-1] != "EventTemplate" {
		t.Fatalf("unexpected header %v", header)
	}
	return lines, header, rows
}
