package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// runQuery is `sluice query 'KQL'`: search a running server's store from
// the terminal through its search API.
func runQuery(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("SLUICE_SERVER", "http://127.0.0.1:9000"), "API address of a sluice server or store (SLUICE_SERVER)")
	since := fs.String("since", "15m", "search this far back (e.g. 30s, 15m, 24h, 7d); ignored with --from")
	from := fs.String("from", "", "start of the range: RFC 3339, epoch ms or now-1h style")
	to := fs.String("to", "", "end of the range (default now)")
	index := fs.String("index", "", "index name or pattern, comma separated (default all)")
	limit := fs.Int("limit", 100, "most events to print")
	asc := fs.Bool("asc", false, "oldest first (default newest first)")
	output := fs.String("output", "text", "text (time, index, message) or json (one event per line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sluice query [flags] 'KQL query'   (e.g. sluice query 'status >= 500 and service:api' --since 1h)")
		fs.PrintDefaults()
	}
	// Flags may come after the query.
	var query []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		query = append(query, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "sluice query: --output must be text or json, not %q\n", *output)
		return 2
	}
	v := url.Values{"q": {strings.Join(query, " ")}, "limit": {strconv.Itoa(*limit)}}
	if *from != "" {
		v.Set("from", *from)
	} else {
		d, err := parseSince(*since)
		if err != nil {
			fmt.Fprintf(stderr, "sluice query: --since: %v\n", err)
			return 2
		}
		v.Set("from", "now-"+strconv.FormatInt(int64(d/time.Second), 10)+"s")
	}
	if *to != "" {
		v.Set("to", *to)
	}
	if *index != "" {
		v.Set("index", *index)
	}
	if *asc {
		v.Set("sort", "asc")
	}
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Get(strings.TrimRight(*server, "/") + "/api/v1/search?" + v.Encode())
	if err != nil {
		fmt.Fprintf(stderr, "sluice query: %v (is a sluice server running there? set --server or SLUICE_SERVER)\n", err)
		return 1
	}
	defer resp.Body.Close()
	var res struct {
		Total  int64             `json:"total"`
		TookMS int64             `json:"took_ms"`
		Hits   []json.RawMessage `json:"hits"`
		Error  string            `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<30)).Decode(&res); err != nil {
		fmt.Fprintf(stderr, "sluice query: %s answered %s with an unreadable body: %v\n", *server, resp.Status, err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "sluice query: %s\n", res.Error)
		return 1
	}
	for _, h := range res.Hits {
		if *output == "json" {
			fmt.Fprintf(stdout, "%s\n", h)
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(h, &ev); err != nil {
			continue
		}
		fmt.Fprintf(stdout, "%v  %v  %s\n", ev["@timestamp"], ev["_index"], textOf(ev))
	}
	fmt.Fprintf(stderr, "%d of %d events (%d ms)\n", len(res.Hits), res.Total, res.TookMS)
	return 0
}

// textOf is the message of an event, or its JSON without the metadata.
func textOf(ev map[string]any) string {
	if m, ok := ev["message"].(string); ok {
		return m
	}
	delete(ev, "_index")
	delete(ev, "_id")
	delete(ev, "@timestamp")
	b, _ := json.Marshal(ev)
	return string(b)
}

// parseSince reads a duration that may also be in days ("7d").
func parseSince(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a duration like 15m, 24h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration like 15m, 24h or 7d", s)
	}
	return d, nil
}
