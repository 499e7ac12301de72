package esapi

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
)

// catColumn is a column of a _cat API table.
type catColumn struct {
	name    string
	aliases []string
	desc    string
	right   bool // numbers are right-aligned
	dflt    bool // shown without h=
}

// catTable renders a _cat response from its columns and rows, as
// Elasticsearch does: aligned text (with a header when v is set), or JSON
// (format=json) with string values; h selects columns, s sorts, help lists
// the columns.
func (c *call) catTable(cols []catColumn, rows [][]string) {
	q := c.q
	if isTrue(q, "help") {
		var b strings.Builder
		w := 0
		for _, col := range cols {
			w = max(w, len(col.name))
		}
		for _, col := range cols {
			b.WriteString(col.name + strings.Repeat(" ", w-len(col.name)) + " | " + strings.Join(col.aliases, ",") + " | " + col.desc + "\n")
		}
		c.text(200, []byte(b.String()))
		return
	}
	// Columns to show.
	var show []int
	if h := q.Get("h"); h != "" {
		for _, name := range splitList(h) {
			matched := false
			for i, col := range cols {
				if wildMatch(name, col.name) || slicesContains(col.aliases, name) {
					show = append(show, i)
					matched = true
				}
			}
			if !matched {
				c.fail(badRequest("header [" + name + "] not found"))
				return
			}
		}
	} else {
		for i, col := range cols {
			if col.dflt {
				show = append(show, i)
			}
		}
	}
	// Sort.
	if s := q.Get("s"); s != "" {
		type key struct {
			col  int
			desc bool
		}
		var keys []key
		for _, spec := range splitList(s) {
			name, order, _ := strings.Cut(spec, ":")
			idx := -1
			for i, col := range cols {
				if col.name == name || slicesContains(col.aliases, name) {
					idx = i
				}
			}
			if idx < 0 {
				c.fail(badRequest("Unable to sort by unknown sort key `" + name + "`"))
				return
			}
			keys = append(keys, key{idx, order == "desc"})
		}
		sort.SliceStable(rows, func(i, j int) bool {
			for _, k := range keys {
				a, b := rows[i][k.col], rows[j][k.col]
				if a == b {
					continue
				}
				less := a < b
				if fa, err1 := strconv.ParseFloat(a, 64); err1 == nil {
					if fb, err2 := strconv.ParseFloat(b, 64); err2 == nil {
						less = fa < fb
					}
				}
				if k.desc {
					return !less
				}
				return less
			}
			return false
		})
	}
	format := q.Get("format")
	if format == "" {
		// Accept: application/json also selects JSON, as in Elasticsearch.
		if a := c.r.Header.Get("Accept"); strings.Contains(a, "json") {
			format = "json"
		}
	}
	if format == "json" {
		b := []byte{'['}
		for r, row := range rows {
			if r > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			for k, i := range show {
				if k > 0 {
					b = append(b, ',')
				}
				b = event.AppendJSONString(b, cols[i].name)
				b = append(b, ':')
				if row[i] == "" {
					b = append(b, "null"...)
				} else {
					b = event.AppendJSONString(b, row[i])
				}
			}
			b = append(b, '}')
		}
		c.json(200, append(b, ']'))
		return
	}
	if format != "" && format != "text" && format != "txt" {
		c.fail(badRequest("Unsupported format [" + format + "]: Sluice serves format=text and format=json"))
		return
	}
	verbose := isTrue(q, "v")
	width := make([]int, len(cols))
	for _, i := range show {
		if verbose {
			width[i] = utf8.RuneCountInString(cols[i].name)
		}
		for _, row := range rows {
			width[i] = max(width[i], utf8.RuneCountInString(row[i]))
		}
	}
	var b strings.Builder
	line := func(cells func(i int) string) {
		for k, i := range show {
			last := k == len(show)-1
			s := cells(i)
			pad := width[i] - utf8.RuneCountInString(s)
			if cols[i].right {
				b.WriteString(strings.Repeat(" ", pad))
				b.WriteString(s)
			} else {
				b.WriteString(s)
				if !last {
					b.WriteString(strings.Repeat(" ", pad))
				}
			}
			if !last {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	if verbose {
		line(func(i int) string { return cols[i].name })
	}
	for _, row := range rows {
		line(func(i int) string { return row[i] })
	}
	c.text(200, []byte(b.String()))
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatBytes formats a size as Elasticsearch's cat APIs do: with the bytes
// parameter as a whole number of that unit, else "88.1kb" style (one
// decimal, truncated, dropped when zero).
func formatBytes(n int64, unit string) string {
	units := []struct {
		suffix string
		size   float64
	}{{"pb", 1 << 50}, {"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}}
	if unit != "" {
		for _, u := range units {
			if u.suffix == unit {
				return strconv.FormatInt(int64(float64(n)/u.size), 10)
			}
		}
	}
	for _, u := range units {
		if float64(n) >= u.size || u.suffix == "b" {
			v := float64(n) / u.size
			whole := math.Floor(v)
			frac := int(math.Floor((v - whole) * 10))
			if frac == 0 {
				return strconv.FormatInt(int64(whole), 10) + u.suffix
			}
			return strconv.FormatInt(int64(whole), 10) + "." + strconv.Itoa(frac) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "b"
}

var catIndicesColumns = []catColumn{
	{name: "health", aliases: []string{"h"}, desc: "current health status", dflt: true},
	{name: "status", aliases: []string{"s"}, desc: "open/close status", dflt: true},
	{name: "index", aliases: []string{"i", "idx"}, desc: "index name", dflt: true},
	{name: "uuid", aliases: []string{"id", "uuid"}, desc: "index uuid", dflt: true},
	{name: "pri", aliases: []string{"p", "shards.primary", "shardsPrimary"}, desc: "number of primary shards", right: true, dflt: true},
	{name: "rep", aliases: []string{"r", "shards.replica", "shardsReplica"}, desc: "number of replica shards", right: true, dflt: true},
	{name: "docs.count", aliases: []string{"dc", "docsCount"}, desc: "available docs", right: true, dflt: true},
	{name: "docs.deleted", aliases: []string{"dd", "docsDeleted"}, desc: "deleted docs", right: true, dflt: true},
	{name: "store.size", aliases: []string{"ss", "storeSize"}, desc: "store size of primaries & replicas", right: true, dflt: true},
	{name: "pri.store.size", desc: "store size of primaries", right: true, dflt: true},
	{name: "dataset.size", desc: "total size of dataset", right: true, dflt: true},
	{name: "creation.date", aliases: []string{"cd"}, desc: "index creation date (millisecond value)", right: true},
	{name: "creation.date.string", aliases: []string{"cds"}, desc: "index creation date (as string)"},
}

// catIndices serves /_cat/indices[/{index}].
func (c *call) catIndices(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	unit := c.q.Get("bytes")
	rows := make([][]string, 0, len(infos))
	for _, in := range infos {
		size := formatBytes(in.Bytes, unit)
		created, createdStr := "", ""
		if !in.Created.IsZero() {
			created = strconv.FormatInt(in.Created.UnixMilli(), 10)
			createdStr = in.Created.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		rows = append(rows, []string{"green", "open", in.Name, uuidFor("index:" + in.Name), "1", "0",
			strconv.FormatInt(in.Docs, 10), "0", size, size, size, created, createdStr})
	}
	c.catTable(catIndicesColumns, rows)
}

var catHealthColumns = []catColumn{
	{name: "epoch", aliases: []string{"t", "time"}, desc: "seconds since 1970-01-01 00:00:00", right: true, dflt: true},
	{name: "timestamp", aliases: []string{"ts", "hms", "hhmmss"}, desc: "time in HH:MM:SS", dflt: true},
	{name: "cluster", aliases: []string{"cl"}, desc: "cluster name", dflt: true},
	{name: "status", aliases: []string{"st"}, desc: "health status", dflt: true},
	{name: "node.total", aliases: []string{"nt", "nodeTotal"}, desc: "total number of nodes", right: true, dflt: true},
	{name: "node.data", aliases: []string{"nd", "nodeData"}, desc: "number of nodes that can store data", right: true, dflt: true},
	{name: "shards", aliases: []string{"t", "sh", "shards.total", "shardsTotal"}, desc: "total number of shards", right: true, dflt: true},
	{name: "pri", aliases: []string{"p", "shards.primary", "shardsPrimary"}, desc: "number of primary shards", right: true, dflt: true},
	{name: "relo", aliases: []string{"r", "shards.relocating", "shardsRelocating"}, desc: "number of relocating nodes", right: true, dflt: true},
	{name: "init", aliases: []string{"i", "shards.initializing", "shardsInitializing"}, desc: "number of initializing nodes", right: true, dflt: true},
	{name: "unassign", aliases: []string{"u", "shards.unassigned", "shardsUnassigned"}, desc: "number of unassigned shards", right: true, dflt: true},
	{name: "unassign.pri", aliases: []string{"up", "shards.unassigned.primary", "shardsUnassignedPrimary"}, desc: "number of unassigned primary shards", right: true, dflt: true},
	{name: "pending_tasks", aliases: []string{"pt", "pendingTasks"}, desc: "number of pending tasks", right: true, dflt: true},
	{name: "max_task_wait_time", aliases: []string{"mtwt", "maxTaskWaitTime"}, desc: "wait time of longest task pending", right: true, dflt: true},
	{name: "active_shards_percent", aliases: []string{"asp", "activeShardsPercent"}, desc: "active number of shards in percent", right: true, dflt: true},
}

// catHealth serves /_cat/health.
func (c *call) catHealth() {
	infos, err := c.h.b.Indices(c.ctx)
	if err != nil {
		c.fail(c.h.asError(err, ""))
		return
	}
	now := c.h.opts.Now()
	n := strconv.Itoa(len(infos))
	cols := catHealthColumns
	row := []string{strconv.FormatInt(now.Unix(), 10), now.UTC().Format("15:04:05"), c.h.opts.ClusterName, "green",
		"1", "1", n, n, "0", "0", "0", "0", "0", "-", "100.0%"}
	if c.q.Get("ts") == "false" {
		cols, row = cols[2:], row[2:]
	}
	c.catTable(cols, [][]string{row})
}

var catCountColumns = []catColumn{
	{name: "epoch", aliases: []string{"t", "time"}, desc: "seconds since 1970-01-01 00:00:00", right: true, dflt: true},
	{name: "timestamp", aliases: []string{"ts", "hms", "hhmmss"}, desc: "time in HH:MM:SS", dflt: true},
	{name: "count", aliases: []string{"dc", "docs.count", "docsCount"}, desc: "the document count", right: true, dflt: true},
}

// catCount serves /_cat/count[/{index}].
func (c *call) catCount(expr string) {
	idx, none, e := c.resolve(expr, isTrue(c.q, "ignore_unavailable"))
	if e != nil {
		c.fail(e)
		return
	}
	var total int64
	if !none {
		res, err := c.h.b.Search(c.ctx, &SearchRequest{Indices: idx})
		if err != nil {
			c.fail(c.h.asError(err, expr))
			return
		}
		total = res.Total
	}
	now := c.h.opts.Now()
	c.catTable(catCountColumns, [][]string{{strconv.FormatInt(now.Unix(), 10), now.UTC().Format("15:04:05"), strconv.FormatInt(total, 10)}})
}

// catHelp serves /_cat: the list of cat APIs.
func (c *call) catHelp() {
	c.text(200, []byte("=^.^=\n/_cat/indices\n/_cat/indices/{index}\n/_cat/health\n/_cat/count\n/_cat/count/{index}\n"))
}
