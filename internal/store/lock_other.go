//go:build !unix

package store

import (
	"errors"
	"os"
	"path/filepath"
	"time"
)

// Without flock, the lock file is only created: two stores on one
// directory are not prevented.
func lockDir(dir string, _ time.Duration) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
}

func unlockDir(f *os.File) {
	if f != nil {
		f.Close()
	}
}

func statfsUsage(string) (used, total uint64, err error) {
	return 0, 0, errors.New("disk usage is not measured on this platform")
}
