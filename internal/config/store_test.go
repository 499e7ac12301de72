package config

import (
	"os"
	"testing"
	"time"
)

func TestStoreSection(t *testing.T) {
	data, err := os.ReadFile("testdata/good_store.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(data, "good_store.yaml", testRegistry(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Store
	if len(s.Retention) != 2 || s.Retention[0].Indices != "logs-debug-*" || s.Retention[0].MaxAge.D() != 72*time.Hour ||
		s.Retention[1].MaxSize != 200<<30 {
		t.Errorf("retention %+v", s.Retention)
	}
	if s.Disk.HighWatermark != 0.9 || s.Disk.LowWatermark != 0.85 {
		t.Errorf("disk %+v", s.Disk)
	}
	// Unset limits keep their defaults.
	if s.Limits.MaxFields != 500 || s.Limits.MaxFieldNameBytes != 256 || s.Limits.MaxEventBytes != 1<<20 {
		t.Errorf("limits %+v", s.Limits)
	}
	if s.FlushInterval.D() != 2*time.Second {
		t.Errorf("flush interval %v", s.FlushInterval)
	}

	cfg, err = Parse([]byte("sources: {s: {type: syslog, address: \":5140\"}}\nroutes: [{destination: a}]\ndestinations: {a: {type: stdout}}\n"), "x.yaml", testRegistry(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Disk.HighWatermark != 0.95 || cfg.Store.FlushInterval.D() != time.Second || cfg.Store.Retention != nil {
		t.Errorf("defaults %+v", cfg.Store)
	}
}
