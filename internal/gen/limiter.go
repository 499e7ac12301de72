package gen

import (
	"sync"
	"time"
)

// limiter is a token bucket shared by every connection of a run. Callers
// reserve a whole batch at once; the bucket answers how long to wait before
// sending it. Waits shorter than slack are skipped (the bucket then runs
// slightly ahead, never more than slack's worth of tokens), so even one-line
// batches do not sleep per line.
type limiter struct {
	rate  float64       // tokens per second; 0 means no limit
	burst time.Duration // credit kept for an idle bucket
	slack time.Duration

	mu   sync.Mutex
	next time.Time // when the bucket has paid for every reservation so far
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, burst: 10 * time.Millisecond, slack: 2 * time.Millisecond}
}

// reserve takes n tokens and returns how long the caller must wait before
// using them (0 to go at once).
func (l *limiter) reserve(n int, now time.Time) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if floor := now.Add(-l.burst); l.next.Before(floor) {
		l.next = floor
	}
	at := l.next
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	if d := at.Sub(now); d > l.slack {
		return d
	}
	return 0
}
