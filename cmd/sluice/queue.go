package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/sluicehq/sluice/internal/queue/disk"
)

// runQueue implements `sluice queue inspect|verify DIR`: a read-only report
// on a disk queue, safe on a running worker's queue.
func runQueue(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `Usage: sluice queue inspect|verify [--json] DIR

  inspect  depth, oldest event age, checkpoint and segment health (checks CRCs)
  verify   the same, and decodes every event (slower)

DIR is a disk queue directory, DATA/queues/DESTINATION. Exit status 1 when the
queue has a problem (corrupt record, missing segment, unreadable checkpoint).`)
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	verb := args[0]
	if verb == "help" || verb == "--help" || verb == "-h" {
		usage()
		return 0
	}
	fs := flag.NewFlagSet("sluice queue "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		usage()
		return 2
	}
	dir := fs.Arg(0)
	var rep disk.Report
	var err error
	switch verb {
	case "inspect":
		rep, err = disk.Inspect(dir)
	case "verify":
		rep, err = disk.Verify(dir)
	default:
		fmt.Fprintf(stderr, "sluice queue: unknown command %q\n", verb)
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice queue:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		printQueueReport(stdout, &rep)
	}
	if !rep.Healthy() {
		return 1
	}
	return 0
}

func printQueueReport(w io.Writer, r *disk.Report) {
	health := "healthy"
	if !r.Healthy() {
		health = "PROBLEMS FOUND"
	}
	fmt.Fprintf(w, "queue %s: %s\n", r.Dir, health)
	fmt.Fprintf(w, "  depth: %d events in %d records, %s\n", r.Events, r.Records, humanBytes(r.Bytes))
	if !r.Oldest.IsZero() {
		fmt.Fprintf(w, "  oldest event: pushed %s (%s ago)\n", r.Oldest.UTC().Format(time.RFC3339), r.Age.Round(time.Second))
	}
	fmt.Fprintf(w, "  checkpoint: %s", r.Checkpoint.State)
	if r.Checkpoint.Error != "" {
		fmt.Fprintf(w, " (%s)", r.Checkpoint.Error)
	}
	fmt.Fprintln(w)
	if r.CorruptRecords > 0 {
		fmt.Fprintf(w, "  corrupt records: %d\n", r.CorruptRecords)
	}
	if len(r.MissingSegments) > 0 {
		fmt.Fprintf(w, "  missing segments: %v\n", r.MissingSegments)
	}
	for _, f := range r.CorruptFiles {
		fmt.Fprintf(w, "  set aside: %s\n", f)
	}
	if len(r.Segments) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  segment\tsize\trecords\tevents\tstate\tproblem")
	for _, s := range r.Segments {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\t%s\n", filepath.Base(s.File), humanBytes(s.Size), s.Records, s.Events, s.State, s.Problem)
	}
	tw.Flush()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
