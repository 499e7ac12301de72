package esapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"unsafe"
)

// filterPath applies Elasticsearch's filter_path parameter to a JSON
// response: a comma-separated list of dotted paths where '*' matches any
// one name (or part of one), '**' any number of levels, and a leading '-'
// excludes. Arrays are transparent (items.*.status keeps the status of
// every item). Objects and arrays left empty are dropped. body must be
// valid JSON (it is: the API wrote it); if filtering fails, body is
// returned as it is.
func filterPath(body []byte, spec string) []byte {
	var incl, excl []fpState
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, "-") {
			excl = append(excl, fpState{pat: strings.Split(p[1:], ".")})
		} else {
			incl = append(incl, fpState{pat: strings.Split(p, ".")})
		}
	}
	if len(incl) == 0 && len(excl) == 0 {
		return body
	}
	w := fpWalker{b: body, out: make([]byte, 0, len(body)/2)}
	keep, ok := w.value(0, 0, len(incl) == 0, incl, excl)
	if !ok {
		return body
	}
	if !keep {
		return []byte("{}")
	}
	return w.out
}

// fpState is a pattern and how much of it the path so far has matched.
type fpState struct {
	pat []string
	pos int
}

// advance appends to next the states after descending into key, and
// reports whether one of them matched its whole pattern.
func advance(next, states []fpState, key string) ([]fpState, bool) {
	full := false
	add := func(s fpState) {
		if s.pos == len(s.pat) {
			full = true
			return
		}
		next = append(next, s)
		// A trailing "**" also matches what is below.
		if s.pat[s.pos] == "**" && s.pos == len(s.pat)-1 {
			full = true
		}
	}
	for _, s := range states {
		seg := s.pat[s.pos]
		if seg == "**" {
			add(s) // ** consumes key and stays
			if s.pos+1 < len(s.pat) && globMatch(s.pat[s.pos+1], key) {
				add(fpState{pat: s.pat, pos: s.pos + 2})
			}
			continue
		}
		if globMatch(seg, key) {
			add(fpState{pat: s.pat, pos: s.pos + 1})
		}
	}
	return next, full
}

func globMatch(pat, s string) bool {
	if pat == "*" || pat == s {
		return true
	}
	if !strings.Contains(pat, "*") {
		return false
	}
	return wildMatch(pat, s)
}

// fpWalker filters a JSON document into out, with scratch state slices
// per depth so that filtering allocates little.
type fpWalker struct {
	b        []byte
	out      []byte
	inc, exc [][]fpState
}

func (w *fpWalker) ws(i int) int {
	for i < len(w.b) && (w.b[i] == ' ' || w.b[i] == '\n' || w.b[i] == '\t' || w.b[i] == '\r') {
		i++
	}
	return i
}

// end returns the end of the JSON value at i.
func (w *fpWalker) end(i int) (int, bool) {
	i = w.ws(i)
	if i >= len(w.b) {
		return i, false
	}
	switch w.b[i] {
	case '"':
		return w.strEnd(i)
	case '{', '[':
		depth := 0
		for j := i; j < len(w.b); j++ {
			switch w.b[j] {
			case '"':
				e, ok := w.strEnd(j)
				if !ok {
					return j, false
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(w.b), false
	default:
		j := i
		for j < len(w.b) {
			c := w.b[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				break
			}
			j++
		}
		return j, j > i
	}
}

func (w *fpWalker) strEnd(i int) (int, bool) {
	for j := i + 1; j < len(w.b); j++ {
		switch w.b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(w.b), false
}

// scratch returns the reusable state slices of a depth.
func (w *fpWalker) scratch(depth int) (inc, exc []fpState) {
	for len(w.inc) <= depth {
		w.inc = append(w.inc, nil)
		w.exc = append(w.exc, nil)
	}
	return w.inc[depth][:0], w.exc[depth][:0]
}

// value filters the value at i into w.out. all means everything below is
// included (subject to excl). It reports whether the value is kept (when
// it is not, nothing was written).
func (w *fpWalker) value(i, depth int, all bool, incl, excl []fpState) (keep, ok bool) {
	if depth > 512 {
		return false, false
	}
	i = w.ws(i)
	end, ok := w.end(i)
	if !ok {
		return false, false
	}
	if all && len(excl) == 0 {
		w.out = append(w.out, w.b[i:end]...)
		return true, true
	}
	mark := len(w.out)
	switch w.b[i] {
	case '{':
		w.out = append(w.out, '{')
		n, members := 0, 0
		j := w.ws(i + 1)
		for j < end-1 {
			kStart := j
			kEnd, ok := w.strEnd(j)
			if !ok {
				return false, false
			}
			raw := w.b[kStart+1 : kEnd-1]
			var key string
			if bytes.IndexByte(raw, '\\') >= 0 {
				if key, ok = unquote(w.b[kStart:kEnd]); !ok {
					return false, false
				}
			} else if len(raw) > 0 {
				key = unsafe.String(&raw[0], len(raw))
			}
			j = w.ws(kEnd)
			if j >= len(w.b) || w.b[j] != ':' {
				return false, false
			}
			vStart := w.ws(j + 1)
			vEnd, ok := w.end(vStart)
			if !ok {
				return false, false
			}
			members++
			nIncl, nExcl := w.scratch(depth)
			nIncl, fullIn := advance(nIncl, incl, key)
			nExcl, fullEx := advance(nExcl, excl, key)
			w.inc[depth], w.exc[depth] = nIncl, nExcl
			if !fullEx && (all || fullIn || len(nIncl) > 0) {
				memberMark := len(w.out)
				if n > 0 {
					w.out = append(w.out, ',')
				}
				w.out = append(w.out, w.b[kStart:kEnd]...)
				w.out = append(w.out, ':')
				keep, ok := w.value(vStart, depth+1, all || fullIn, nIncl, nExcl)
				if !ok {
					return false, false
				}
				if keep {
					n++
				} else {
					w.out = w.out[:memberMark]
				}
			}
			j = w.ws(vEnd)
			if j < len(w.b) && w.b[j] == ',' {
				j = w.ws(j + 1)
			}
		}
		w.out = append(w.out, '}')
		if n > 0 || (all && members == 0) {
			return true, true
		}
	case '[':
		w.out = append(w.out, '[')
		n, members := 0, 0
		j := w.ws(i + 1)
		for j < end-1 {
			vEnd, ok := w.end(j)
			if !ok {
				return false, false
			}
			members++
			elemMark := len(w.out)
			if n > 0 {
				w.out = append(w.out, ',')
			}
			keep, ok := w.value(j, depth+1, all, incl, excl)
			if !ok {
				return false, false
			}
			if keep {
				n++
			} else {
				w.out = w.out[:elemMark]
			}
			j = w.ws(vEnd)
			if j < len(w.b) && w.b[j] == ',' {
				j = w.ws(j + 1)
			}
		}
		w.out = append(w.out, ']')
		if n > 0 || (all && members == 0) {
			return true, true
		}
	default:
		if all {
			w.out = append(w.out, w.b[i:end]...)
			return true, true
		}
	}
	w.out = w.out[:mark]
	return false, true
}

// unquote decodes a JSON string with escapes.
func unquote(b []byte) (string, bool) {
	var s string
	err := json.Unmarshal(b, &s)
	return s, err == nil
}

// indentJSON pretty-prints a JSON response (the pretty parameter).
func indentJSON(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
