package gen

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Report is what `sluice gen` prints at the end of a run; its JSON form
// (--report json) is a stable contract documented in the package comment.
type Report struct {
	// Events is the number of lines sent: written to the socket for TCP and
	// UDP, acknowledged with a 2xx for HTTP.
	Events uint64 `json:"events"`
	// Bytes counts the same lines with their framing (newline, octet count).
	Bytes        uint64  `json:"bytes"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// MBPerSec is in megabytes (10^6 bytes) per second.
	MBPerSec float64 `json:"mb_per_sec"`
	// Errors counts failed writes, connects and requests.
	Errors uint64 `json:"errors"`
	// Retries counts HTTP requests sent again after a 429 or 503.
	Retries uint64 `json:"retries"`
	// FirstID and LastID are the lowest and highest ids among the events
	// counted, "" when none was.
	FirstID string `json:"first_id"`
	LastID  string `json:"last_id"`
}

// tally is one worker's counts, merged into the report at the end.
type tally struct {
	events, bytes, errors, retries uint64
	minSeq, maxSeq                 uint64 // minSeq 0: none yet
	lastErr                        error
}

// sent counts n events, whose sequence numbers lie in [lo, hi], as sent.
func (t *tally) sent(lo, hi uint64, n, bytes int) {
	if n <= 0 {
		return
	}
	t.events += uint64(n)
	t.bytes += uint64(bytes)
	if t.minSeq == 0 || lo < t.minSeq {
		t.minSeq = lo
	}
	t.maxSeq = max(t.maxSeq, hi)
}

func (t *tally) fail(err error) {
	t.errors++
	t.lastErr = err
}

func (t *tally) merge(o *tally) {
	t.events += o.events
	t.bytes += o.bytes
	t.errors += o.errors
	t.retries += o.retries
	if o.minSeq != 0 && (t.minSeq == 0 || o.minSeq < t.minSeq) {
		t.minSeq = o.minSeq
	}
	t.maxSeq = max(t.maxSeq, o.maxSeq)
	if o.lastErr != nil {
		t.lastErr = o.lastErr
	}
}

func (t *tally) report(run string, elapsed time.Duration) Report {
	r := Report{
		Events:  t.events,
		Bytes:   t.bytes,
		Seconds: elapsed.Seconds(),
		Errors:  t.errors,
		Retries: t.retries,
	}
	if r.Seconds > 0 {
		r.EventsPerSec = float64(r.Events) / r.Seconds
		r.MBPerSec = float64(r.Bytes) / 1e6 / r.Seconds
	}
	if t.minSeq != 0 {
		r.FirstID = ID(run, t.minSeq)
		r.LastID = ID(run, t.maxSeq)
	}
	return r
}

// WriteJSON writes r as one line of JSON.
func (r Report) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// WriteText writes r as an aligned table for people.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "events\t%d\n", r.Events)
	fmt.Fprintf(tw, "bytes\t%d\n", r.Bytes)
	fmt.Fprintf(tw, "seconds\t%.3f\n", r.Seconds)
	fmt.Fprintf(tw, "events/s\t%.1f\n", r.EventsPerSec)
	fmt.Fprintf(tw, "MB/s\t%.2f\n", r.MBPerSec)
	fmt.Fprintf(tw, "errors\t%d\n", r.Errors)
	fmt.Fprintf(tw, "retries\t%d\n", r.Retries)
	fmt.Fprintf(tw, "first id\t%s\n", r.FirstID)
	fmt.Fprintf(tw, "last id\t%s\n", r.LastID)
	return tw.Flush()
}
