package http

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// StatusError is a response outside 2xx. The sink returns it as is for
// retryable statuses (408, 429, 5xx), wrapped in a RetryAfterError when the
// server said when to come back, and wrapped with component.Permanent for
// the others.
type StatusError struct {
	// Method and URL name the request; URL has no query or user info.
	Method string
	URL    string
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body (at most 512 bytes), with
	// configured secrets redacted.
	Body string
	// Hint, when set, tells the operator what to change.
	Hint string
}

// Error says what was sent where and what the server answered.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: server answered %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	if e.Body != "" {
		b.WriteString(": ")
		b.WriteString(e.Body)
	}
	return b.String()
}

// RetryAfterError is a retryable error for which the server said how long to
// wait (a Retry-After header on a 429 or 503). The runtime's retry loop
// finds it through the RetryAfter method and waits that long instead of its
// own backoff.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// Error returns the underlying error's text and the wait.
func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}

// Unwrap returns the underlying error.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns how long the server asked to wait.
func (e *RetryAfterError) RetryAfter() time.Duration { return e.After }

// maxRetryAfter caps the wait a server can ask for, so that a broken or
// hostile Retry-After cannot park a destination for hours.
const maxRetryAfter = 10 * time.Minute

// parseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// retryableStatus reports whether a status may succeed when sent again.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// maxErrorBody is how much of a response body goes into an error, and
// readErrorBody how much is read to find it (more, so that a secret that
// straddles the cut is still redacted).
const (
	maxErrorBody  = 512
	readErrorBody = 4 << 10
)

// redactor removes configured secrets from text that goes into errors, in
// case a server echoes request headers back in an error body.
type redactor struct{ secrets []string }

// minSecretLen keeps short header values ("1", "yes") from being blanked
// all over a message.
const minSecretLen = 4

func newRedactor(secrets ...string) *redactor {
	r := &redactor{}
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

func (r *redactor) redact(s string) string {
	for _, secret := range r.secrets {
		if strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// errorBody makes the start of a response body fit for an error message:
// no secrets, valid UTF-8, one line, at most maxErrorBody bytes.
func (r *redactor) errorBody(b []byte) string {
	s := r.redact(strings.ToValidUTF8(string(b), "\uFFFD"))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorBody {
		cut := maxErrorBody
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
