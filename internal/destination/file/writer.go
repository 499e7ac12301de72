package file

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// writer is one open output file. Its fields are guarded by sink.mu.
type writer struct {
	path string
	f    *os.File
	// size is the file's length, for size rotation.
	size int64
	// lastWrite is when the file was last written (its mtime when opened),
	// for interval rotation.
	lastWrite time.Time
	// lastUse is when a batch last wrote to it, for the idle timeout, and
	// seq orders writers by use for LRU eviction.
	lastUse time.Time
	seq     uint64
}

const (
	fileMode = 0o644
	dirMode  = 0o755
)

// openWriter opens path for appending, creating it (and, with mkdir, its
// directory) when missing.
func openWriter(path string, mkdir bool) (*writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil && mkdir && errors.Is(err, fs.ErrNotExist) {
		if mkErr := os.MkdirAll(filepath.Dir(path), dirMode); mkErr != nil {
			return nil, classify(fmt.Errorf("create directory for %s: %w", path, mkErr))
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	}
	if err != nil {
		return nil, classify(fmt.Errorf("open %s: %w", path, err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, classify(fmt.Errorf("stat %s: %w", path, err))
	}
	return &writer{path: path, f: f, size: st.Size(), lastWrite: st.ModTime()}, nil
}

// write appends p in one write call. On a short write (disk full) it cuts
// the file back to where it was, so that a retry does not leave a torn line
// in the middle of the file.
func (w *writer) write(p []byte, now time.Time) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr == nil {
				n = 0
			}
		}
		w.size += int64(n)
		return n, classify(fmt.Errorf("write %s: %w", w.path, err))
	}
	w.size += int64(n)
	w.lastWrite = now
	return n, nil
}

// close closes the file, syncing it first when sync is set.
func (w *writer) close(sync bool) error {
	if w.f == nil {
		return nil
	}
	var err error
	if sync {
		if serr := w.f.Sync(); serr != nil && !errors.Is(serr, syscall.EINVAL) {
			// EINVAL: the file (a device such as /dev/null) cannot be synced.
			err = fmt.Errorf("sync %s: %w", w.path, serr)
		}
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", w.path, cerr)
	}
	w.f = nil
	return err
}

// rotate syncs and closes the file, shifts the rotated copies up by one
// (dropping those beyond keep), renames the file to its .1 name and opens a
// new, empty file.
func (w *writer) rotate(keep int, mkdir bool, now time.Time) error {
	if err := w.close(true); err != nil {
		return classify(fmt.Errorf("rotate: %w", err))
	}
	if err := shift(w.path, keep); err != nil {
		return classify(fmt.Errorf("rotate %s: %w", w.path, err))
	}
	nw, err := openWriter(w.path, mkdir)
	if err != nil {
		return err
	}
	w.f, w.size, w.lastWrite = nw.f, nw.size, now
	return nil
}

// shift renames path to its .1 name after moving .1 to .2 and so on. It only
// follows the contiguous run of existing copies, so it never renames over an
// existing file, even after an earlier rotation failed half way.
func shift(path string, keep int) error {
	n := 0
	for {
		if _, err := os.Lstat(rotatedName(path, n+1)); err != nil {
			break
		}
		n++
	}
	if keep > 0 {
		for ; n >= keep; n-- {
			if err := os.Remove(rotatedName(path, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	for i := n; i >= 1; i-- {
		if err := os.Rename(rotatedName(path, i), rotatedName(path, i+1)); err != nil {
			return err
		}
	}
	return os.Rename(path, rotatedName(path, 1))
}

// classify marks errors that no retry can fix as permanent (see
// permanentError): paths that event data made invalid, too long, or clash
// with a directory or a file where a directory should be. Everything else
// (permissions, a full disk, a missing mount) may be fixed by an operator
// and stays retryable, so the events wait in the queue meanwhile.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, errBadPath),
		errors.Is(err, syscall.ENAMETOOLONG),
		errors.Is(err, syscall.EISDIR),
		errors.Is(err, syscall.ENOTDIR):
		return &permanentError{err}
	}
	return err
}

// permanentError is a file error that retrying cannot fix; Write turns it
// into component.Permanent.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// cutLines returns the length of the longest prefix of p that ends in a
// newline and fits in room bytes, or 0 when even the first line does not fit.
func cutLines(p []byte, room int64) int {
	if room >= int64(len(p)) {
		return len(p)
	}
	if room <= 0 {
		return 0
	}
	return bytes.LastIndexByte(p[:room], '\n') + 1
}
