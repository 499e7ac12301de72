package dissect

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// loghubDir holds the loghub samples, outside the repository (they may not
// be copied into it): the shared folder next to the repository root.
const loghubDir = "../../../../shared/testdata/loghub"

// The ground truth was made by loghub's parser (logparser's
// log_to_dataframe): it strips each line, then matches it with a regexp
// built from a format such as '<Date> <Time> <Pid> <Level> <Component>:
// <Content>', where each field is a lazy (.*?) group and each run of spaces
// is \s+. A dissect pattern with the same delimiters takes the same values
// wherever a field's value cannot hold its delimiter, which is the case in
// these samples; where the samples pad with spaces, -> does what \s+ does.
// Linux and Mac are not here: a part of their lines is optional ([pid],
// (address)), which one dissect pattern cannot express (grok's loghub test
// covers them).
var loghubCases = []struct{ system, pattern string }{
	{"Apache", "[%{Time}] [%{Level}] %{Content}"},
	// OpenSSH: syslog pads days below 10 ("Dec  9"), hence Date->; this
	// sample only has Dec 10.
	{"OpenSSH", "%{Date->} %{Day} %{Time} %{Component} sshd[%{Pid}]: %{Content}"},
	{"HDFS", "%{Date} %{Time} %{Pid} %{Level} %{Component}: %{Content}"},
	// Zookeeper: levels are padded to five characters ("INFO  ["), so
	// Level-> skips the padding and an empty skip field takes the "[" as its
	// delimiter; the thread name is split at its first colon into Node and
	// Component, as the ground truth does.
	{"Zookeeper", "%{Date} %{Time} - %{Level->} %{}[%{Node}:%{Component}@%{Id}] - %{Content}"},
	{"Proxifier", "[%{Time}] %{Program} - %{Content}"},
	{"Spark", "%{Date} %{Time} %{Level} %{Component}: %{Content}"},
	{"Hadoop", "%{Date} %{Time} %{Level} [%{Process}] %{Component}: %{Content}"},
	{"HealthApp", "%{Time}|%{Component}|%{Pid}|%{Content}"},
	// Android: the pids are right-aligned, padded with spaces.
	{"Android", "%{Date} %{Time->} %{Pid->} %{Tid} %{Level} %{Component}: %{Content}"},
	{"HPC", "%{LogId} %{Node} %{Component} %{State} %{Time} %{Flag} %{Content}"},
	{"OpenStack", "%{Logrecord} %{Date} %{Time} %{Pid} %{Level} %{Component} [%{ADDR}] %{Content}"},
}

// TestLoghub dissects every line of the loghub samples and compares the
// fields with loghub's ground truth, row by row.
func TestLoghub(t *testing.T) {
	if _, err := os.Stat(loghubDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("loghub samples not found at %s", loghubDir)
	}
	for _, c := range loghubCases {
		t.Run(c.system, func(t *testing.T) {
			f := fntest.Build(t, Spec, fmt.Sprintf("pattern: %q", c.pattern))
			lines, header, rows := readLoghub(t, c.system)
			columns := header[1 : len(header)-2] // drop LineId, EventId, EventTemplate
			var problems []string
			for _, row := range rows {
				var n int
				if _, err := fmt.Sscan(row[0], &n); err != nil || n < 1 || n > len(lines) {
					t.Fatalf("row with LineId %q", row[0])
				}
				// loghub's parser strips each line before matching it.
				out := f.Run(event.New(time0, strings.TrimSpace(lines[n-1])))
				if out[0].HasTag("_dissectfailure") {
					problems = append(problems, fmt.Sprintf("line %d: no match: %q", n, lines[n-1]))
					continue
				}
				for i, col := range columns {
					got, ok := out[0].GetString(col)
					if want := row[i+1]; !ok || got != want {
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
		})
	}
}

// readLoghub returns the lines of a system's log (without line endings) and
// the header and rows of its structured CSV.
func readLoghub(t *testing.T, system string) (lines, header []string, rows [][]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(loghubDir, system, system+"_2k.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	file, err := os.Open(filepath.Join(loghubDir, system, system+"_2k.log_structured.csv"))
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
