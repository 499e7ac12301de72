package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Store is the `store:` section: settings of the embedded log store run by
// `sluice server` and `sluice store`. Processes that run no store ignore it.
type Store struct {
	// Retention lists the retention rules; the first whose pattern
	// matches an index applies to it. Reloadable.
	Retention []RetentionRule `yaml:"retention"`
	// Disk holds the disk watermarks.
	Disk StoreDisk `yaml:"disk"`
	// Limits bound each stored event.
	Limits StoreLimits `yaml:"limits"`
	// FlushInterval is the group commit period: how long a write may wait
	// to be durable (and searchable).
	FlushInterval Duration `yaml:"flush_interval"`
	// Line is where the section starts, for messages.
	Line int `yaml:"-"`
}

// RetentionRule bounds the data kept for the indices its pattern matches.
type RetentionRule struct {
	// Indices is an index name or a pattern with '*'.
	Indices string `yaml:"indices"`
	// MaxAge drops day partitions that ended longer ago than this.
	MaxAge Duration `yaml:"max_age"`
	// MaxSize drops the oldest day partitions while the index is larger.
	MaxSize ByteSize `yaml:"max_size"`
}

// StoreDisk sets the disk watermarks: above High (a fraction of the
// disk's capacity, or a percentage) writes are refused with a retryable
// error, so queues hold the events and sources feel backpressure; below
// Low they are accepted again, by themselves.
type StoreDisk struct {
	HighWatermark Ratio `yaml:"high_watermark"`
	LowWatermark  Ratio `yaml:"low_watermark"`
}

// StoreLimits bound each event; an event over a limit is rejected alone,
// with a reason, and the others are stored.
type StoreLimits struct {
	MaxFields         int      `yaml:"max_fields"`
	MaxFieldNameBytes int      `yaml:"max_field_name_bytes"`
	MaxEventBytes     ByteSize `yaml:"max_event_bytes"`
}

// Ratio is a fraction written as 0.95 or 95%.
type Ratio float64

// UnmarshalYAML parses a ratio.
func (r *Ratio) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return fmt.Errorf("invalid ratio %q: write a fraction like 0.95 or a percentage like 95%%", n.Value)
	}
	if pct {
		f /= 100
	}
	*r = Ratio(f)
	return nil
}

func defaultStore() Store {
	return Store{
		Disk:          StoreDisk{HighWatermark: 0.95, LowWatermark: 0.90},
		Limits:        StoreLimits{MaxFields: 1000, MaxFieldNameBytes: 256, MaxEventBytes: 1 << 20},
		FlushInterval: Duration(1e9),
	}
}

// storeSection decodes and checks the store section.
func (l *loader) storeSection(n *yaml.Node, cfg *Config) {
	cfg.Store = defaultStore()
	if n == nil {
		return
	}
	cfg.Store.Line = n.Line
	if !l.decodeStrict(n, "store", &cfg.Store) {
		return
	}
	s := &cfg.Store
	retention := keyNode(n, "retention")
	for i, r := range s.Retention {
		at := fmt.Sprintf("store.retention[%d]", i)
		rn := retention
		if i < len(retention.Content) {
			rn = retention.Content[i]
		}
		switch {
		case r.Indices == "":
			l.errorf(rn, at+".indices", "is required: an index name or a pattern like logs-*")
		case r.MaxAge < 0:
			l.errorf(keyNode(rn, "max_age"), at+".max_age", "must not be negative")
		case r.MaxSize < 0:
			l.errorf(keyNode(rn, "max_size"), at+".max_size", "must not be negative")
		case r.MaxAge == 0 && r.MaxSize == 0:
			l.errorf(rn, at, "sets neither max_age nor max_size: the rule would keep everything")
		}
	}
	disk, limits := keyNode(n, "disk"), keyNode(n, "limits")
	hi, lo := float64(s.Disk.HighWatermark), float64(s.Disk.LowWatermark)
	switch {
	case hi <= 0 || hi > 1:
		l.errorf(keyNode(disk, "high_watermark"), "store.disk.high_watermark", "must be above 0 and at most 1 (or 100%%), got %g", hi)
	case lo <= 0 || lo > hi:
		l.errorf(keyNode(disk, "low_watermark"), "store.disk.low_watermark", "must be above 0 and at most high_watermark (%g), got %g", hi, lo)
	}
	if s.Limits.MaxFields <= 0 {
		l.errorf(keyNode(limits, "max_fields"), "store.limits.max_fields", "must be positive")
	}
	if s.Limits.MaxFieldNameBytes <= 0 {
		l.errorf(keyNode(limits, "max_field_name_bytes"), "store.limits.max_field_name_bytes", "must be positive")
	}
	if s.Limits.MaxEventBytes <= 0 || s.Limits.MaxEventBytes > 2<<20 {
		l.errorf(keyNode(limits, "max_event_bytes"), "store.limits.max_event_bytes", "must be between 1 and 2MiB, got %d", int64(s.Limits.MaxEventBytes))
	}
	if s.FlushInterval <= 0 {
		l.errorf(keyNode(n, "flush_interval"), "store.flush_interval", "must be positive")
	}
}
