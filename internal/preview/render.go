package preview

import (
	"fmt"
	"io"
	"strings"
)

// Render writes r for a terminal: each function with its counts and, for
// each event it touched, the fields added (+), removed (-) and changed (~),
// drops and failures; then the resulting events as NDJSON.
func Render(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline %s: %d events in, %d out\n", r.Pipeline, len(r.Input), len(r.Output))
	for _, st := range r.Steps {
		fmt.Fprintf(&b, "\n[%d] %s", st.Index, st.Type)
		if st.Description != "" {
			fmt.Fprintf(&b, " (%s)", st.Description)
		}
		if st.If != "" {
			fmt.Fprintf(&b, " if %s", st.If)
		}
		fmt.Fprintf(&b, ": %d in, %d out", st.In, st.Out)
		for _, c := range []struct {
			n    int
			what string
		}{{st.Dropped, "dropped"}, {st.Failed, "failed"}, {st.Emitted, "emitted"}} {
			if c.n > 0 {
				fmt.Fprintf(&b, ", %d %s", c.n, c.what)
			}
		}
		b.WriteString("\n")
		untouched := 0
		for _, es := range st.Events {
			if es.Skipped || (!es.Dropped && !es.Failed && len(es.Changes) == 0 && len(es.Emitted) == 0) {
				untouched++
				continue
			}
			fmt.Fprintf(&b, "  event %d:", es.In+1)
			if es.Dropped {
				b.WriteString(" dropped")
			}
			if es.Failed {
				b.WriteString(" FAILED")
			}
			b.WriteString("\n")
			for _, c := range es.Changes {
				switch c.Op {
				case "added":
					fmt.Fprintf(&b, "    + %s: %s\n", c.Field, c.After)
				case "removed":
					fmt.Fprintf(&b, "    - %s: %s\n", c.Field, c.Before)
				default:
					fmt.Fprintf(&b, "    ~ %s: %s -> %s\n", c.Field, c.Before, c.After)
				}
			}
			for _, e := range es.Emitted {
				fmt.Fprintf(&b, "    => new event %s\n", e)
			}
		}
		if untouched > 0 {
			fmt.Fprintf(&b, "  (%d events unchanged or skipped)\n", untouched)
		}
	}
	fmt.Fprintf(&b, "\nresult (%d events):\n", len(r.Output))
	for _, e := range r.Output {
		b.Write(e)
		b.WriteString("\n")
	}
	if len(r.Flushed) > 0 {
		fmt.Fprintf(&b, "\nemitted at flush (%d events):\n", len(r.Flushed))
		for _, f := range r.Flushed {
			fmt.Fprintf(&b, "[%d] %s: %s\n", f.Step, f.Type, f.Event)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
