package jsonparse

import (
	"errors"

	"github.com/sluicehq/sluice/internal/event"
)

// ParseValueAt parses data, which must hold one JSON value of any kind, and
// stores it at path in ev, replacing the field path and every field below
// it. It is what a JSON parser with a target needs: ParseObject only takes
// objects and only merges into the root.
//
// An object's members become fields below path, flattened and deduplicated
// exactly as ParseObject does ({"a":{"b":1}} at "x" sets "x.a.b"); an empty
// object stores an empty map[string]any at path; any other value (array,
// string, number, literal) is stored at path itself, with the value
// mapping of ParseObject. "@timestamp" is not special here: a member of that
// name becomes the field path+".@timestamp" and ev.Time is never changed.
//
// Because the value sits one level below the root, it may nest at most
// MaxDepth-1 levels deep. The memory contract of ParseObject applies: strings
// in ev may point into data. On error ev is left unchanged; invalid input
// gives a *SyntaxError, and an empty path or "@timestamp" (which is the
// event's time, not a field) is rejected with a plain error.
func ParseValueAt(ev *event.Event, data []byte, path string) error {
	if path == "" || path == event.TimestampField {
		return errors.New("jsonparse: ParseValueAt needs a field path other than \"\" and \"@timestamp\"")
	}
	p := parserPool.Get().(*parser)
	err := p.parseAt(ev, data, path)
	p.reset()
	parserPool.Put(p)
	return err
}

func (p *parser) parseAt(ev *event.Event, data []byte, path string) error {
	p.data = data
	i := skipWS(data, 0)
	if i >= len(data) {
		return p.errAt(i, "expected a JSON value")
	}
	var (
		end    int
		err    error
		scalar event.Value
		object = data[i] == '{'
	)
	if object {
		// Parsing the members at depth 2 with the path as prefix gives
		// them interned "path.key" names and keeps the top-level-only
		// handling of "@timestamp" out of the way.
		p.prefix = append(append(p.prefix[:0], path...), '.')
		end, err = p.parseObject(i, 2)
		p.prefix = p.prefix[:0]
	} else {
		var v any
		v, end, err = p.parseValue(i, 1)
		scalar = event.Any(v)
	}
	if err != nil {
		return err
	}
	if i = skipWS(data, end); i < len(data) {
		return p.errAt(i, "unexpected data after the JSON value")
	}

	ev.Delete(path)
	if !object {
		ev.AppendField(path, scalar)
		return nil
	}
	if p.out.Len() == 0 {
		ev.AppendField(path, event.Any(map[string]any{}))
		return nil
	}
	if p.dotted {
		p.dedupFlattened()
	}
	fields := p.out.Fields()
	live := len(fields)
	if p.anyDead {
		for i := range fields {
			if p.isDead(i) {
				live--
			}
		}
	}
	ev.Grow(live)
	for i, f := range fields {
		if !p.isDead(i) {
			ev.AppendField(f.Key, f.Value)
		}
	}
	return nil
}
