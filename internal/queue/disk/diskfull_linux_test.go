package disk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// TestDiskFull fills a 1 MiB tmpfs: Push must fail with a clear error
// (the caller keeps its batch), nothing on disk may be damaged, and Push
// must work again by itself once acknowledged records free space.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (%v); run the tests as root (CAP_SYS_ADMIN) to cover a full disk", err)
	}
	defer syscall.Unmount(mnt, syscall.MNT_DETACH)
	dir := filepath.Join(mnt, "q")
	opts, logs := loggedOptions()
	opts.SegmentBytes = 64 << 10
	opts.FsyncInterval = 5 * time.Millisecond
	q := mustOpen(t, dir, opts)
	a := newAcks()
	var pushed []int
	var pushErr error
	for id := 0; id < 10000; id++ {
		b := a.batch(id, 10)
		if pushErr = q.Push(context.Background(), b); pushErr != nil {
			if len(b.Events) != 10 || !b.HasAcks() {
				t.Fatal("a failed push must leave the batch to its caller")
			}
			b.Ack(event.Errored)
			b.Release()
			break
		}
		pushed = append(pushed, id)
	}
	if pushErr == nil {
		t.Fatal("1 MiB tmpfs never filled")
	}
	if !errors.Is(pushErr, syscall.ENOSPC) || !strings.Contains(pushErr.Error(), "no space left on device") {
		t.Fatalf("push error is not clear about the cause: %v", pushErr)
	}
	t.Logf("full after %d batches: %v", len(pushed), pushErr)
	if !strings.Contains(logs.String(), "free space") {
		t.Fatalf("operator not told the fix: %s", logs)
	}
	// Still full: still a clean error, and the queue is not damaged.
	if err := q.Push(context.Background(), newAcks().batch(-1, 10)); err == nil {
		t.Fatal("push into a full disk succeeded")
	}
	if r, err := Inspect(dir); err != nil || !r.Healthy() || r.Records != len(pushed) {
		t.Fatalf("inspect of a full queue: %v %+v", err, r)
	}
	q.Sync()
	for _, id := range pushed {
		if s, ok := a.get(id); !ok || s != event.Delivered {
			t.Fatalf("batch %d written but acknowledged %v %v", id, s, ok)
		}
	}

	// Consume half: the segments they filled are deleted and pushes resume.
	half := len(pushed) / 2
	ids, _ := popN(t, q, half, event.Delivered, false)
	if !slices.Equal(ids, pushed[:half]) {
		t.Fatalf("popped %v", ids)
	}
	next := 10000
	waitFor(t, "push to work again", func() bool {
		b := newAcks().batch(next, 10)
		if err := q.Push(context.Background(), b); err != nil {
			b.Release()
			return false
		}
		pushed = append(pushed, next)
		return true
	})
	q.Close()

	q = mustOpen(t, dir, testOptions())
	if c := q.Counters(); c.CorruptRecords != 0 || c.TornBytes != 0 {
		t.Fatalf("recovery after a full disk: %+v", c)
	}
	if got := drainClosed(t, q); !slices.Equal(got, pushed[half:]) {
		t.Fatalf("after reopen got %v, want %v", got, pushed[half:])
	}
	// Nothing was left behind by the failed writes.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), corruptSuffix) {
			t.Errorf("left over: %s", e.Name())
		}
	}
}
