package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/gen"
)

// The test binary doubles as a fake sluice when SLUICE_BENCH_FAKE=1, so
// that the harness can be run end to end before the real binary exists:
// `worker` counts the lines its source receives as delivered and serves
// health and metrics; `gen` is the real gen.Main.
func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_BENCH_FAKE") == "1" {
		os.Exit(fakeSluice(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeSluice(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == "gen" {
		return gen.Main(ctx, args[1:], os.Stdout, os.Stderr)
	}
	if len(args) == 0 || args[0] != "worker" {
		fmt.Fprintln(os.Stderr, "fake sluice: want worker or gen")
		return 2
	}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "")
	fs.String("data", "", "")
	api := fs.String("api-address", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	data, err := os.ReadFile(*cfgPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var cfg struct {
		Sources map[string]struct{ Type, Address string }
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	in := cfg.Sources["in"]
	var delivered atomic.Int64
	srcLn, err := net.Listen("tcp", in.Address)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch in.Type {
	case "http":
		go http.Serve(srcLn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			delivered.Add(int64(bytes.Count(body, []byte("\n"))))
		}))
	default:
		go func() {
			for {
				c, err := srcLn.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					br := bufio.NewReaderSize(c, 64<<10)
					for {
						if _, err := br.ReadSlice('\n'); err != nil && err != bufio.ErrBufferFull {
							return
						} else if err == nil {
							delivered.Add(1)
						}
					}
				}()
			}
		}()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE sluice_destination_events_out_total counter\nsluice_destination_events_out_total{destination=\"out\"} %d\n", delivered.Load())
	})
	apiLn, err := net.Listen("tcp", *api)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go http.Serve(apiLn, mux)
	<-ctx.Done()
	return 0
}

func TestScenariosAgainstFakeWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv("SLUICE_BENCH_FAKE", "1")
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child would sleep 1s at exit
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o := options{
		duration: 500 * time.Millisecond,
		rate:     20000,
		watch:    watchTiming{interval: 50 * time.Millisecond, quiet: 300 * time.Millisecond, maxDrain: 10 * time.Second},
		settle:   100 * time.Millisecond,
	}
	var log strings.Builder
	for _, name := range []string{"tcp_raw_blackhole", "http_ndjson_file", "idle"} {
		sc, _ := findScenario(name)
		r, err := runScenario(context.Background(), sc, bin, t.TempDir(), o, &log)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.PeakRSSMB <= 0 || r.IdleRSSMB <= 0 || r.PeakRSSMB < r.IdleRSSMB*0.99 || r.CPUSeconds < 0 {
			t.Errorf("%s: memory or CPU %+v", name, r)
		}
		if name == "idle" {
			if !math.IsNaN(r.EventsPerSec) {
				t.Errorf("idle has a rate: %+v", r)
			}
			continue
		}
		// gen sends 20000/s in lumps (1000-line requests for http), and a
		// half-second window seen through 50ms scrapes is coarse: only
		// check the order of magnitude.
		if r.EventsPerSec < 2000 || r.EventsPerSec > 200000 || r.MBPerSec <= 0 || math.IsNaN(r.CPUPerMEvents) {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if strings.Contains(log.String(), "delivered") {
		t.Errorf("fake worker lost events: %s", log.String())
	}
}

func TestRunPrintsTable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv("SLUICE_BENCH_FAKE", "1")
	t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race child would sleep 1s at exit
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-bin", bin, "-scenarios", "idle", "-runs", "2"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "| idle | - | - |") || !strings.Contains(out.String(), "(medians)") {
		t.Fatalf("table:\n%s", out.String())
	}
}
