//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// errInUse means another Store (in this process or another) has the
// directory open.
var errInUse = errors.New("store directory is in use by another store (another process, or one not yet closed)")

// lockDir takes an exclusive flock on dir/LOCK, retrying for up to wait.
// The kernel drops it when the process dies, so a crash never leaves the
// directory locked.
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

// statfsUsage measures the file system holding path: used is what is not
// available to unprivileged users (as df reports it).
func statfsUsage(path string) (used, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	total = st.Blocks * uint64(st.Bsize)
	avail := st.Bavail * uint64(st.Bsize)
	if avail > total {
		avail = total
	}
	return total - avail, total, nil
}
