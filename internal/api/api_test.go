package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/internal/component/componenttest"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEndpoints(t *testing.T) {
	var ready atomic.Bool
	m := metrics.New()
	m.Source("syslog").EventsIn.Add(3)
	s, err := Start(Options{Address: "127.0.0.1:0", Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: ready.Load, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	base := "http://" + s.Addr().String()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/health"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("health: %d %s", code, body)
	}
	if code, _ := get("/api/v1/ready"); code != 503 {
		t.Errorf("ready before config: %d", code)
	}
	ready.Store(true)
	if code, _ := get("/api/v1/ready"); code != 200 {
		t.Errorf("ready: %d", code)
	}
	code, body := get("/api/v1/version")
	var v map[string]string
	if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v["version"] != "v1" {
		t.Errorf("version: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, `sluice_source_events_in_total{source="syslog"} 3`) {
		t.Errorf("metrics: %d", code)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Errorf("unknown path: %d", code)
	}
	s.Stop(context.Background()) // twice is safe
}

func TestTLS(t *testing.T) {
	c := componenttest.SelfSigned(t)
	cert, key := c.CertFile, c.KeyFile
	s, err := Start(Options{Address: "127.0.0.1:0", Metrics: metrics.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TLSCertFile: cert, TLSKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed test cert
	resp, err := client.Get("https://" + s.Addr().String() + "/api/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("https health: %d", resp.StatusCode)
	}
	if _, err := Start(Options{Address: "127.0.0.1:0", Metrics: metrics.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TLSCertFile: "nope", TLSKeyFile: key}); err == nil || !strings.Contains(err.Error(), "api tls") {
		t.Fatalf("bad cert file: %v", err)
	}
}
