//go:build unix

package store

import (
	"syscall"
)

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
