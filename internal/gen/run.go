package gen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load-generation run; the flags of `sluice gen` fill it.
type Config struct {
	// Format is a generator name (see Formats).
	Format string
	// To is where to send: tcp://host:port, udp://host:port or
	// http(s)://host:port/path.
	To string
	// Rate is the total events per second over all connections; 0 sends as
	// fast as the target takes them.
	Rate float64
	// Count stops the run after this many events (0: no limit).
	Count uint64
	// Duration stops the run after this long (0: no limit). At least one of
	// Count and Duration must be set.
	Duration time.Duration
	// Connections is the number of parallel TCP connections, UDP sockets or
	// HTTP clients (default 1).
	Connections int
	// Batch is the number of lines per HTTP request, per rate-limiter step
	// and per generation step (default 500 for HTTP, 100 for TCP, 1 for UDP;
	// with a Rate, lowered so that a batch is at most 10ms of traffic).
	Batch int
	// OctetCounting frames TCP lines as "LEN SP LINE" (RFC 6587) instead of
	// ending them with a newline.
	OctetCounting bool
	// RunID prefixes the line ids (default: 8 random hex digits).
	RunID string
	// Size is the raw format's line length.
	Size int
	// Seed selects the content.
	Seed uint64
}

const (
	tcpFlushSize = 256 << 10
	// sendGrace is how long in-flight writes and requests may finish after
	// the duration is over. Ctrl-C (the parent context) aborts them at once.
	sendGrace       = 10 * time.Second
	dialTimeout     = 5 * time.Second
	maxDialAttempts = 10
	httpTimeout     = 30 * time.Second
	maxRetries      = 100
)

func (c *Config) setDefaults(scheme string) {
	if c.Connections <= 0 {
		c.Connections = 1
	}
	if c.RunID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.RunID = hex.EncodeToString(b[:])
	}
	if c.Batch <= 0 {
		switch scheme {
		case "udp":
			c.Batch = 1
		case "tcp":
			c.Batch = 100
		default:
			c.Batch = 500
		}
		if c.Rate > 0 {
			// Keep each connection's steps at most 10ms apart.
			c.Batch = max(1, min(c.Batch, int(c.Rate/100/float64(c.Connections))))
		}
	}
}

func parseTarget(to string) (*url.URL, error) {
	if to == "" {
		return nil, errors.New("--to is required (tcp://host:port, udp://host:port or http://host:port/path)")
	}
	u, err := url.Parse(to)
	if err != nil {
		return nil, fmt.Errorf("cannot parse --to %q: %w", to, err)
	}
	switch u.Scheme {
	case "tcp", "udp", "http", "https":
	default:
		return nil, fmt.Errorf("--to %q: scheme must be tcp, udp, http or https", to)
	}
	if u.Host == "" || (u.Scheme == "tcp" || u.Scheme == "udp") && u.Port() == "" {
		return nil, fmt.Errorf("--to %q: a host and a port are required", to)
	}
	return u, nil
}

