package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// promValue returns the sum of the samples of metric name whose labels
// include every label in want, from a Prometheus text exposition. found is
// false when no sample matched (a counter not created yet).
func promValue(text []byte, name string, want map[string]string) (v float64, found bool, err error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		metric, labels, value, err := parsePromLine(line)
		if err != nil {
			return 0, false, err
		}
		if metric != name || !hasLabels(labels, want) {
			continue
		}
		v += value
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, false, fmt.Errorf("read metrics: %w", err)
	}
	return v, found, nil
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// parsePromLine parses `name{a="x",b="y"} value [timestamp]`.
func parsePromLine(line string) (name string, labels map[string]string, value float64, err error) {
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return "", nil, 0, fmt.Errorf("cannot parse metrics line %q: no value", line)
	}
	name, rest := line[:i], line[i:]
	if rest[0] == '{' {
		labels, rest, err = parsePromLabels(rest[1:])
		if err != nil {
			return "", nil, 0, fmt.Errorf("cannot parse metrics line %q: %w", line, err)
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, 0, fmt.Errorf("cannot parse metrics line %q: no value", line)
	}
	value, err = strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", nil, 0, fmt.Errorf("cannot parse metrics line %q: %w", line, err)
	}
	return name, labels, value, nil
}

// parsePromLabels parses `a="x",b="y"}` and returns what follows the '}'.
func parsePromLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return nil, "", fmt.Errorf("unterminated labels")
		}
		if s[0] == '}' {
			return labels, s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return nil, "", fmt.Errorf("bad label at %q", s)
		}
		key := strings.TrimSpace(s[:eq])
		var val strings.Builder
		j := eq + 2
		for ; j < len(s) && s[j] != '"'; j++ {
			c := s[j]
			if c == '\\' && j+1 < len(s) {
				j++
				switch s[j] {
				case 'n':
					c = '\n'
				default:
					c = s[j]
				}
			}
			val.WriteByte(c)
		}
		if j >= len(s) {
			return nil, "", fmt.Errorf("unterminated label value at %q", s)
		}
		labels[key] = val.String()
		s = s[j+1:]
	}
}
