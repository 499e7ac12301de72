package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const previewConfig = `
pipelines:
  web:
    - type: grok
      description: parse the access log
      patterns: ['%{COMBINEDAPACHELOG}']
    - type: timestamp
      field: timestamp
      formats: ['dd/MMM/yyyy:HH:mm:ss Z']
    - type: remove
      fields: [timestamp]
    - type: mask
      fields: [url.original]
      rules: [{preset: email}]
    - type: drop
      if: 'http.response.status_code == 404'
`

const accessLog = `83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /signup?email=ann@example.com HTTP/1.1" 200 2030 "-" "curl/8.5.0"
10.0.0.7 - - [17/May/2015:10:05:04 +0000] "GET /missing HTTP/1.1" 404 12 "-" "curl/8.5.0"
this is not an access log
`

// TestPreviewCLI runs `sluice preview` on a file and on standard input.
func TestPreviewCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "web.yaml")
	sample := filepath.Join(dir, "access.log")
	os.WriteFile(cfg, []byte(previewConfig), 0o644)
	os.WriteFile(sample, []byte(accessLog), 0o644)
	out, err := exec.Command(binary, "preview", "--config", cfg, "--input", sample).CombinedOutput()
	if err != nil {
		t.Fatalf("preview: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"pipeline web: 3 events in, 2 out",
		"[0] grok (parse the access log): 3 in, 3 out, 1 failed",
		"+ source.address: \"83.149.9.216\"",
		"event 3: FAILED",
		`+ tags: ["_grokparsefailure"]`,
		"~ @timestamp:",
		`"2015-05-17T10:05:03Z"`,
		`~ url.original: "/signup?email=ann@example.com" -> "/signup?email=***"`,
		"[4] drop if http.response.status_code == 404: 3 in, 2 out, 1 dropped",
		"result (2 events):",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("preview output lacks %q:\n%s", want, text)
		}
	}
	// JSON output from standard input.
	cmd := exec.Command(binary, "preview", "--config", cfg, "--pipeline", "web", "--output", "json")
	cmd.Stdin = strings.NewReader(accessLog)
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("preview --output json: %v\n%s", err, out)
	}
	var res struct {
		Steps []struct {
			Type    string
			Dropped int
			Failed  int
		}
		Output []map[string]any
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("preview json: %v\n%s", err, out)
	}
	if len(res.Steps) != 5 || res.Steps[0].Failed != 1 || res.Steps[4].Dropped != 1 || len(res.Output) != 2 {
		t.Errorf("preview json: %+v", res)
	}
	if res.Output[0]["@timestamp"] != "2015-05-17T10:05:03Z" {
		t.Errorf("timestamp not parsed: %v", res.Output[0])
	}
	// Bad usage is explained.
	out, err = exec.Command(binary, "preview", "--config", cfg, "--pipeline", "nope", "--input", sample).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `no pipeline "nope" (the config has: web)`) {
		t.Errorf("unknown pipeline: %v %s", err, out)
	}
}

// TestPreviewAPI posts to a running server's /api/v1/preview.
func TestPreviewAPI(t *testing.T) {
	p := start(t, "server", "")
	body, _ := json.Marshal(map[string]any{"config": previewConfig, "pipeline": "web", "input": accessLog, "format": "lines"})
	resp, err := http.Post(p.api+"/api/v1/preview", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Pipeline string
		Output   []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("preview api: %d %v", resp.StatusCode, err)
	}
	if res.Pipeline != "web" || len(res.Output) != 2 {
		t.Errorf("preview api: %+v", res)
	}
	bad, _ := json.Marshal(map[string]any{"config": "pipelines:\n  x:\n    - type: grok\n      patterns: ['%{NOSUCHPATTERN}']\n", "input": "a"})
	resp2, err := http.Post(p.api+"/api/v1/preview", "application/json", strings.NewReader(string(bad)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var er struct {
		Errors []struct {
			Line    int
			Message string
		}
	}
	if err := json.NewDecoder(resp2.Body).Decode(&er); err != nil || resp2.StatusCode != 400 || len(er.Errors) == 0 || er.Errors[0].Line != 4 {
		t.Errorf("bad config: %d %+v %v", resp2.StatusCode, er, err)
	}
}

// TestValidateFunctionErrors checks that bad function options are refused
// with the file and line of the key.
func TestValidateFunctionErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`sources: {s: {type: syslog}}
routes: [{destination: o, pipeline: p}]
destinations: {o: {type: stdout}}
pipelines:
  p:
    - type: grok
      patterns: ['%{NOSUCHPATTERN:x}']
    - type: throttle
      key: '%{host}'
      after_count: 10
      period: soon
    - type: timestamp
      field: ts
      timezone: Mars/Olympus
    - type: lookup
      file: /nonexistent/table.csv
    - type: dissect
      pattern: '%{a}%{b}'
    - type: json
      max_depth: 1000
`), 0o644)
	out, _ := exec.Command(binary, "validate", "--config", bad).CombinedOutput()
	for _, want := range []string{"bad.yaml:7: pipelines.p[0].patterns", "bad.yaml:11: pipelines.p[1].period", "bad.yaml:14: pipelines.p[2].timezone",
		"bad.yaml:16: pipelines.p[3].file", "bad.yaml:18: pipelines.p[4].pattern", "bad.yaml:20: pipelines.p[5].max_depth"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
}

