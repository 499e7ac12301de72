package store

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

const (
	crashChildEnv      = "SLUICE_STORE_CRASH_DIR"
	crashChildStartEnv = "SLUICE_STORE_CRASH_START"
)

// TestCrashChild is the process TestKillDuringWrites kills: four writers
// write batches of events with consecutive ids as fast as they can, and
// print "acked FIRST LAST" when a Write returns nil. Each line is one
// write(2) to a pipe, so it is either whole in the parent or absent.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("helper process for TestKillDuringWrites")
	}
	start, _ := strconv.Atoi(os.Getenv(crashChildStartEnv))
	s, err := Open(dir, Options{
		FlushInterval: time.Duration(1+rand.IntN(20)) * time.Millisecond,
		Logger:        slog.New(slog.DiscardHandler),
		HighWatermark: 2,
	})
	if err != nil {
		fmt.Printf("open-error %v\n", err)
		os.Exit(2)
	}
	c := s.Counters()
	fmt.Printf("opened %d %d %d %d\n", c.CorruptParts, c.MissingParts, c.BadPartLists, c.CorruptBlocks)
	var mu sync.Mutex
	next := start
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(start), uint64(w)))
			for {
				n := 1 + rng.IntN(200)
				mu.Lock()
				first := next
				next += n
				mu.Unlock()
				evs := make([]event.Event, n)
				for i := range evs {
					// Times spread over two days: two partitions.
					ts := time.Date(2024, 2, 1, 23, 59, 0, 0, time.UTC).Add(time.Duration(rng.IntN(120)) * time.Second)
					evs[i] = randEvent(rng, ts, first+i)
					evs[i].AppendField("id", event.Int(int64(first+i)))
				}
				index := []string{"crash-a", "crash-b"}[rng.IntN(2)]
				if err := s.Write(context.Background(), index, evs); err != nil {
					fmt.Printf("write-error %v\n", err)
					os.Exit(2)
				}
				fmt.Printf("acked %d %d\n", first, first+n-1)
			}
		}()
	}
	wg.Wait()
}

// TestKillDuringWrites kills a writing process at random moments (SIGKILL:
// nothing is flushed or closed; flushes, part renames, parts list updates
// and merges are cut short wherever they are) and checks after each
// restart that the store opens cleanly and that every event whose Write
// returned nil is there.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := make(map[int]bool)
	rounds := 6
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashChildStartEnv+"="+strconv.Itoa(round*100_000_000))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []string)
		opened := make(chan struct{})
		go func() {
			var got []string
			s := bufio.NewScanner(out)
			for s.Scan() {
				got = append(got, s.Text())
				if len(got) == 1 {
					close(opened)
				}
			}
			if len(got) == 0 {
				close(opened)
			}
			lines <- got
		}()
		// Kill at a random moment after the child has opened the store
		// (its start-up is slow under the race detector).
		select {
		case <-opened:
		case <-time.After(time.Minute):
		}
		time.Sleep(time.Duration(100+rand.IntN(700)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		cmd.Wait()
		ok := false
		for _, l := range got {
			f := strings.Fields(l)
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "acked":
				a, _ := strconv.Atoi(f[1])
				b, _ := strconv.Atoi(f[2])
				for id := a; id <= b; id++ {
					acked[id] = true
				}
			case "opened":
				ok = true
				if l != "opened 0 0 0 0" {
					t.Errorf("round %d: recovery found problems (corrupt, missing, bad lists, corrupt blocks): %s", round, l)
				}
			case "open-error", "write-error":
				t.Fatalf("round %d: child: %s", round, l)
			}
		}
		if !ok {
			t.Fatalf("round %d: child did not open the store; output: %q", round, got)
		}
	}
	// Without merges, so that no new temp directory appears while the
	// test looks for leftovers.
	opts := testOptions()
	opts.DisableMerges = true
	s := mustOpen(t, dir, opts)
	if c := s.Counters(); c.CorruptParts+c.MissingParts+c.BadPartLists != 0 {
		t.Errorf("final recovery: %+v", c)
	}
	present := make(map[int]bool)
	for _, h := range searchAll(t, s) {
		v, _ := h.Event.Lookup("id")
		present[int(v.Interface().(int64))] = true
	}
	lost := 0
	for id := range acked {
		if !present[id] {
			lost++
			if lost < 10 {
				t.Errorf("event %d was acknowledged but is gone", id)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged events lost", lost)
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged: the test proved nothing")
	}
	t.Logf("%d events acknowledged over %d kills, %d found after the last", len(acked), rounds, len(present))
	// Nothing is left behind: no temp directories, no unlisted parts.
	filepath.Walk(filepath.Join(dir, indicesDir), func(path string, info os.FileInfo, err error) error {
		if err == nil && (strings.HasPrefix(info.Name(), tmpPrefix) || info.Name() == partsTemp) {
			t.Errorf("left behind: %s", path)
		}
		return nil
	})
}
