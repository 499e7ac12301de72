// Package gen makes realistic log lines and sends them as load: the
// generators behind `sluice gen` and the datagen source.
//
// # Generators
//
// NewGenerator returns a Generator for a format:
//
//	syslog      RFC 5424 with structured data: <PRI>1 TS HOST APP PROCID MSGID [SD] MSG id=RUN-SEQ
//	syslog3164  BSD syslog: <PRI>Mmm dd hh:mm:ss HOST APP[PID]: MSG id=RUN-SEQ
//	json        ECS-style object: {"@timestamp","id":"RUN-SEQ","log.level","message",service,host,http,url,user,trace,event.duration…}
//	apache      Apache combined: IP - USER [TS] "METHOD /path?id=RUN-SEQ HTTP/1.1" STATUS BYTES "REF" "UA"
//	k8s         Kubernetes CRI: TS stdout|stderr F MSG, MSG a zap JSON object with "id" or a klog/text line with id=RUN-SEQ
//	raw         TS LEVEL id=RUN-SEQ filler…, exactly Options.Size bytes
//
// Every line carries a unique id RUN-SEQ (ExtractID finds it), so that a
// test can tell which lines a destination lost or duplicated. Content comes
// from a fixed vocabulary with production-like weights (mostly info, a few
// percent warnings and errors; mostly 200s; a few busy clients and a long
// tail) and is a pure function of (seed, seq, time): the same seed gives the
// same lines, whichever goroutine makes them. Generators append into the
// caller's buffer without allocating; a core makes several million raw lines
// or two million JSON lines a second, so the generator is never what limits a
// benchmark.
//
// # sluice gen
//
// Main implements the CLI:
//
//	sluice gen --to URL [--format syslog] [--rate N] [--count N] [--duration D]
//	           [--connections 1] [--batch N] [--octet-counting] [--run-id S]
//	           [--size 128] [--seed 1] [--report text|json]
//
// TCP writes lines newline-terminated (or octet-counted) through a 256 KiB
// buffer per connection and reconnects after a failed write, counting an
// error; UDP sends one datagram per line; HTTP posts --batch lines per
// request, as NDJSON for the json format and text/plain otherwise, resends
// the same body after 429 or 503 as Retry-After says (counted as retries),
// and counts any other non-2xx answer as an error whose events are not
// counted as sent. --rate is a token bucket shared by all connections and
// taken per batch. Ctrl-C stops the run and still prints the report.
//
// # Report
//
// With --report json the report is one line of JSON with this stable shape:
//
//	{"events":N,"bytes":N,"seconds":F,"events_per_sec":F,"mb_per_sec":F,
//	 "errors":N,"retries":N,"first_id":"RUN-SEQ","last_id":"RUN-SEQ"}
//
// events are the lines written to the socket (TCP, UDP) or acknowledged with
// a 2xx (HTTP); bytes count them with their framing; seconds run from the
// first send to the last; mb_per_sec is in 10^6 bytes; first_id and last_id
// are the lowest and highest id counted ("" when none). Ids are handed out
// from 1 in order, so a run without errors and with --count N sent exactly
// RUN-1 … RUN-N.
package gen
