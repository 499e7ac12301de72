package preview

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/drop"
	"github.com/sluicehq/sluice/internal/function/eval"
	"github.com/sluicehq/sluice/internal/function/rename"
	syslogfn "github.com/sluicehq/sluice/internal/function/syslog"
)

// Test-only functions: one that fails on events without "n", one that
// splits a "parts" field, one that counts and emits the count at flush.
type failCfg struct{}
type failFn struct{ c component.Counter }

func (f *failFn) Apply(ev *event.Event, _ func(event.Event)) bool {
	if !ev.Has("n") {
		ev.AddTag("_testfailure")
		f.c.Inc()
	}
	return true
}

type splitFn struct{}

func (splitFn) Apply(ev *event.Event, emit func(event.Event)) bool {
	s, _ := ev.GetString("parts")
	ps := strings.Split(s, ",")
	ev.SetString("parts", ps[0])
	for _, p := range ps[1:] {
		e := ev.Clone()
		e.SetString("parts", p)
		emit(e)
	}
	return true
}

type countFn struct{ n int }

func (c *countFn) Apply(*event.Event, func(event.Event)) bool { c.n++; return true }
func (c *countFn) FlushInterval() time.Duration               { return time.Second }
func (c *countFn) Flush(now time.Time, _ bool, emit func(event.Event)) {
	e := event.NewSized(now, 1)
	e.Set("count", c.n)
	emit(e)
}

func registry() *component.Registry {
	r := component.NewRegistry()
	for _, s := range []component.FunctionSpec{eval.Spec, rename.Spec, drop.Spec} {
		r.AddFunction(s)
	}
	r.AddFunction(component.FunctionSpec{Type: "failer", NewConfig: func() any { return &failCfg{} },
		Build: func(_ any, env component.Env) (component.Function, error) { return &failFn{c: env.Failures}, nil }})
	r.AddFunction(component.FunctionSpec{Type: "splitter", NewConfig: func() any { return &failCfg{} },
		Build: func(any, component.Env) (component.Function, error) { return splitFn{}, nil }})
	r.AddFunction(component.FunctionSpec{Type: "counter", NewConfig: func() any { return &failCfg{} },
		Build: func(any, component.Env) (component.Function, error) { return &countFn{}, nil }})
	return r
}

const cfgText = `
pipelines:
  p:
    - type: eval
      description: mark slow
      fields: [{name: slow, value: "ms > 500"}]
    - type: rename
      if: exists(app)
      fields: {app: service.name}
    - type: failer
    - type: splitter
      if: exists(parts)
    - type: drop
      if: 'status == 200'
    - type: counter
  other:
    - type: drop
`

