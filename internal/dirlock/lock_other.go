//go:build !unix

package dirlock

import (
	"os"
	"path/filepath"
	"time"
)

// Lock only creates the lock file where flock is missing: run one owner
// per directory.
func Lock(dir, name string, _ time.Duration) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
}

// Unlock closes the lock file; nil does nothing.
func Unlock(f *os.File) {
	if f != nil {
		f.Close()
	}
}