// TestThrottlePerPodPerMinute is the ELK article's setup through the real
// server: at most 1000 events per pod per minute pass, the rest are tagged
// throttled, counted by a metrics function whose events a route sends to
// their own file, and dropped.
func TestThrottlePerPodPerMinute(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
sources:
  web: {type: http, address: "127.0.0.1:%d"}
routes:
  - name: metrics
    filter: '"metric" in tags'
    destination: metrics
  - name: all
    pipeline: limit
    destination: out
pipelines:
  limit:
    - type: throttle
      key: '%%{kubernetes.pod.name}'
      after_count: 1000
      period: 60s
      max_age: 600s
      add_tag: [throttled]
    - type: metrics
      if: '"throttled" in tags'
      meter: ['throttled']
      flush_interval: 5s
    - type: drop
      if: '"throttled" in tags'
destinations:
  out: {type: file, path: %[2]s/out.ndjson}
  metrics: {type: file, path: %[2]s/metrics.ndjson}
`, port, dir)
	p := start(t, "server", cfg)
	// Three pods, three minutes, 1500 events per pod per minute; the
	// minutes are sent out of order (minute 2 before minute 1) and each
	// request mixes pods.
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	sent := 0
	for _, minute := range []int{0, 2, 1} {
		var b strings.Builder
		for i := 0; i < 1500; i++ {
			for pod := 0; pod < 3; pod++ {
				ts := base.Add(time.Duration(minute)*time.Minute + time.Duration(i)*30*time.Millisecond)
				fmt.Fprintf(&b, `{"@timestamp":%q,"kubernetes":{"pod":{"name":"web-%d"}},"n":%d}`+"\n", ts.Format(time.RFC3339Nano), pod, sent)
				sent++
			}
		}
		if code, body := postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", port), b.String()); code != 200 {
			t.Fatalf("post: %d %s", code, body)
		}
	}
	// Timeslots start at each pod's first event: minute 0 at 10:00:00,
	// then minute 2 (10:02:00 is outside that slot: a new one), and minute
	// 1 falls in neither (10:01:00–10:01:45 is after 10:00:00+60s and
	// before 10:02:00): its own slot. So 1000 per pod per minute.
	evs := waitLines(t, filepath.Join(dir, "out.ndjson"), 9000, 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	evs = readNDJSON(t, filepath.Join(dir, "out.ndjson"))
	if len(evs) != 9000 {
		t.Fatalf("delivered %d events, want 9000 (1000 per pod per minute)", len(evs))
	}
	perPodMinute := map[string]int{}
	for _, ev := range evs {
		ts, _ := time.Parse(time.RFC3339Nano, ev["@timestamp"].(string))
		pod := nested(ev, "kubernetes.pod.name").(string)
		perPodMinute[fmt.Sprintf("%s@%d", pod, int(ts.Sub(base).Minutes()))]++
		if hasTag(ev, "throttled") {
			t.Fatalf("a throttled event was delivered: %v", ev)
		}
	}
	for k, n := range perPodMinute {
		if n != 1000 {
			t.Errorf("%s: %d events, want 1000", k, n)
		}
	}
	if len(perPodMinute) != 9 {
		t.Errorf("pod-minutes: %v", perPodMinute)
	}
	// The metrics function counted the 4500 throttled events; its events
	// went to their own file by their tag.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ms := readNDJSON(t, filepath.Join(dir, "metrics.ndjson"))
		if len(ms) > 0 {
			last := ms[len(ms)-1]
			if c, _ := nested(last, "throttled.count").(float64); c == 4500 && hasTag(last, "metric") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metric event with throttled.count 4500: %v", ms)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if f := p.metric("sluice_events_dropped_total", `reason="dropped_by_function"`); f != 4500 {
		t.Errorf("dropped_by_function = %v, want 4500", f)
	}
}

// TestParseFailureTaggedAndCounted: an event a parser cannot parse is
// delivered with the failure tag, and the failure is counted per function.
func TestParseFailureTaggedAndCounted(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	p := start(t, "worker", fmt.Sprintf(`
sources:
  web: {type: http, address: "127.0.0.1:%d"}
routes:
  - {name: all, pipeline: p, destination: out}
pipelines:
  p:
    - type: json
      field: raw
destinations:
  out: {type: file, path: %s/out.ndjson}
`, port, dir))
	body := `{"raw":"{\"user\":{\"id\":7}}"}` + "\n" + `{"raw":"{not json"}` + "\n"
	if code, resp := postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", port), body); code != 200 {
		t.Fatalf("post: %d %s", code, resp)
	}
	evs := waitLines(t, filepath.Join(dir, "out.ndjson"), 2, 10*time.Second)
	if nested(evs[0], "user.id") != float64(7) || hasTag(evs[0], "_jsonparsefailure") {
		t.Errorf("parsed event: %v", evs[0])
	}
	if !hasTag(evs[1], "_jsonparsefailure") || evs[1]["raw"] != "{not json" {
		t.Errorf("failed event: %v", evs[1])
	}
	if n := p.metric("sluice_function_failures_total", `pipeline="p"`, `function="0:json"`); n != 1 {
		t.Errorf("sluice_function_failures_total = %v, want 1", n)
	}
}