func run(t *testing.T, input string) *Result {
	t.Helper()
	reg := registry()
	cfg, err := config.Parse([]byte(cfgText), "p.yaml", reg, config.Options{PipelinesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	evs, err := Read(reg, strings.NewReader(input), "auto", now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(Options{Config: cfg, Registry: reg, Pipeline: "p", Now: now}, evs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunReportsEachFunction(t *testing.T) {
	res := run(t, `{"@timestamp":"2026-03-04T05:00:00Z","message":"a","ms":700,"app":"web","n":1}
{"message":"b","status":200,"n":2}
{"message":"c","parts":"x,y,z"}
`)
	if len(res.Input) != 3 || len(res.Steps) != 6 {
		t.Fatalf("input %d steps %d", len(res.Input), len(res.Steps))
	}
	st := res.Steps[0]
	if st.Description != "mark slow" || st.In != 3 || st.Out != 3 {
		t.Errorf("eval step: %+v", st)
	}
	if c := st.Events[0].Changes; len(c) != 1 || c[0].Field != "slow" || c[0].Op != "added" || string(c[0].After) != "true" {
		t.Errorf("eval changes: %+v", c)
	}
	if len(st.Events[1].Changes) != 0 {
		t.Errorf("eval changed event 2: %+v", st.Events[1].Changes)
	}
	st = res.Steps[1]
	if !st.Events[1].Skipped || st.Events[0].Skipped {
		t.Errorf("rename skips: %+v", st.Events)
	}
	want := []Change{{Field: "service.name", Op: "added", After: json.RawMessage(`"web"`)}, {Field: "app", Op: "removed", Before: json.RawMessage(`"web"`)}}
	if got, _ := json.Marshal(st.Events[0].Changes); string(got) != mustJSON(want) {
		t.Errorf("rename changes: %s", got)
	}
	st = res.Steps[2]
	if st.Failed != 1 || !st.Events[2].Failed || st.Events[0].Failed {
		t.Errorf("failures: %+v", st)
	}
	if c := st.Events[2].Changes; len(c) != 1 || c[0].Field != "tags" || string(c[0].After) != `["_testfailure"]` {
		t.Errorf("failure tag change: %+v", c)
	}
	st = res.Steps[3]
	if st.In != 3 || st.Out != 5 || st.Emitted != 2 || len(st.Events[2].Emitted) != 2 {
		t.Errorf("split: %+v", st)
	}
	if c := st.Events[2].Changes; len(c) != 1 || c[0].Op != "changed" || string(c[0].Before) != `"x,y,z"` || string(c[0].After) != `"x"` {
		t.Errorf("split change: %+v", c)
	}
	st = res.Steps[4]
	if st.Dropped != 1 || !st.Events[1].Dropped || st.Out != 4 {
		t.Errorf("drop: %+v", st)
	}
	if len(res.Output) != 4 {
		t.Fatalf("output: %d", len(res.Output))
	}
	if !strings.Contains(string(res.Output[0]), `"@timestamp":"2026-03-04T05:00:00Z"`) || !strings.Contains(string(res.Output[0]), `"service":{"name":"web"}`) {
		t.Errorf("output[0] = %s", res.Output[0])
	}
	if len(res.Flushed) != 1 || res.Flushed[0].Step != 5 || !strings.Contains(string(res.Flushed[0].Event), `"count":4`) {
		t.Errorf("flushed: %+v", res.Flushed)
	}
	var buf bytes.Buffer
	if err := Render(&buf, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[0] eval (mark slow): 3 in, 3 out", "+ slow: true", "[2] failer: 3 in, 3 out, 1 failed", "event 3: FAILED",
		`~ parts: "x,y,z" -> "x"`, "event 2: dropped", "result (4 events):", "emitted at flush (1 events):"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("rendered text lacks %q:\n%s", want, buf.String())
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestRunPicksPipeline(t *testing.T) {
	reg := registry()
	cfg, err := config.Parse([]byte(cfgText), "p.yaml", reg, config.Options{PipelinesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(Options{Config: cfg, Registry: reg}, nil); err == nil || !strings.Contains(err.Error(), "other, p") {
		t.Errorf("no pipeline named: %v", err)
	}
	if _, err := Run(Options{Config: cfg, Registry: reg, Pipeline: "nope"}, nil); err == nil || !strings.Contains(err.Error(), `no pipeline "nope"`) {
		t.Errorf("unknown pipeline: %v", err)
	}
}

func TestReadFormats(t *testing.T) {
	now := time.Unix(100, 0)
	evs, err := Read(registry(), strings.NewReader("plain line\n\n{\"not\": \"json here\"}\n"), "auto", now)
	if err != nil || len(evs) != 2 || evs[0].Message() != "plain line" || evs[1].Message() != `{"not": "json here"}` || !evs[0].Time.Equal(now) {
		t.Errorf("lines: %v %v", evs, err)
	}
	if _, err := Read(registry(), strings.NewReader("{\"a\":1}\n{bad\n"), "ndjson", now); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad ndjson: %v", err)
	}
	if _, err := Read(registry(), strings.NewReader("x"), "xml", now); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := Read(registry(), strings.NewReader(strings.Repeat("x", MaxLineBytes+10)), "lines", now); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("long line: %v", err)
	}
	if _, err := Read(registry(), strings.NewReader(strings.Repeat("x\n", MaxEvents+1)), "lines", now); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("too many events: %v", err)
	}
}

func TestHandler(t *testing.T) {
	reg := registry()
	running, _ := config.Parse([]byte(cfgText), "p.yaml", reg, config.Options{PipelinesOnly: true})
	srv := httptest.NewServer(Handler(reg, func() *config.Config { return running }, nil))
	defer srv.Close()
	post := func(body string) (int, string) {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	code, body := post(`{"pipeline":"p","events":[{"message":"a","ms":900,"n":1}]}`)
	var res Result
	if code != 200 || json.Unmarshal([]byte(body), &res) != nil || len(res.Output) != 1 || !strings.Contains(string(res.Output[0]), `"slow":true`) {
		t.Errorf("running config: %d %s", code, body)
	}
	code, body = post(`{"config":"pipelines:\n  x:\n    - type: eval\n      fields: [{name: y, value: '1 +'}]\n","pipeline":"x","input":"hello"}`)
	var er ErrorResponse
	if code != 400 || json.Unmarshal([]byte(body), &er) != nil || len(er.Errors) != 1 || er.Errors[0].Line != 4 {
		t.Errorf("config error: %d %s", code, body)
	}
	code, body = post(`{"config":"pipelines:\n  x:\n    - type: eval\n      fields: [{name: y, value: '1 + 1'}]\n","input":"hello\nworld","format":"lines"}`)
	if code != 200 || json.Unmarshal([]byte(body), &res) != nil || len(res.Output) != 2 || !strings.Contains(string(res.Output[1]), `"y":2`) {
		t.Errorf("inline config: %d %s", code, body)
	}
	for _, bad := range []string{`{"pipeline":"p","events":[{"a":1}],"input":"x"}`, `{"pipeline":"p","events":["x"]}`, `{"bogus":1}`, `not json`, `{"pipeline":"zz","input":"a"}`} {
		if code, body := post(bad); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	if code, _ := post(`{"input":"` + strings.Repeat("x", MaxRequestBytes) + `"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", code)
	}
}

// TestHandlerRefusesSecrets checks that a config sent over the API cannot
// read the server's environment or files.
func TestHandlerRefusesSecrets(t *testing.T) {
	t.Setenv("SLUICE_TEST_SECRET", "hunter2")
	reg := registry()
	reg.AddFunction(component.FunctionSpec{Type: "filereader", ReadsFiles: true, NewConfig: func() any { return &failCfg{} },
		Build: func(any, component.Env) (component.Function, error) { return splitFn{}, nil }})
	srv := httptest.NewServer(Handler(reg, nil, nil))
	defer srv.Close()
	for _, cfg := range []string{
		"pipelines:\n  x:\n    - type: eval\n      fields: [{name: s, value: '\"${SLUICE_TEST_SECRET}\"'}]\n",
		"pipelines:\n  x:\n    - type: eval\n      fields: [{name: s, value: '\"${file:/etc/hostname}\"'}]\n",
		"pipelines:\n  x:\n    - type: filereader\n",
	} {
		body, _ := json.Marshal(map[string]any{"config": cfg, "input": "a"})
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "over the API") {
			t.Errorf("%q: %d %s", cfg, resp.StatusCode, b.String())
		}
	}
}

func TestReadSyslog(t *testing.T) {
	reg := registry()
	if _, err := Read(reg, strings.NewReader("x\n"), "syslog", time.Now()); err == nil {
		t.Error("syslog format without the syslog function")
	}
	reg.AddFunction(syslogfn.Spec)
	in := "<34>1 2026-05-01T10:00:00Z web-01 sshd 42 - - Failed password for root\nnot syslog at all\n"
	evs, err := Read(reg, strings.NewReader(in), "syslog", time.Now())
	if err != nil || len(evs) != 2 {
		t.Fatalf("%v %v", evs, err)
	}
	if h, _ := evs[0].GetString("host.hostname"); h != "web-01" || evs[0].Message() != "Failed password for root" ||
		!evs[0].Time.Equal(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("parsed: %v %v", evs[0].Time, evs[0].Fields())
	}
	if evs[1].Message() != "not syslog at all" {
		t.Errorf("unparsed line: %v", evs[1].Fields())
	}
}
