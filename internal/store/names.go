package store

import (
	"fmt"
	"strings"
	"time"
)

// maxIndexNameBytes is Elasticsearch's limit, and also the longest file
// name most file systems accept: an index is a directory named after it.
const maxIndexNameBytes = 255

// ValidateIndexName reports whether name is a valid index name, with
// Elasticsearch's rules: lowercase; none of \ / * ? " < > | , # : space or a
// control character; not starting with -, _ or +; not "." or ".."; at most
// 255 bytes. The error wraps ErrInvalidIndexName.
func ValidateIndexName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidIndexName, name, why)
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case len(name) > maxIndexNameBytes:
		return bad(fmt.Sprintf("is %d bytes long, more than %d", len(name), maxIndexNameBytes))
	case name == "." || name == "..":
		return bad(`must not be "." or ".."`)
	case strings.IndexByte("-_+", name[0]) >= 0:
		return bad("must not start with '-', '_' or '+'")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f {
			return bad("must not contain control characters")
		}
		if strings.IndexByte(`\/*?"<>|,#: `, c) >= 0 {
			return bad(fmt.Sprintf(`must not contain %q (none of \ / * ? " < > | , # : or space)`, c))
		}
	}
	return nil
}

// matchIndex reports whether name matches one of patterns: exact names or
// patterns where '*' matches any run of bytes. No patterns match every
// index.
func matchIndex(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p == "*" || p == "_all" || p == name || (strings.IndexByte(p, '*') >= 0 && wildcardMatch(p, name)) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against p where '*' is any run of bytes.
func wildcardMatch(p, s string) bool {
	// Greedy matching with backtracking to the last star: linear in
	// practice, O(len(p)*len(s)) at worst.
	star, next := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, next = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			i = star + 1
			next++
			j = next
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

const nsPerDay = int64(24 * time.Hour)

// dayOf returns the UTC day number (days since 1970-01-01) of a Unix
// nanosecond time.
func dayOf(ns int64) int64 {
	d := ns / nsPerDay
	if ns%nsPerDay < 0 {
		d--
	}
	return d
}

// dayName is a partition's directory name: the day as YYYYMMDD.
func dayName(day int64) string {
	return time.Unix(day*86400, 0).UTC().Format("20060102")
}

// parseDayName is the inverse of dayName.
func parseDayName(s string) (int64, bool) {
	if len(s) != 8 {
		return 0, false
	}
	t, err := time.Parse("20060102", s)
	if err != nil || t.Format("20060102") != s {
		return 0, false
	}
	return t.Unix() / 86400, true
}
