package lookup

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// benchEvents makes n events whose field is set to key(i).
func benchEvents(n int, field string, key func(i int) string) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.NewSized(time.Time{}, 8)
		evs[i].SetString(field, key(i))
	}
	return evs
}

// runBench applies f to the events in turn. Each event is applied to many
// times, so after the first pass a hit replaces the fields it set rather
// than appending them: the figures are the cost of the lookup and the
// field writes, not of growing the events.
func runBench(b *testing.B, f component.Function, evs []event.Event) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		f.Apply(&evs[i%len(evs)], nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkExact100k(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("host,owner,env,tier\n")
	for i := range 100_000 {
		fmt.Fprintf(&csv, "host-%06d.example.com,team-%d,prod,%d\n", i, i%97, i%3)
	}
	path := writeFile(b, b.TempDir(), "hosts.csv", csv.String())
	for _, tc := range []struct{ name, extra string }{{"hit", ""}, {"ignore_case", ", ignore_case: true"}} {
		b.Run(tc.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, "{file: "+path+", field: host"+tc.extra+"}")
			r := rand.New(rand.NewPCG(1, 1))
			evs := benchEvents(4096, "host", func(int) string { return fmt.Sprintf("host-%06d.example.com", r.IntN(100_000)) })
			runBench(b, f, evs)
		})
	}
	b.Run("miss", func(b *testing.B) {
		f := fntest.Build(b, Spec, "{file: "+path+", field: host, tag_on_miss: [_lookup_miss]}")
		evs := benchEvents(4096, "host", func(i int) string { return fmt.Sprintf("other-%06d", i) })
		runBench(b, f, evs)
	})
}

func BenchmarkCIDR10k(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	var csv strings.Builder
	csv.WriteString("network,zone,owner\n")
	var v4, v6 []netip.Prefix
	for i := range 10_000 {
		var p netip.Prefix
		if i%5 == 4 {
			var a [16]byte
			a[0], a[1], a[2], a[3] = 0x20, 0x01, 0x0d, 0xb8
			for j := 4; j < 8; j++ {
				a[j] = byte(r.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(a), 32+r.IntN(33)).Masked()
			v6 = append(v6, p)
		} else {
			a := netip.AddrFrom4([4]byte{byte(r.IntN(224)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
			p = netip.PrefixFrom(a, 8+r.IntN(25)).Masked()
			v4 = append(v4, p)
		}
		fmt.Fprintf(&csv, "%s,zone-%d,team-%d\n", p, i%13, i%31)
	}
	path := writeFile(b, b.TempDir(), "networks.csv", csv.String())
	f := fntest.Build(b, Spec, "{file: "+path+", match: cidr, field: source.ip}")
	// Addresses inside random prefixes (hits, often nested in shorter
	// ones), plus a share of random IPv4 addresses (mostly misses).
	inside := func(p netip.Prefix) string {
		a := p.Addr().As16()
		if p.Addr().Is4() {
			a4 := p.Addr().As4()
			for j := p.Bits() / 8; j < 4; j++ {
				a4[j] |= byte(r.IntN(256)) & (0xff >> max(0, p.Bits()-8*j))
			}
			return netip.AddrFrom4(a4).String()
		}
		for j := p.Bits() / 8; j < 16; j++ {
			a[j] |= byte(r.IntN(256)) & (0xff >> max(0, p.Bits()-8*j))
		}
		return netip.AddrFrom16(a).String()
	}
	evs := benchEvents(4096, "source.ip", func(i int) string {
		switch i % 10 {
		case 0:
			return netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String()
		case 1, 2:
			return inside(v6[r.IntN(len(v6))])
		default:
			return inside(v4[r.IntN(len(v4))])
		}
	})
	runBench(b, f, evs)
}

func BenchmarkWildcard1k(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("pattern,role\n")
	for i := range 1000 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&csv, "web-%03d-*.example.com,web-%d\n", i, i)
		case 1:
			fmt.Fprintf(&csv, "*.svc%d.cluster.local,svc-%d\n", i, i)
		case 2:
			fmt.Fprintf(&csv, "db-??-%d.*,db-%d\n", i, i)
		default:
			fmt.Fprintf(&csv, "host-%d.example.com,exact-%d\n", i, i)
		}
	}
	csv.WriteString("*,other\n")
	path := writeFile(b, b.TempDir(), "patterns.csv", csv.String())
	f := fntest.Build(b, Spec, "{file: "+path+", match: wildcard, field: host}")
	r := rand.New(rand.NewPCG(3, 3))
	evs := benchEvents(4096, "host", func(i int) string {
		n := r.IntN(1000)
		switch i % 5 {
		case 0:
			return fmt.Sprintf("web-%03d-%d.example.com", n, i)
		case 1:
			return fmt.Sprintf("api-%d.svc%d.cluster.local", i, n)
		case 2:
			return fmt.Sprintf("db-%02d-%d.paris", i%100, n)
		case 3:
			return fmt.Sprintf("host-%d.example.com", n)
		default:
			return fmt.Sprintf("unrelated-%d.example.org", i)
		}
	})
	runBench(b, f, evs)
}

func BenchmarkRegex100(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("pattern,category\n")
	for i := range 100 {
		fmt.Fprintf(&csv, "^/api/v%d/[a-z]+/%d,cat-%d\n", i%5, i, i)
	}
	path := writeFile(b, b.TempDir(), "paths.csv", csv.String())
	f := fntest.Build(b, Spec, "{file: "+path+", match: regex, field: url.path}")
	evs := benchEvents(4096, "url.path", func(i int) string { return fmt.Sprintf("/api/v%d/users/%d", i%5, i%200) })
	runBench(b, f, evs)
}

// BenchmarkLoad100k is the cost of a (re)load of a 100k-row CSV table.
func BenchmarkLoad100k(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("host,owner,env,tier\n")
	for i := range 100_000 {
		fmt.Fprintf(&csv, "host-%06d.example.com,team-%d,prod,%d\n", i, i%97, i%3)
	}
	path := writeFile(b, b.TempDir(), "hosts.csv", csv.String())
	c := Spec.NewConfig().(*Config)
	c.File = filepath.Clean(path)
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(csv.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.load(); err != nil {
			b.Fatal(err)
		}
	}
}
