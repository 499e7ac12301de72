package gen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// tcpConn is one TCP connection with its write buffer. Lines are counted as
// sent when the buffer holding them is written to the socket; a failed write
// loses its buffer (the receiver may have part of it) and the next flush
// reconnects.
type tcpConn struct {
	r       *runner
	t       *tally
	conn    net.Conn
	stopFn  func() bool
	buf     []byte
	pending int
	lo, hi  uint64
	// fatal is set when reconnecting failed for good.
	fatal error
}

func (r *runner) runTCP(conn net.Conn, t *tally) error {
	c := &tcpConn{r: r, t: t, buf: make([]byte, 0, tcpFlushSize+64<<10)}
	c.attach(conn)
	defer c.close()
	var line []byte
	for {
		first, n := r.next(c.flush)
		if c.fatal != nil {
			return c.fatal
		}
		if n == 0 {
			break
		}
		now := time.Now()
		for seq := first; seq < first+uint64(n); seq++ {
			if r.cfg.OctetCounting {
				line = r.gen.Append(line[:0], seq, now)
				c.buf = strconv.AppendInt(c.buf, int64(len(line)), 10)
				c.buf = append(c.buf, ' ')
				c.buf = append(c.buf, line...)
			} else {
				c.buf = r.gen.Append(c.buf, seq, now)
				c.buf = append(c.buf, '\n')
			}
		}
		c.add(first, n)
		if len(c.buf) >= tcpFlushSize {
			c.flush()
			if c.fatal != nil {
				return c.fatal
			}
		}
	}
	if r.stopped() {
		return nil
	}
	c.flush()
	return c.fatal
}

func (c *tcpConn) add(first uint64, n int) {
	if c.pending == 0 || first < c.lo {
		c.lo = first
	}
	c.hi = max(c.hi, first+uint64(n)-1)
	c.pending += n
}

// attach makes conn current; Ctrl-C or the end of the grace period makes
// its blocked writes fail at once.
func (c *tcpConn) attach(conn net.Conn) {
	c.conn = conn
	c.stopFn = context.AfterFunc(c.r.sendCtx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}

func (c *tcpConn) close() {
	if c.conn != nil {
		c.stopFn()
		c.conn.Close()
		c.conn = nil
	}
}

// flush writes the buffer, reconnecting first if the last write failed.
// When reconnecting fails for good it sets c.fatal.
func (c *tcpConn) flush() {
	if len(c.buf) == 0 || c.fatal != nil {
		return
	}
	defer func() {
		c.buf = c.buf[:0]
		c.pending, c.lo, c.hi = 0, 0, 0
	}()
	if c.conn == nil {
		if c.fatal = c.redial(); c.conn == nil {
			return
		}
	}
	if _, err := c.conn.Write(c.buf); err != nil {
		if !c.r.stopped() {
			c.t.fail(fmt.Errorf("write to %s: %w", c.r.cfg.To, err))
		}
		c.close()
		return
	}
	c.t.sent(c.lo, c.hi, c.pending, len(c.buf))
}

// redial connects again with backoff, counting each failure.
func (c *tcpConn) redial() error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		d := net.Dialer{Timeout: dialTimeout}
		conn, err := d.DialContext(c.r.sendCtx, "tcp", c.r.target.Host)
		if err == nil {
			c.attach(conn)
			return nil
		}
		if c.r.stopped() {
			return nil // our own stop, not the target's fault
		}
		c.t.fail(fmt.Errorf("reconnect to %s: %w", c.r.cfg.To, err))
		if attempt == maxDialAttempts {
			return fmt.Errorf("cannot reconnect to %s after %d attempts: %w", c.r.cfg.To, attempt, err)
		}
		if !sleepCtx(c.r.sendCtx, backoff) {
			return nil
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// runUDP sends one datagram per line, without a line terminator.
func (r *runner) runUDP(conn net.Conn, t *tally) error {
	defer conn.Close()
	stop := context.AfterFunc(r.sendCtx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var line []byte
	for {
		first, n := r.next(nil)
		if n == 0 {
			return nil
		}
		now := time.Now()
		for seq := first; seq < first+uint64(n); seq++ {
			line = r.gen.Append(line[:0], seq, now)
			if _, err := conn.Write(line); err != nil {
				if r.stopped() {
					return nil
				}
				// ICMP port unreachable shows up here; pause so that a
				// missing listener does not turn into a busy loop.
				t.fail(fmt.Errorf("send to %s: %w", r.cfg.To, err))
				sleepCtx(r.genCtx, 10*time.Millisecond)
				continue
			}
			t.sent(seq, seq, 1, len(line))
		}
	}
}

// runHTTP posts batches of lines, NDJSON for the json format and plain text
// otherwise. A batch counts as sent when it is answered with a 2xx; 429 and
// 503 make it wait as Retry-After says and send the same body again.
func (r *runner) runHTTP(client *http.Client, t *tally) error {
	var body []byte
	url := r.target.String()
	ct := r.contentType()
	for {
		first, n := r.next(nil)
		if n == 0 {
			return nil
		}
		now := time.Now()
		body = body[:0]
		for seq := first; seq < first+uint64(n); seq++ {
			body = r.gen.Append(body, seq, now)
			body = append(body, '\n')
		}
		if r.post(client, url, ct, body, t) {
			t.sent(first, first+uint64(n)-1, n, len(body))
		}
	}
}

// post sends body until it is accepted, refused for good, or the run is
// stopped. It reports whether it was accepted.
func (r *runner) post(client *http.Client, url, ct string, body []byte, t *tally) bool {
	for retries := 0; ; retries++ {
		req, err := http.NewRequestWithContext(r.sendCtx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.fail(fmt.Errorf("make request: %w", err))
			return false
		}
		req.Header.Set("Content-Type", ct)
		resp, err := client.Do(req)
		if err != nil {
			if r.stopped() {
				return false
			}
			t.fail(fmt.Errorf("POST %s: %w", url, err))
			// A refused connection fails fast; do not spin on it.
			sleepCtx(r.sendCtx, 100*time.Millisecond)
			return false
		}
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return true
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			if retries == maxRetries {
				t.fail(fmt.Errorf("POST %s: still %s after %d retries", url, resp.Status, retries))
				return false
			}
			t.retries++
			if !sleepCtx(r.sendCtx, retryAfter(resp.Header.Get("Retry-After"), time.Now())) {
				return false
			}
		default:
			t.fail(fmt.Errorf("POST %s: %w", url, errors.New(resp.Status)))
			return false
		}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), with a
// one second default and a 30 second cap.
func retryAfter(h string, now time.Time) time.Duration {
	const floor, def, ceiling = 10 * time.Millisecond, time.Second, 30 * time.Second
	if h == "" {
		return def
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(h); err == nil {
		d = at.Sub(now)
	} else {
		return def
	}
	return min(max(d, floor), ceiling)
}
