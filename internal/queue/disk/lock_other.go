//go:build !unix

package disk

import (
	"errors"
	"os"
	"time"
)

var errInUse = errors.New("queue directory is in use by another queue")

// lockDir does not lock where flock is missing: run one queue per directory.
func lockDir(dir string, wait time.Duration) (*os.File, error) { return nil, nil }

func unlockDir(f *os.File) {}