// Run sends load as c says and reports what was sent. It returns when the
// count is reached, the duration is over or ctx is done; in every case the
// report covers what was sent until then. The error is set when the run
// could not start (bad config, first connection refused) or a connection
// gave up reconnecting; the report is still valid then.
func Run(ctx context.Context, c Config) (Report, error) {
	u, err := parseTarget(c.To)
	if err != nil {
		return Report{}, err
	}
	if c.Count == 0 && c.Duration <= 0 {
		return Report{}, errors.New("set --count or --duration (or both)")
	}
	if c.Rate < 0 {
		return Report{}, errors.New("--rate must not be negative")
	}
	c.setDefaults(u.Scheme)
	g, err := NewGenerator(c.Format, Options{RunID: c.RunID, Seed: c.Seed, Size: c.Size})
	if err != nil {
		return Report{}, err
	}

	r := &runner{cfg: c, gen: g, lim: newLimiter(c.Rate), target: u}
	// Dial TCP first so that a wrong address fails fast and the clock only
	// covers sending.
	conns := make([]net.Conn, c.Connections)
	if u.Scheme == "tcp" || u.Scheme == "udp" {
		for i := range conns {
			conn, err := net.DialTimeout(u.Scheme, u.Host, dialTimeout)
			if err != nil {
				for _, c := range conns[:i] {
					c.Close()
				}
				return Report{}, fmt.Errorf("cannot connect to %s: %w", c.To, err)
			}
			conns[i] = conn
		}
	}

	var cancelGen context.CancelFunc
	if c.Duration > 0 {
		r.genCtx, cancelGen = context.WithTimeout(ctx, c.Duration)
	} else {
		r.genCtx, cancelGen = context.WithCancel(ctx)
	}
	defer cancelGen()
	var cancelSend context.CancelFunc
	r.sendCtx, cancelSend = context.WithCancel(ctx)
	graceDone := make(chan struct{})
	go func() {
		defer close(graceDone)
		select {
		case <-r.genCtx.Done():
			t := time.NewTimer(sendGrace)
			defer t.Stop()
			select {
			case <-t.C:
				cancelSend()
			case <-r.sendCtx.Done():
			}
		case <-r.sendCtx.Done():
		}
	}()
	defer func() { cancelSend(); <-graceDone }()

	var client *http.Client
	if u.Scheme == "http" || u.Scheme == "https" {
		tr := &http.Transport{
			Proxy:               nil, // load goes where --to says, never through a proxy
			MaxIdleConnsPerHost: c.Connections,
			MaxConnsPerHost:     c.Connections,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
			DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr, Timeout: httpTimeout}
	}

	tallies := make([]tally, c.Connections)
	errs := make([]error, c.Connections)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range c.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch u.Scheme {
			case "tcp":
				errs[i] = r.runTCP(conns[i], &tallies[i])
			case "udp":
				errs[i] = r.runUDP(conns[i], &tallies[i])
			default:
				errs[i] = r.runHTTP(client, &tallies[i])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var total tally
	for i := range tallies {
		total.merge(&tallies[i])
	}
	rep := total.report(c.RunID, elapsed)
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	if total.errors > 0 && total.lastErr != nil {
		return rep, &SendErrors{N: total.errors, Last: total.lastErr}
	}
	return rep, nil
}

// SendErrors reports that some writes or requests failed during a run that
// otherwise went on; the report counts them.
type SendErrors struct {
	N    uint64 // failed writes, connects and requests
	Last error  // the last of them
}

// Error summarizes the failures.
func (e *SendErrors) Error() string {
	return fmt.Sprintf("%d send errors, the last: %v", e.N, e.Last)
}

// Unwrap returns the last failure.
func (e *SendErrors) Unwrap() error { return e.Last }

// runner holds what the connections of one run share.
type runner struct {
	cfg    Config
	gen    Generator
	lim    *limiter
	target *url.URL
	seq    atomic.Uint64 // sequence numbers handed out so far
	// genCtx ends generation (duration over, Ctrl-C); sendCtx aborts
	// in-flight sends (Ctrl-C, or sendGrace after genCtx).
	genCtx, sendCtx context.Context
}

// take hands out up to n sequence numbers, starting at 1. It returns n == 0
// when the count is reached.
func (r *runner) take(n int) (first uint64, got int) {
	first = r.seq.Add(uint64(n)) - uint64(n) + 1
	if r.cfg.Count > 0 {
		if first > r.cfg.Count {
			return 0, 0
		}
		n = int(min(uint64(n), r.cfg.Count-first+1))
	}
	return first, n
}

// next returns the next batch to send, after waiting for the rate limiter.
// idle is called before a wait (TCP flushes then). n == 0 means stop.
func (r *runner) next(idle func()) (first uint64, n int) {
	if r.genCtx.Err() != nil {
		return 0, 0
	}
	first, n = r.take(r.cfg.Batch)
	if n == 0 {
		return 0, 0
	}
	if d := r.lim.reserve(n, time.Now()); d > 0 {
		if idle != nil {
			idle()
		}
		if !sleepCtx(r.genCtx, d) {
			return 0, 0
		}
	}
	return first, n
}

// sleepCtx sleeps for d; it returns false when ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *runner) contentType() string {
	if IsJSON(r.cfg.Format) {
		return "application/x-ndjson"
	}
	return "text/plain; charset=utf-8"
}

// stopped reports whether an error is our own abort rather than the
// target's fault.
func (r *runner) stopped() bool { return r.sendCtx.Err() != nil }
