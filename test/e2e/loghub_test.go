package e2e

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// loghubDir is the real log samples beside the repository (../shared).
var loghubDir = filepath.Join("..", "..", "..", "shared", "testdata", "loghub")

// TestLoghubSamples sends the real log samples of ../shared/testdata/loghub
// through the binary: every line of every *_2k.log over raw TCP must come
// out with its message unchanged, and the Linux syslog lines (given a PRI)
// must parse into the host, program, pid and message that loghub's
// structured CSV lists. It skips when ../shared is not there.
func TestLoghubSamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(loghubDir, "*", "*_2k.log"))
	if len(files) == 0 {
		t.Skip("../shared/testdata/loghub is not present")
	}
	rawPort, sysPort := freePort(t), freePort(t)
	p := start(t, "worker", fmt.Sprintf(`
sources:
  raw: {type: tcp, address: "127.0.0.1:%d"}
  sys: {type: syslog, address: "127.0.0.1:%d", protocols: [tcp]}
routes:
  - {filter: '__source == "raw"', destination: raw}
  - {destination: sys}
destinations:
  raw: {type: file, path: raw.ndjson}
  sys: {type: file, path: sys.ndjson}
`, rawPort, sysPort))

	var want []string
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", rawPort))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if line == "" {
				continue
			}
			want = append(want, line)
			w.WriteString(line + "\n")
		}
	}
	w.Flush()
	conn.Close()

	// Linux: BSD syslog lines without a PRI; give them one.
	linux, err := os.ReadFile(filepath.Join(loghubDir, "Linux", "Linux_2k.log"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", sysPort))
	if err != nil {
		t.Fatal(err)
	}
	w = bufio.NewWriter(conn)
	nLinux := 0
	for _, line := range bytes.Split(bytes.TrimRight(linux, "\n"), []byte("\n")) {
		w.WriteString("<13>" + string(line) + "\n")
		nLinux++
	}
	w.Flush()
	conn.Close()

	raw := waitLines(t, filepath.Join(p.dir, "data", "raw.ndjson"), len(want), 30*time.Second)
	var got []string
	for _, ev := range raw {
		got = append(got, ev["message"].(string))
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("raw: %d lines out, %d in", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("raw line changed:\n in  %q\n out %q", want[i], got[i])
		}
	}

	sys := waitLines(t, filepath.Join(p.dir, "data", "sys.ndjson"), nLinux, 30*time.Second)
	f, err := os.Open(filepath.Join(loghubDir, "Linux", "Linux_2k.log_structured.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = rows[1:] // LineId,Month,Date,Time,Level(host),Component,PID,Content,...
	if len(rows) != len(sys) {
		t.Fatalf("syslog: %d events, %d CSV rows", len(sys), len(rows))
	}
	mismatches, spaced := 0, 0
	for i, row := range rows {
		ev := sys[i]
		host, app, pid, content := row[4], row[5], row[6], row[7]
		if strings.Contains(app, " ") {
			// "syslogd 1.4.1: restart.": RFC 3164 tags have no spaces, so
			// the parser keeps this in the message; loghub splits it off.
			if m, _ := ev["message"].(string); !strings.HasPrefix(m, app) || !strings.HasSuffix(strings.TrimSpace(m), strings.TrimSpace(content)) {
				t.Errorf("line %s: message %q, want the whole of %q ... %q", row[0], m, app, content)
			}
			spaced++
			continue
		}
		gotHost, _ := nested(ev, "log.syslog.hostname").(string)
		gotApp, _ := nested(ev, "log.syslog.appname").(string)
		gotPid := fmt.Sprint(nested(ev, "log.syslog.procid"))
		gotMsg, _ := ev["message"].(string)
		if pid == "" {
			gotPid = ""
		}
		if gotHost != host || gotApp != app || gotPid != pid || strings.TrimSpace(gotMsg) != strings.TrimSpace(content) || hasTag(ev, "_syslogparsefailure") {
			mismatches++
			if mismatches <= 3 {
				t.Errorf("line %s: got host=%q app=%q pid=%q msg=%q; CSV host=%q app=%q pid=%q msg=%q",
					row[0], gotHost, gotApp, gotPid, gotMsg, host, app, pid, content)
			}
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d Linux syslog lines parsed differently from loghub's CSV", mismatches, len(rows))
	}
	t.Logf("%d real lines from %d loghub files unchanged; %d Linux syslog lines parsed as loghub's CSV says (%d with a space in the tag kept whole in message)", len(want), len(files), len(rows)-spaced, spaced)
	p.stop()
}
