package gen

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 5, 1, 9, 4, 5, 123456789, time.UTC)

func lines(t testing.TB, format string, o Options, n int) []string {
	t.Helper()
	g, err := NewGenerator(format, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	var buf []byte
	for i := range out {
		buf = g.Append(buf[:0], uint64(i+1), testNow.Add(time.Duration(i)*time.Millisecond))
		out[i] = string(buf)
	}
	return out
}

var (
	reSyslog5424 = regexp.MustCompile(`^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\d+|-) (\S+) (-|(?:\[[^\]]+\])+) (.+)$`)
	reSyslog3164 = regexp.MustCompile(`^<(\d{1,3})>([A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d) (\S+) ([^:\[ ]+)(\[\d+\])?: (.+)$`)
	reApache     = regexp.MustCompile(`^(\S+) \S+ (\S+) \[([^\]]+)\] "([A-Z]+) (\S+) (HTTP/[\d.]+)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$`)
	reCRI        = regexp.MustCompile(`^(\S+) (stdout|stderr) ([FP]) (.*)$`)
)

func TestFormatsParse(t *testing.T) {
	const n = 1500
	checks := map[string]func(t *testing.T, line string){
		"syslog": func(t *testing.T, line string) {
			m := reSyslog5424.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not RFC 5424: %q", line)
			}
			checkPRI(t, m[1], line)
			if _, err := time.Parse(time.RFC3339Nano, m[2]); err != nil {
				t.Fatalf("timestamp of %q: %v", line, err)
			}
		},
		"syslog3164": func(t *testing.T, line string) {
			m := reSyslog3164.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not RFC 3164: %q", line)
			}
			checkPRI(t, m[1], line)
			if _, err := time.Parse(time.Stamp, m[2]); err != nil {
				t.Fatalf("timestamp of %q: %v", line, err)
			}
		},
		"json": func(t *testing.T, line string) {
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("invalid JSON %q: %v", line, err)
			}
			for _, k := range []string{"@timestamp", "id", "log.level", "message", "service", "host", "trace", "event"} {
				if _, ok := obj[k]; !ok {
					t.Fatalf("no %s in %q", k, line)
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, obj["@timestamp"].(string)); err != nil {
				t.Fatalf("@timestamp: %v", err)
			}
			if http, ok := obj["http"].(map[string]any); ok {
				code := http["response"].(map[string]any)["status_code"].(float64)
				if code < 100 || code > 599 {
					t.Fatalf("status %v in %q", code, line)
				}
				if _, ok := obj["url"].(map[string]any)["path"].(string); !ok {
					t.Fatalf("no url.path in %q", line)
				}
			}
		},
		"apache": func(t *testing.T, line string) {
			m := reApache.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not Apache combined: %q", line)
			}
			if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[3]); err != nil {
				t.Fatalf("timestamp of %q: %v", line, err)
			}
		},
		"k8s": func(t *testing.T, line string) {
			m := reCRI.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not CRI: %q", line)
			}
			if _, err := time.Parse(time.RFC3339Nano, m[1]); err != nil {
				t.Fatalf("timestamp of %q: %v", line, err)
			}
			if strings.HasPrefix(m[4], "{") {
				var obj map[string]any
				if err := json.Unmarshal([]byte(m[4]), &obj); err != nil {
					t.Fatalf("invalid JSON message %q: %v", m[4], err)
				}
				if obj["level"] == nil || obj["msg"] == nil || obj["id"] == nil {
					t.Fatalf("zap message without level, msg or id: %q", m[4])
				}
			}
		},
		"raw": func(t *testing.T, line string) {
			if len(line) != DefaultSize {
				t.Fatalf("raw line is %d bytes, want %d: %q", len(line), DefaultSize, line)
			}
		},
	}
	for _, f := range Formats() {
		t.Run(f, func(t *testing.T) {
			check := checks[f]
			if check == nil {
				t.Fatalf("no check for format %s", f)
			}
			for _, l := range lines(t, f, Options{RunID: "t", Seed: 3}, n) {
				if strings.ContainsAny(l, "\n\r") {
					t.Fatalf("line break in %q", l)
				}
				check(t, l)
			}
		})
	}
}

func checkPRI(t *testing.T, s, line string) {
	t.Helper()
	if p, err := strconv.Atoi(s); err != nil || p > 191 {
		t.Fatalf("bad PRI %s in %q", s, line)
	}
}

