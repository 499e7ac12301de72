package main

import (
	"fmt"
	"strconv"
)

// scenario is one end-to-end measurement: a worker config and the load that
// `sluice gen` sends to it. Every config names its destination "out", whose
// delivered-events counter the harness watches.
type scenario struct {
	name string
	doc  string
	// config returns the worker's YAML for a source listening on port.
	config func(port int) string
	// load returns the `sluice gen` flags (without --duration and --report)
	// that send to port; nil for a scenario without load.
	load func(port int) []string
	// files are written into the worker's directory before it starts
	// (lookup tables), by relative path.
	files map[string]string
}

const routeAndBlackhole = `routes:
  - {name: all, destination: out}
destinations:
  out: {type: blackhole}
`

// httpIngestPath is where the http source takes NDJSON.
const httpIngestPath = "/"

var scenarios = []scenario{
	{
		name: "syslog_tcp_blackhole",
		doc:  "RFC 5424 syslog over 4 TCP connections into the syslog source, routed to a blackhole",
		config: func(port int) string {
			return sources(`{type: syslog, address: "127.0.0.1:`+strconv.Itoa(port)+`", protocols: [tcp]}`) + routeAndBlackhole
		},
		load: func(port int) []string {
			return []string{"--format", "syslog", "--to", tcpURL(port), "--connections", "4"}
		},
	},
	{
		name: "tcp_raw_blackhole",
		doc:  "150-byte text lines over 4 TCP connections into the tcp source, routed to a blackhole",
		config: func(port int) string {
			return sources(`{type: tcp, address: "127.0.0.1:`+strconv.Itoa(port)+`", format: raw}`) + routeAndBlackhole
		},
		load: func(port int) []string {
			return []string{"--format", "raw", "--size", "150", "--to", tcpURL(port), "--connections", "4"}
		},
	},
	{
		name: "http_ndjson_file",
		doc:  "ECS JSON over HTTP (4 clients, 1000 lines per request) into the http source, written to an NDJSON file",
		config: func(port int) string {
			return sources(`{type: http, address: "127.0.0.1:`+strconv.Itoa(port)+`"}`) + `routes:
  - {name: all, destination: out}
destinations:
  out: {type: file, path: out.ndjson, format: json}
`
		},
		load: func(port int) []string {
			return []string{"--format", "json", "--to", fmt.Sprintf("http://127.0.0.1:%d%s", port, httpIngestPath),
				"--connections", "4", "--batch", "1000"}
		},
	},
	{
		name: "tcp_raw_blackhole_disk",
		doc:  "tcp_raw_blackhole with a disk queue (default fsync policy) in front of the blackhole",
		config: func(port int) string {
			return sources(`{type: tcp, address: "127.0.0.1:`+strconv.Itoa(port)+`", format: raw}`) + `routes:
  - {name: all, destination: out}
destinations:
  out: {type: blackhole, queue: {type: disk}}
`
		},
		load: func(port int) []string {
			return []string{"--format", "raw", "--size", "150", "--to", tcpURL(port), "--connections", "4"}
		},
	},
	{
		name: "http_ndjson_file_disk",
		doc:  "http_ndjson_file with a disk queue (default fsync policy): each request is answered after its events are fsynced",
		config: func(port int) string {
			return sources(`{type: http, address: "127.0.0.1:`+strconv.Itoa(port)+`"}`) + `routes:
  - {name: all, destination: out}
destinations:
  out: {type: file, path: out.ndjson, format: json, queue: {type: disk}}
`
		},
		load: func(port int) []string {
			return []string{"--format", "json", "--to", fmt.Sprintf("http://127.0.0.1:%d%s", port, httpIngestPath),
				"--connections", "8", "--batch", "1000"}
		},
	},
	{
		name: "syslog_pipeline6",
		doc: "RFC 5424 syslog lines over 4 TCP connections through a 6-function pipeline (dissect, timestamp, rename, " +
			"lookup, throttle, drop) to a blackhole; the throttle limit is high enough that every event is delivered",
		config: func(port int) string {
			return sources(`{type: tcp, address: "127.0.0.1:`+strconv.Itoa(port)+`", format: raw}`) + `routes:
  - {name: all, pipeline: syslog, destination: out}
pipelines:
  syslog:
    - type: dissect
      pattern: '<%{log.syslog.priority}>1 %{ts} %{host} %{app} %{process.pid} %{log.syslog.msgid} %{rest}'
    - type: timestamp
      field: ts
      formats: [ISO8601]
    - type: rename
      fields: {host: host.name, app: process.name}
    - type: lookup
      file: apps.csv
      field: process.name
      target: service
    - type: throttle
      key: '%{host.name}'
      after_count: 1000000000
      period: 60s
      add_tag: [throttled]
    - type: drop
      if: '"throttled" in tags'
destinations:
  out: {type: blackhole}
`
		},
		files: map[string]string{"apps.csv": "app,team,tier\nnginx,storefront,frontend\nsshd,platform,infra\nsudo,platform,infra\n" +
			"kernel,platform,infra\nsystemd,platform,infra\npostfix/smtpd,messaging,backend\nCRON,platform,infra\n"},
		load: func(port int) []string {
			return []string{"--format", "syslog", "--to", tcpURL(port), "--connections", "4"}
		},
	},
	{
		name: "idle",
		doc:  "a tcp source and a blackhole with no load: startup memory and idle CPU",
		config: func(port int) string {
			return sources(`{type: tcp, address: "127.0.0.1:`+strconv.Itoa(port)+`", format: raw}`) + routeAndBlackhole
		},
	},
}

func sources(in string) string { return "sources:\n  in: " + in + "\n" }

func tcpURL(port int) string { return "tcp://127.0.0.1:" + strconv.Itoa(port) }

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}
