//go:build unix

package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// errInUse means another queue (in this process or another) has the
// directory open.
var errInUse = errors.New("queue directory is in use by another queue (another process, or a queue not yet closed)")

// lockDir takes an exclusive flock on dir/LOCK, retrying for up to wait. A
// flock belongs to one open file description, so it also keeps two queues
// of one process apart; the kernel drops it when the process dies, so a
// crash never leaves the directory locked.
func lockDir(dir string, wait time.Duration) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock: %w", err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, errInUse
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func unlockDir(f *os.File) {
	if f != nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}