func TestIDsUnique(t *testing.T) {
	const n = 5000
	for _, f := range Formats() {
		t.Run(f, func(t *testing.T) {
			seen := make(map[string]bool, n)
			for i, l := range lines(t, f, Options{RunID: "run7", Seed: 11}, n) {
				id, ok := ExtractID([]byte(l))
				if want := ID("run7", uint64(i+1)); !ok || id != want {
					t.Fatalf("line %d: id %q (found %v), want %q in %q", i+1, id, ok, want, l)
				}
				if seen[id] {
					t.Fatalf("duplicate id %s", id)
				}
				seen[id] = true
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, f := range Formats() {
		a := lines(t, f, Options{Seed: 5}, 50)
		b := lines(t, f, Options{Seed: 5}, 50)
		c := lines(t, f, Options{Seed: 6}, 50)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s: same seed, different lines", f)
		}
		if strings.Join(a, "\n") == strings.Join(c, "\n") {
			t.Errorf("%s: different seeds, same lines", f)
		}
	}
}

func TestVariety(t *testing.T) {
	// A realistic stream repeats hosts and levels but not whole lines, and
	// is dominated by info with some warnings and errors.
	ls := lines(t, "json", Options{Seed: 1}, 5000)
	levels := map[string]int{}
	hostsSeen := map[string]bool{}
	for _, l := range ls {
		var obj struct {
			Level string `json:"log.level"`
			Host  struct{ Name string }
		}
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatal(err)
		}
		levels[obj.Level]++
		hostsSeen[obj.Host.Name] = true
	}
	if levels["info"] < 3000 || levels["warn"] < 100 || levels["error"] < 50 || levels["debug"] < 25 {
		t.Errorf("level mix %v does not look like production logs", levels)
	}
	if len(hostsSeen) < 20 {
		t.Errorf("only %d hosts", len(hostsSeen))
	}
}

func TestRawSize(t *testing.T) {
	for _, size := range []int{1, 40, 60, 150, 1000, 70000, 200000} {
		g, err := NewGenerator("raw", Options{Size: size, RunID: "abc"})
		if err != nil {
			t.Fatal(err)
		}
		for seq := uint64(1); seq < 20; seq++ {
			l := g.Append(nil, seq, testNow)
			min := len("2024-05-01T09:04:05.123Z INFO id=abc-") + len(strconv.FormatUint(seq, 10))
			if want := max(size, min); len(l) != want {
				t.Fatalf("size %d: got %d bytes, want %d", size, len(l), want)
			}
			if l[len(l)-1] == ' ' {
				t.Fatalf("size %d: trailing blank", size)
			}
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := NewGenerator("xml", Options{}); err == nil || !strings.Contains(err.Error(), "syslog") {
		t.Fatalf("want an error that lists the formats, got %v", err)
	}
}

func TestTimeFormats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		tm := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
		for _, c := range []struct {
			got    []byte
			layout string
		}{
			{appendRFC3339(nil, tm, 0), "2006-01-02T15:04:05Z"},
			{appendRFC3339(nil, tm, 3), "2006-01-02T15:04:05.000Z"},
			{appendRFC3339(nil, tm, 6), "2006-01-02T15:04:05.000000Z"},
			{appendRFC3339(nil, tm, 9), "2006-01-02T15:04:05.000000000Z"},
			{appendBSDTime(nil, tm), time.Stamp},
			{appendCLFTime(nil, tm), "02/Jan/2006:15:04:05 -0700"},
			{appendKlogTime(nil, tm), "0102 15:04:05.000000"},
		} {
			if want := tm.Format(c.layout); string(c.got) != want {
				t.Fatalf("%s: got %q, want %q", c.layout, c.got, want)
			}
		}
	}
}

func TestExtractID(t *testing.T) {
	for _, c := range []struct {
		line, id string
	}{
		{`{"@timestamp":"x","id":"r-1","trace":{"id":"zz"}}`, "r-1"},
		{`<13>1 - - - - - - uid=0 pid=5 id=r-22`, "r-22"},
		{`GET /x?user=u&id=r-3 HTTP/1.1`, "r-3"},
		{`msg id=r-4`, "r-4"},
		{`id=r-5 rest`, "r-5"},
		{`no ident here uid=1`, ""},
	} {
		id, ok := ExtractID([]byte(c.line))
		if id != c.id || ok != (c.id != "") {
			t.Errorf("ExtractID(%q) = %q, %v; want %q", c.line, id, ok, c.id)
		}
	}
}

func TestWeighted(t *testing.T) {
	w := newWeighted(choice[string]{900, "a"}, choice[string]{90, "b"}, choice[string]{10, "c"})
	counts := map[string]int{}
	r := rng{s: 9}
	for range 100000 {
		counts[w.pick(&r)]++
	}
	if counts["a"] < 88000 || counts["a"] > 92000 || counts["b"] < 8000 || counts["b"] > 10000 || counts["c"] < 600 || counts["c"] > 1400 {
		t.Fatalf("weights 900/90/10 gave %v", counts)
	}
}

func BenchmarkGenerators(b *testing.B) {
	for _, f := range Formats() {
		b.Run(f, func(b *testing.B) {
			g, err := NewGenerator(f, Options{RunID: "bench", Seed: 1, Size: 150})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			buf := make([]byte, 0, 64<<10)
			total := 0
			for i := uint64(1); i <= 1000; i++ {
				total += len(g.Append(buf[:0], i, now))
			}
			b.SetBytes(int64(total / 1000))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Lines go into one buffer, as a sender fills a write.
				if len(buf) > 60<<10 {
					buf = buf[:0]
				}
				buf = g.Append(buf, uint64(i), now)
				buf = append(buf, '\n')
			}
		})
	}
}
