// Package queue holds the per-destination queues that sit between routes and
// a destination, and absorb the difference in their speeds.
//
// Contract (shaped for the disk queue too): Push hands over a batch; for a
// memory queue the batch's acknowledgements travel with it and fire when the
// destination delivers it; a disk queue acknowledges the source once the
// batch is durable and gives Pop a batch with its own acknowledgement that
// advances the read checkpoint. Either way the consumer of Pop acks the
// batch it got exactly once.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// ErrClosed is returned by Push after Close.
var ErrClosed = errors.New("queue closed")

// Queue is a bounded FIFO of batches. Push and Pop may be called from many
// goroutines.
type Queue interface {
	// Push adds b. With when_full: block it waits for room until ctx is
	// done; it then returns ctx's error and the caller still owns b. With
	// drop_newest a full queue drops b (counting it) and returns nil.
	Push(ctx context.Context, b *event.Batch) error
	// Pop removes the oldest batch, waiting until there is one or ctx is
	// done. After Close it returns the remaining batches, then io.EOF.
	Pop(ctx context.Context) (*event.Batch, error)
	// TryPop removes the oldest batch if there is one whose event count is
	// at most maxEvents, without waiting.
	TryPop(maxEvents int) *event.Batch
	// Close stops Push; Pop drains what is left.
	Close()
	// Stats reports the queue's depth.
	Stats() Stats
}

// Stats is a queue's depth.
type Stats struct {
	Events int
	Bytes  int64
	// Oldest is when the oldest queued batch was pushed (zero when empty).
	Oldest time.Time
}
