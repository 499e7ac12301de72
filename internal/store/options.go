package store

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"
)

// Options configures a Store. The zero value of each field selects its
// default.
type Options struct {
	// FlushInterval is the group commit period: events written are
	// buffered per partition and flushed to a new part (and fsynced) every
	// FlushInterval, and Write returns once that is done (default 1s).
	FlushInterval time.Duration
	// FlushBytes flushes a partition's buffer before the interval once it
	// holds that many bytes of events (default 16 MiB).
	FlushBytes int64
	// MaxBufferedBytes bounds the events waiting for a flush, across
	// partitions: Append (and Write) block while more wait (default
	// 64 MiB).
	MaxBufferedBytes int64

	// Per-event limits; an event breaking one is rejected (see
	// RejectedError). Defaults: field names up to 256 bytes, 1000 fields,
	// 1 MiB per event (in Sluice's binary encoding, close to its JSON size).
	MaxFieldNameBytes int
	MaxFields         int
	MaxEventBytes     int

	// MergeWorkers bounds the background merges running at once (default
	// GOMAXPROCS/2, at least 1). DisableMerges turns merging off (tests).
	MergeWorkers  int
	DisableMerges bool

	// Retention lists the retention rules; the first whose pattern matches
	// an index applies to it. Indices without a rule are kept forever.
	Retention []RetentionRule
	// RetentionInterval is how often retention is applied (default 1m).
	RetentionInterval time.Duration

	// HighWatermark and LowWatermark are fractions of the disk's capacity
	// (defaults 0.95 and 0.90). Above the high watermark Write fails at
	// once with a *DiskFullError; it accepts again below the low one. A
	// HighWatermark above 1 disables the check.
	HighWatermark float64
	LowWatermark  float64
	// DiskCheckInterval is how often disk usage is measured (default 2s).
	DiskCheckInterval time.Duration
	// DiskUsage measures the file system holding path (default: statfs).
	// Tests replace it.
	DiskUsage func(path string) (used, total uint64, err error)

	// TailBuffer is the channel capacity of each Subscribe (default 1024).
	TailBuffer int

	// Logger gets recovery reports, corruption and I/O errors (default
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); for tests.
	Now func() time.Time
}

// RetentionRule bounds the data kept for the indices matching Indices (an
// exact name or a pattern with '*'). Whole day partitions are dropped,
// oldest first: those that ended more than MaxAge ago, then, while an
// index takes more than MaxSize bytes on disk, its oldest (the newest
// partition is always kept). Zero means no bound.
type RetentionRule struct {
	Indices string
	MaxAge  time.Duration
	MaxSize int64
}

func (o *Options) setDefaults() error {
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.FlushBytes <= 0 {
		o.FlushBytes = 16 << 20
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 64 << 20
	}
	if o.MaxFieldNameBytes <= 0 {
		o.MaxFieldNameBytes = 256
	}
	if o.MaxFields <= 0 {
		o.MaxFields = 1000
	}
	if o.MaxEventBytes <= 0 {
		o.MaxEventBytes = 1 << 20
	}
	if o.MaxEventBytes > maxBlockBytes {
		return fmt.Errorf("max event size %d is above the block size %d", o.MaxEventBytes, maxBlockBytes)
	}
	if o.MergeWorkers <= 0 {
		o.MergeWorkers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Minute
	}
	if o.HighWatermark == 0 {
		o.HighWatermark = 0.95
	}
	if o.LowWatermark == 0 {
		o.LowWatermark = 0.90
	}
	if o.HighWatermark < 0 || o.LowWatermark < 0 || o.LowWatermark > o.HighWatermark {
		return errors.New("disk watermarks must be fractions with low <= high")
	}
	if o.DiskCheckInterval <= 0 {
		o.DiskCheckInterval = 2 * time.Second
	}
	if o.DiskUsage == nil {
		o.DiskUsage = statfsUsage
	}
	if o.TailBuffer <= 0 {
		o.TailBuffer = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return validateRetention(o.Retention)
}

func validateRetention(rules []RetentionRule) error {
	for i, r := range rules {
		if r.Indices == "" || r.MaxAge < 0 || r.MaxSize < 0 {
			return fmt.Errorf("retention rule %d: needs an index pattern and non-negative max_age/max_size", i)
		}
	}
	return nil
}

// SetRetention replaces the retention rules (a configuration reload); the
// next retention pass applies them.
func (s *Store) SetRetention(rules []RetentionRule) error {
	if err := validateRetention(rules); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	rules = slices.Clone(rules)
	s.retention.Store(&rules)
	return nil
}

// retentionRules returns the current retention rules.
func (s *Store) retentionRules() []RetentionRule { return *s.retention.Load() }

// retentionFor returns the rule for index name, if any.
func (s *Store) retentionFor(name string) (RetentionRule, bool) {
	for _, r := range s.retentionRules() {
		if matchIndex([]string{r.Indices}, name) {
			return r, true
		}
	}
	return RetentionRule{}, false
}

// Options returns the options the store runs with, defaults applied.
func (s *Store) Options() Options { return s.opts }
