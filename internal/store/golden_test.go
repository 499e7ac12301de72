package store

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGoldenFormat writes a small fixed input and compares every file of
// the store (hex) and its decoded dump with testdata/format.golden. A
// change here is a format change: bump the versions and say so in
// FORMAT.md. Regenerate with go test -run TestGoldenFormat -update.
func TestGoldenFormat(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions()
	opts.DisableMerges = true
	s := mustOpen(t, dir, opts)
	base := time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC)
	var evs []event.Event
	for i, m := range []string{"GET /index.html 200", "GET /missing 404", "POST /login 200", "GET /index.html 200"} {
		ev := event.New(base.Add(time.Duration(3-i)*time.Second), m)
		ev.AppendField("service", event.String("web"))
		ev.AppendField("status", event.Int(int64([]int{200, 404, 200, 200}[i])))
		if i%2 == 1 {
			ev.AppendField("user.id", event.String(fmt.Sprint("u", i)))
		}
		if i == 2 {
			ev.AppendField("tags", event.Any([]any{"auth", int64(1)}))
			ev.AppendField("ok", event.Bool(true))
			ev.AppendField("took", event.Float(1.5))
		}
		evs = append(evs, ev)
	}
	mustWrite(t, s, "golden", evs)
	s.Close()

	var out bytes.Buffer
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == lockName {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, _ := os.ReadFile(path)
		fmt.Fprintf(&out, "== %s (%d bytes)\n%s", filepath.ToSlash(rel), len(b), hex.Dump(b))
		return nil
	})
	out.WriteString("== dump\n")
	if err := Dump(&out, dir); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "format.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("on-disk format differs from %s (run with -update if the change is intended):\n%s", golden, out.String())
	}
}
