package disk

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sluicehq/sluice/internal/dirlock"
)

// errInUse means another owner (in this process or another) has the
// directory open.
var errInUse = errors.New("queue directory is in use by another queue (another process, or a queue not yet closed)")

// lockDir takes the directory's lock (see internal/dirlock), retrying for
// up to wait.
func lockDir(dir string, wait time.Duration) (*os.File, error) {
	f, err := dirlock.Lock(dir, lockName, wait)
	if errors.Is(err, dirlock.ErrInUse) {
		return nil, errInUse
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return f, nil
}

func unlockDir(f *os.File) { dirlock.Unlock(f) }
