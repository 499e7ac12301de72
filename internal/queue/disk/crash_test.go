package disk

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

const (
	crashChildEnv      = "SLUICE_DISKQ_CRASH_DIR"
	crashChildStartEnv = "SLUICE_DISKQ_CRASH_START"
)

// TestCrashChild is the process TestKillDuringWrites kills: it pushes
// batches as fast as it can and consumes some, printing "acked ID" when a
// push is acknowledged and "consumed ID" before acknowledging a popped
// batch. Each line is one write(2) to a pipe, so it is either whole in the
// parent or absent.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("helper process for TestKillDuringWrites")
	}
	start, _ := strconv.Atoi(os.Getenv(crashChildStartEnv))
	opts := Options{
		FsyncInterval: 5 * time.Millisecond,
		FsyncEvery:    rand.IntN(3) * 10,
		SegmentBytes:  32 << 10,
		MaxEvents:     20000,
		Logger:        slog.New(slog.DiscardHandler),
	}
	if rand.IntN(2) == 0 {
		opts.Compression = "zstd"
	}
	q, err := Open(dir, opts)
	if err != nil {
		fmt.Printf("open-error %v\n", err)
		os.Exit(2)
	}
	c := q.Counters()
	fmt.Printf("opened %d %d %d\n", c.CheckpointResets, c.CorruptRecords, c.MissingSegments)
	var mu sync.Mutex
	var late []*event.Batch
	go func() {
		for {
			b, err := q.Pop(context.Background())
			if err != nil {
				return
			}
			id := batchID(t, b)
			fmt.Printf("consumed %d\n", id)
			if rand.IntN(4) == 0 {
				// Answer later and out of order.
				mu.Lock()
				late = append(late, b)
				if len(late) > 8 {
					i := rand.IntN(len(late))
					late[i].Ack(event.Delivered)
					late = append(late[:i], late[i+1:]...)
				}
				mu.Unlock()
				continue
			}
			b.Ack(event.Delivered)
		}
	}()
	for id := start; ; id++ {
		b := event.NewBatch("crash")
		for i := range 1 + id%9 {
			ev := event.NewSized(time.Now(), 4)
			ev.AppendField(event.MessageField, event.String(strings.Repeat("m", 150)))
			ev.AppendField("batch", event.Int(int64(id)))
			ev.AppendField("i", event.Int(int64(i)))
			ev.AppendField("_source", event.String("test"))
			b.Events = append(b.Events, ev)
		}
		b.AddAcker(event.NewAcker(func(s event.Status) {
			if s == event.Delivered {
				fmt.Printf("acked %d\n", id)
			}
		}))
		if err := q.Push(context.Background(), b); err != nil {
			fmt.Printf("push-error %v\n", err)
			os.Exit(2)
		}
	}
}

// TestKillDuringWrites kills a writing process at random moments (SIGKILL,
// so nothing is flushed or closed) and checks after each restart that the
// queue opens cleanly and that every batch whose push was acknowledged is
// either still queued or was handed to the consumer.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := make(map[int]bool)
	consumed := make(map[int]bool)
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashChildStartEnv+"="+strconv.Itoa(round*10_000_000))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []string)
		go func() {
			var got []string
			s := bufio.NewScanner(out)
			for s.Scan() {
				got = append(got, s.Text())
			}
			lines <- got
		}()
		time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		got := <-lines
		cmd.Wait()
		opened := false
		for _, l := range got {
			f := strings.Fields(l)
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "acked":
				id, _ := strconv.Atoi(f[1])
				acked[id] = true
			case "consumed":
				id, _ := strconv.Atoi(f[1])
				consumed[id] = true
			case "opened":
				opened = true
				if l != "opened 0 0 0" {
					t.Errorf("round %d: recovery found problems (resets, corrupt, missing): %s", round, l)
				}
			case "open-error", "push-error":
				t.Fatalf("round %d: child: %s", round, l)
			}
		}
		if !opened {
			t.Fatalf("round %d: child did not open the queue; output: %q", round, got)
		}
	}
	q := mustOpen(t, dir, testOptions())
	if c := q.Counters(); c.CorruptRecords != 0 || c.CheckpointResets != 0 || c.MissingSegments != 0 {
		t.Errorf("final recovery: %+v", c)
	}
	queued := make(map[int]bool)
	for _, id := range drainClosed(t, q) {
		queued[id] = true
	}
	lost := 0
	for id := range acked {
		if !queued[id] && !consumed[id] {
			lost++
			if lost < 10 {
				t.Errorf("batch %d was acknowledged to its sender but is gone", id)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d acknowledged batches lost", lost)
	}
	t.Logf("%d batches acknowledged over 5 kills, %d consumed, %d found queued after the last", len(acked), len(consumed), len(queued))
	if len(acked) == 0 {
		t.Fatal("no push was acknowledged: the test proved nothing")
	}
}
