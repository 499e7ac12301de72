package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func hasTag(ev map[string]any, tag string) bool {
	tags, _ := ev["tags"].([]any)
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func nested(ev map[string]any, path string) any {
	var cur any = ev
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// TestServerDefaultConfig is the README's quick start: `sluice server` with
// no config takes syslog (TCP, UDP) and HTTP and writes events under the
// data directory.
func TestServerDefaultConfig(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		t.Fatal("the e2e tests need logger(1) (Debian package bsdutils); .ci/run installs it")
	}
	sp, hp := freePort(t), freePort(t)
	p := start(t, "server", "", fmt.Sprintf("SLUICE_SYSLOG_ADDRESS=127.0.0.1:%d", sp), fmt.Sprintf("SLUICE_HTTP_ADDRESS=127.0.0.1:%d", hp))
	for _, args := range [][]string{
		{"--tcp", "--rfc5424", "-t", "myapp", "hello over tcp 5424"},
		{"--tcp", "--rfc3164", "-t", "myapp", "hello over tcp 3164"},
		{"--udp", "--rfc5424", "-t", "myapp", "hello over udp 5424"},
		{"--tcp", "--octet-count", "--rfc5424", "-t", "myapp", "hello octet counted"},
	} {
		cmd := exec.Command("logger", append([]string{"--server", "127.0.0.1", "--port", fmt.Sprint(sp)}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v %s", args, err, out)
		}
	}
	code, body := postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", hp), `{"message":"hello over http","user":{"id":42}}`+"\n")
	if code != 200 || !strings.Contains(body, `"accepted":1`) {
		t.Fatalf("http ingest: %d %s", code, body)
	}
	evs := waitSearch(t, p, "hello", 5, 10*time.Second)
	want := map[string]bool{"hello over tcp 5424": false, "hello over tcp 3164": false, "hello over udp 5424": false, "hello octet counted": false, "hello over http": false}
	for _, ev := range evs {
		msg, _ := ev["message"].(string)
		if _, ok := want[msg]; ok {
			want[msg] = true
		}
		if msg == "hello over tcp 5424" && nested(ev, "log.syslog.appname") != "myapp" {
			t.Errorf("syslog fields not parsed: %v", ev)
		}
		if msg == "hello over http" && nested(ev, "user.id") != float64(42) {
			t.Errorf("nested JSON not kept: %v", ev)
		}
		if _, ok := ev["@timestamp"].(string); !ok {
			t.Errorf("no @timestamp: %v", ev)
		}
	}
	for m, seen := range want {
		if !seen {
			t.Errorf("missing %q in %v", m, evs)
		}
	}
	// The Elasticsearch-compatible API takes a Filebeat-style _bulk and
	// finds it again.
	resp, err := http.Post(p.es+"/_bulk", "application/x-ndjson", strings.NewReader(
		`{"create":{"_index":"filebeat-e2e"}}`+"\n"+`{"@timestamp":"2026-05-01T10:00:00Z","message":"hello over bulk","log":{"level":"error"}}`+"\n"+
			`{"create":{"_index":"filebeat-e2e"}}`+"\n"+`{not json}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var bulk struct {
		Errors bool
		Items  []map[string]struct {
			Status int
			Error  struct{ Type string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&bulk); err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Fatalf("_bulk: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if !bulk.Errors || len(bulk.Items) != 2 || bulk.Items[0]["create"].Status != 201 || bulk.Items[1]["create"].Status != 400 {
		t.Errorf("_bulk items: %+v", bulk)
	}
	resp, err = http.Post(p.es+"/filebeat-e2e/_search", "application/json", strings.NewReader(`{"query":{"match":{"log.level":"error"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var found struct {
		Hits struct {
			Total struct{ Value int }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil || found.Hits.Total.Value != 1 {
		t.Errorf("_search: %d %+v %v", resp.StatusCode, found, err)
	}
	resp.Body.Close()
	// sluice query finds them from the terminal, and says why a query is bad.
	out, err := exec.Command(binary, "query", "--server", p.api, "--since", "1h", `"hello over http" and user.id:42`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "  logs  hello over http") || !strings.Contains(string(out), "1 of 1 events") {
		t.Errorf("sluice query: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "query", "--server", p.api, "status >=").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "column 10: expected a value") {
		t.Errorf("sluice query with a bad query: %v\n%s", err, out)
	}
	if n := p.metric("sluice_source_events_in_total", `source="syslog"`); n < 4 {
		t.Errorf("syslog events_in metric = %v", n)
	}
	if n := p.metric("sluice_destination_events_out_total", `destination="store"`); n < 5 {
		t.Errorf("destination events_out metric = %v", n)
	}
	resp, err = http.Get(p.api + "/api/v1/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	p.stop()
}

const exactConfig = `
sources:
  syslog: {type: syslog, address: "127.0.0.1:%[1]d", protocols: [tcp, udp]}
  raw:    {type: tcp, address: "127.0.0.1:%[2]d", format: raw}
  json:   {type: tcp, address: "127.0.0.1:%[3]d", format: json}
  web:    {type: http, address: "127.0.0.1:%[4]d"}
routes:
  - name: all
    destination: out
destinations:
  out: {type: file, path: "out/events.ndjson"}
`

// TestExactlyOnceWhenHealthy sends with sluice gen over every transport and
// checks that each event arrives exactly once (no loss, no duplicates).
func TestExactlyOnceWhenHealthy(t *testing.T) {
	ports := []int{freePort(t), freePort(t), freePort(t), freePort(t)}
	p := start(t, "worker", fmt.Sprintf(exactConfig, ports[0], ports[1], ports[2], ports[3]))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runs := []struct {
		name string
		args []string
	}{
		{"syslog-tcp", []string{"--format", "syslog", "--to", fmt.Sprintf("tcp://127.0.0.1:%d", ports[0]), "--connections", "3"}},
		{"syslog-octet", []string{"--format", "syslog", "--octet-counting", "--to", fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])}},
		{"syslog3164-tcp", []string{"--format", "syslog3164", "--to", fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])}},
		{"raw", []string{"--format", "raw", "--to", fmt.Sprintf("tcp://127.0.0.1:%d", ports[1]), "--connections", "2"}},
		{"apache", []string{"--format", "apache", "--to", fmt.Sprintf("tcp://127.0.0.1:%d", ports[1])}},
		{"json-tcp", []string{"--format", "json", "--to", fmt.Sprintf("tcp://127.0.0.1:%d", ports[2])}},
		{"json-http", []string{"--format", "json", "--to", fmt.Sprintf("http://127.0.0.1:%d/", ports[3]), "--connections", "2"}},
		{"k8s-http", []string{"--format", "k8s", "--to", fmt.Sprintf("http://127.0.0.1:%d/", ports[3])}},
	}
	const per = 5000
	total := 0
	for _, r := range runs {
		rep := runGen(t, ctx, append(r.args, "--count", fmt.Sprint(per), "--run-id", r.name)...)
		if rep.Events != per || rep.Errors != 0 {
			t.Fatalf("%s: gen sent %d events with %d errors", r.name, rep.Events, rep.Errors)
		}
		total += per
	}
	// UDP may drop under load by nature; send few, slowly, and expect all.
	rep := runGen(t, ctx, "--format", "syslog", "--to", fmt.Sprintf("udp://127.0.0.1:%d", ports[0]), "--count", "200", "--rate", "2000", "--run-id", "udp")
	total += int(rep.Events)
	evs := waitLines(t, filepath.Join(p.dir, "data", "out", "*.ndjson"), total, 30*time.Second)
	seen := map[string]int{}
	for _, ev := range evs {
		id := idOf(ev)
		if id == "" {
			t.Fatalf("event without id: %v", ev)
		}
		seen[id]++
	}
	dups := 0
	for id, n := range seen {
		if n > 1 {
			dups++
			if dups < 5 {
				t.Errorf("id %s arrived %d times", id, n)
			}
		}
	}
	for _, r := range append(runs, struct {
		name string
		args []string
	}{name: "udp"}) {
		n := per
		if r.name == "udp" {
			n = int(rep.Events)
		}
		for i := 1; i <= n; i++ {
			if seen[fmt.Sprintf("%s-%d", r.name, i)] == 0 {
				t.Fatalf("lost %s-%d (have %d events of %d)", r.name, i, len(evs), total)
			}
		}
	}
	if len(evs) != total {
		t.Fatalf("got %d events, want %d", len(evs), total)
	}
	p.stop()
}

// TestBadInput: malformed syslog, invalid JSON and oversized lines are kept
// with a parse-failure tag and counted; the process keeps going.
func TestBadInput(t *testing.T) {
	sp, tp, hp := freePort(t), freePort(t), freePort(t)
	p := start(t, "worker", fmt.Sprintf(`
sources:
  syslog: {type: syslog, address: "127.0.0.1:%d", protocols: [tcp]}
  json:   {type: tcp, address: "127.0.0.1:%d", format: json, max_line_bytes: 1KiB}
  web:    {type: http, address: "127.0.0.1:%d"}
routes: [{destination: out}]
destinations:
  out: {type: file, path: out.ndjson}
`, sp, tp, hp))
	send := func(port int, data string) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	send(sp, "this is not syslog at all\n<999>also bad\n")
	send(tp, "{\"ok\":1}\n{not json}\n"+strings.Repeat("x", 5000)+"\n{\"after\":\"oversized\"}\n")
	code, body := postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", hp), "{\"good\":true}\n{\"bad\":\n")
	if code != 200 {
		t.Fatalf("http with one bad line: %d %s", code, body)
	}
	evs := waitLines(t, filepath.Join(p.dir, "data", "out.ndjson"), 8, 10*time.Second)
	var syslogBad, jsonBad, truncated, afterOversized int
	for _, ev := range evs {
		if hasTag(ev, "_syslogparsefailure") {
			syslogBad++
		}
		if hasTag(ev, "_jsonparsefailure") {
			jsonBad++
		}
		if hasTag(ev, "_truncated") {
			truncated++
			if m, _ := ev["message"].(string); len(m) > 1024 {
				t.Errorf("oversized line kept %d bytes, limit 1KiB", len(m))
			}
		}
		if ev["after"] == "oversized" {
			afterOversized++
		}
	}
	if syslogBad < 1 || jsonBad < 2 || truncated != 1 || afterOversized != 1 {
		t.Fatalf("syslogBad=%d jsonBad=%d truncated=%d after=%d in %v", syslogBad, jsonBad, truncated, afterOversized, evs)
	}
	if n := p.metric("sluice_source_errors_total", `reason="parse"`); n < 3 {
		t.Errorf("parse errors counted: %v", n)
	}
	if n := p.metric("sluice_source_errors_total", `reason="oversized"`); n < 1 {
		t.Errorf("oversized counted: %v", n)
	}
	p.stop()
}

// TestValidate checks `sluice validate` on good and bad configs.
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("sources: {s: {type: syslog}}\nroutes: [{destination: o}]\ndestinations: {o: {type: stdout}}\n"), 0o644)
	os.WriteFile(bad, []byte("sources:\n  s: {type: syslog, adress: x}\nroutes:\n  - {destination: nowhere, filter: 'a =='}\ndestinations: {o: {type: stdot}}\n"), 0o644)
	out, err := exec.Command(binary, "validate", "--config", good).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("good config: %v %s", err, out)
	}
	out, err = exec.Command(binary, "validate", "--config", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("bad config: want exit 1, got %v\n%s", err, out)
	}
	for _, want := range []string{
		"bad.yaml:2: sources.s.adress: unknown field (did you mean \"address\"?)",
		"bad.yaml:4: routes[0].filter: bad expression",
		"bad.yaml:4: routes[0].destination: no destination named \"nowhere\"",
		"bad.yaml:5: destinations.o.type: unknown destination type \"stdot\" (did you mean \"stdout\"?)",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// A worker refuses to start with it, and says why.
	cmd := exec.Command(binary, "worker", "--config", bad, "--api-address", "127.0.0.1:0", "--data", dir)
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unknown field") {
		t.Fatalf("worker with a bad config: %v\n%s", err, out)
	}
}
