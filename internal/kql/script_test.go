package kql

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// The query test language, in testdata/*.test (after promql's):
//
//	# a comment
//	now 2026-03-15T12:30:00Z      "now" for date math (this is the default)
//	load                          fixture events follow, one JSON object a
//	{"id":"e1","message":"…"}     line, until a blank line; "id" names the
//	                              event in expectations and is moved to the
//	                              internal field _id, so free text skips it
//	clear                         forget the loaded events
//	eval <query>                  then one indented expectation line:
//	  e1 e3                         the ids of the matching events (any order)
//	  none                          no event matches
//	  error <column> <text>         Parse fails at that column (line 1) with a
//	                                message containing text
//
// Every eval that parses is also checked for the invariants: String()
// parses back to an equal tree, a hand-built copy prepared by Prepare
// matches the same events, and RequiredTokens and TimeBounds keep every
// matching event.

type fixture struct {
	id string
	ev event.Event
}

type scriptCase struct {
	file  string
	line  int
	query string
	want  string
	now   time.Time
}

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test scripts: %v", err)
	}
	total := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			total += runScript(t, file)
		})
	}
	t.Logf("%d eval cases in %d files", total, len(files))
}

func runScript(t *testing.T, file string) int {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	var fixtures []fixture
	now := fixedNow
	cases := 0
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		where := file + ":" + strconv.Itoa(i+1)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "clear":
			fixtures = nil
		case strings.HasPrefix(line, "now "):
			now, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(line[4:]))
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		case line == "load":
			for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				i++
				fixtures = append(fixtures, loadFixture(t, file+":"+strconv.Itoa(i+1), lines[i]))
			}
		case strings.HasPrefix(lines[i], "eval ") || lines[i] == "eval":
			query := strings.TrimPrefix(lines[i], "eval")
			query = strings.TrimPrefix(query, " ")
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "  ") {
				t.Fatalf("%s: eval without an indented expectation line", where)
			}
			i++
			cases++
			runCase(t, fixtures, scriptCase{file: file, line: i, query: query, want: strings.TrimSpace(lines[i]), now: now})
		default:
			t.Fatalf("%s: unknown directive %q", where, line)
		}
	}
	return cases
}

func loadFixture(t *testing.T, where, line string) fixture {
	t.Helper()
	var ev event.Event
	data := []byte(line)
	if err := jsonparse.ParseObject(&ev, data); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	id, ok := ev.GetString("id")
	if !ok {
		t.Fatalf("%s: fixture without an id", where)
	}
	ev.Delete("id")
	ev.SetString("_id", id)
	return fixture{id: id, ev: ev}
}

func runCase(t *testing.T, fixtures []fixture, c scriptCase) {
	t.Helper()
	where := c.file + ":" + strconv.Itoa(c.line)
	n, err := ParseAt(c.query, c.now)
	if strings.HasPrefix(c.want, "error ") {
		colText, msg, _ := strings.Cut(strings.TrimPrefix(c.want, "error "), " ")
		col, cerr := strconv.Atoi(colText)
		if cerr != nil {
			t.Fatalf("%s: bad error expectation %q", where, c.want)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: %q: want a syntax error at column %d, got %v (%v)", where, c.query, col, n, err)
			return
		}
		if se.Column() != col || se.Line() != 1 || !strings.Contains(se.Msg, msg) {
			t.Errorf("%s: %q:\n got error: %v\nwant column %d and %q", where, c.query, err, col, msg)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %q: %v", where, c.query, err)
		return
	}
	want := strings.Fields(c.want)
	if len(want) == 1 && want[0] == "none" {
		want = nil
	}
	var got []string
	for i := range fixtures {
		if Match(n, &fixtures[i].ev) {
			got = append(got, fixtures[i].id)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %q (parsed as %s):\n got %v\nwant %v", where, c.query, n, got, want)
	}
	checkInvariants(t, where, c.query, n, c.now, fixtures)
}

// checkInvariants checks what must hold for every parsed query over the
// fixtures: round trip, hand-built equivalence, sound pruning.
func checkInvariants(t *testing.T, where, query string, n Node, now time.Time, fixtures []fixture) {
	t.Helper()
	text := n.String()
	back, err := ParseAt(text, now)
	if err != nil {
		t.Errorf("%s: %q prints as %q, which does not parse: %v", where, query, text, err)
	} else if !reflect.DeepEqual(n, back) {
		t.Errorf("%s: %q prints as %q, which parses to a different tree: %s", where, query, text, back)
	}
	bare := Prepare(stripPrep(n), now)
	req := RequiredTokens(n)
	from, to, bounded := TimeBounds(n)
	for i := range fixtures {
		ev := &fixtures[i].ev
		m := Match(n, ev)
		if Match(bare, ev) != m {
			t.Errorf("%s: %q: Prepare'd copy disagrees on %s", where, query, fixtures[i].id)
		}
		// Unprepared nodes resolve "now" at match time.
		if !strings.Contains(query, "now") && Match(stripPrep(n), ev) != m {
			t.Errorf("%s: %q: unprepared copy disagrees on %s", where, query, fixtures[i].id)
		}
		if !m {
			continue
		}
		if !req.MayMatch(eventContains(ev)) {
			t.Errorf("%s: %q matches %s but RequiredTokens %s excludes it", where, query, fixtures[i].id, req)
		}
		if bounded && ((!from.IsZero() && ev.Time.Before(from)) || (!to.IsZero() && ev.Time.After(to))) {
			t.Errorf("%s: %q matches %s at %v outside TimeBounds %v..%v", where, query, fixtures[i].id, ev.Time, from, to)
		}
	}
}

// stripPrep returns a copy of n as a user would build it: exported fields
// only.
func stripPrep(n Node) Node {
	switch n := n.(type) {
	case *And:
		out := &And{}
		for _, c := range n.Nodes {
			out.Nodes = append(out.Nodes, stripPrep(c))
		}
		return out
	case *Or:
		out := &Or{}
		for _, c := range n.Nodes {
			out.Nodes = append(out.Nodes, stripPrep(c))
		}
		return out
	case *Not:
		return &Not{Node: stripPrep(n.Node)}
	case *Term:
		return &Term{Field: n.Field, Value: n.Value, Phrase: n.Phrase, Wildcard: n.Wildcard}
	case *Range:
		return &Range{Field: n.Field, Op: n.Op, Value: n.Value}
	case *Nested:
		return &Nested{Path: n.Path, Query: stripPrep(n.Query)}
	case *Exists:
		return &Exists{Field: n.Field}
	case *MatchAll:
		return &MatchAll{}
	}
	return n
}

// eventContains is the exact "may contain" of one event, by EventTokens.
func eventContains(ev *event.Event) func(field, token string) bool {
	has := map[[2]string]bool{}
	EventTokens(ev, func(field, tok string) {
		has[[2]string{field, strings.Clone(tok)}] = true
		has[[2]string{"", strings.Clone(tok)}] = true
	})
	return func(field, tok string) bool {
		if has[[2]string{field, tok}] {
			return true
		}
		// A dotted prefix of field: a list of objects holding it.
		for i := len(field) - 1; i > 0; i-- {
			if field[i] == '.' && has[[2]string{field[:i], tok}] {
				return true
			}
		}
		return false
	}
}
