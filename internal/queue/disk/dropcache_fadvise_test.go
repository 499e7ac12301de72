//go:build linux && (amd64 || arm64)

package disk

import (
	"os"
	"path/filepath"
	"syscall"
)

// dropFileCache evicts the queue's segment files (and only them) from the
// page cache, so a recovery can be timed cold without disturbing anything
// else on the machine.
func dropFileCache(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "[0-9]*"))
	if err != nil {
		return err
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		const fadvDontNeed = 4
		_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
		f.Close()
		if errno != 0 {
			return errno
		}
	}
	return nil
}
