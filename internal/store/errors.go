package store

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrClosed is returned by every method of a closed Store.
	ErrClosed = errors.New("store: closed")
	// ErrInvalidIndexName is wrapped by the errors for index names that
	// break the naming rules (see ValidateIndexName).
	ErrInvalidIndexName = errors.New("store: invalid index name")
	// ErrIndexExists is returned by CreateIndex for an existing index.
	ErrIndexExists = errors.New("store: index already exists")
	// ErrIndexNotFound is returned for operations on a missing index.
	ErrIndexNotFound = errors.New("store: no such index")
	// ErrBadID is returned for an event ID or cursor that does not parse.
	ErrBadID = errors.New("store: malformed event id or cursor")
	// ErrNotFound is returned by Get and Surrounding when the event of an
	// ID is no longer stored (retention removed it, or the index is gone).
	ErrNotFound = errors.New("store: event not found")
	// ErrDiskFull is wrapped by *DiskFullError, which Write returns while
	// the disk holding the store is above its high watermark. It is
	// retryable: writes resume by themselves once usage falls below the
	// low watermark. The HTTP layer answers 429 (or 507); the pipeline's
	// queue backs up behind it.
	ErrDiskFull = errors.New("store: disk full")

	// The reasons an event is rejected (see RejectedError). They are
	// permanent: sending the same event again fails the same way.
	ErrEmptyFieldName    = errors.New("empty field name")
	ErrFieldNameTooLong  = errors.New("field name too long")
	ErrTooManyFields     = errors.New("too many fields")
	ErrEventTooLarge     = errors.New("event too large")
	ErrTimestampRange    = errors.New("timestamp out of range")
	ErrOlderThanRetained = errors.New("event older than the retention period")
)

// DiskFullError reports that the disk holding the store is above the high
// watermark. It wraps ErrDiskFull.
type DiskFullError struct {
	Path          string
	UsedPercent   float64
	HighWatermark float64
	LowWatermark  float64
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("store: disk holding %s is %.1f%% full, above the high watermark of %.0f%%: "+
		"writes are refused until usage falls below %.0f%% (free disk space, or lower the indices' retention max_size/max_age)",
		e.Path, e.UsedPercent, e.HighWatermark*100, e.LowWatermark*100)
}

// Unwrap makes errors.Is(err, ErrDiskFull) true.
func (e *DiskFullError) Unwrap() error { return ErrDiskFull }

// Rejection is one event that Write did not store, and why.
type Rejection struct {
	// Event is the event's position in the slice given to Write.
	Event int
	// Err says why; it wraps one of the ErrXxx reasons above
	// (ErrFieldNameTooLong, ErrTooManyFields, ...).
	Err error
}

// RejectedError is returned by Write when some events broke the limits:
// every other event of the call was stored (durably) as usual. The
// rejections are permanent (retrying the same event fails the same way);
// the Elasticsearch _bulk layer answers them per item.
type RejectedError struct {
	// Rejected lists the rejected events in ascending order of position.
	Rejected []Rejection
	// Stored is the number of events of the call that were stored.
	Stored int
}

func (e *RejectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: %d of %d events rejected", len(e.Rejected), len(e.Rejected)+e.Stored)
	for i, r := range e.Rejected {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Rejected)-i)
			break
		}
		fmt.Fprintf(&b, "; event %d: %v", r.Event, r.Err)
	}
	return b.String()
}

// CorruptError describes damaged data found in a part: a checksum that does
// not match, or bytes that do not decode. The part (or only the block) is
// skipped and the problem logged and counted; it never stops the store.
type CorruptError struct {
	Path   string
	Detail string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("store: corrupt data in %s: %s", e.Path, e.Detail)
}

func corruptf(path, format string, args ...any) error {
	return &CorruptError{Path: path, Detail: fmt.Sprintf(format, args...)}
}
