// Package dirlock keeps two owners (the disk queue, the store; in one
// process or two) off one data directory with an exclusive flock on a lock
// file. The kernel drops the lock when the process dies, so a crash never
// leaves a directory locked. A flock belongs to one open file description,
// so it also keeps two owners in one process apart.
package dirlock

import "errors"

// ErrInUse means another owner holds the lock.
var ErrInUse = errors.New("directory is in use")
