// Package template renders %{field.path} templates, as Logstash's sprintf
// format does, for keys, index names and file paths. A template is parsed
// once; rendering appends to a caller's buffer and allocates nothing when
// the fields are strings.
//
// Syntax: %{field.path} inserts the field's text (empty when absent);
// %{+FORMAT} inserts the event time in a Go-free strftime-like layout
// (%{+yyyy.MM.dd}, as in Logstash; tokens yyyy, MM, dd, HH, mm, ss); "%%{"
// writes a literal "%{".
package template

import (
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/event"
)

type part struct {
	lit    string
	field  string
	timeFm string // Go layout for %{+...}
}

// Template is a parsed template. It is immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []part
}

// Parse parses src.
func Parse(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	var lit strings.Builder
	for {
		i := strings.Index(rest, "%{")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		if i > 0 && rest[i-1] == '%' {
			lit.WriteString(rest[:i-1])
			lit.WriteString("%{")
			rest = rest[i+2:]
			continue
		}
		lit.WriteString(rest[:i])
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("template %q: unclosed %%{ at offset %d", src, len(src)-len(rest)+i)
		}
		name := strings.TrimSpace(rest[i+2 : i+end])
		if name == "" {
			return nil, fmt.Errorf("template %q: empty field name at offset %d", src, len(src)-len(rest)+i)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
		if strings.HasPrefix(name, "+") {
			t.parts = append(t.parts, part{timeFm: javaToGoLayout(name[1:])})
		} else {
			t.parts = append(t.parts, part{field: name})
		}
		rest = rest[i+end+1:]
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	return t, nil
}

// MustParse is Parse for constants; it panics on error.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the source of the template.
func (t *Template) String() string { return t.src }

// IsStatic reports whether the template has no field references.
func (t *Template) IsStatic() bool {
	for _, p := range t.parts {
		if p.lit == "" {
			return false
		}
	}
	return true
}

// Fields returns the field paths the template references.
func (t *Template) Fields() []string {
	var out []string
	for _, p := range t.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// Append renders the template for ev and appends it to dst.
func (t *Template) Append(dst []byte, ev *event.Event) []byte {
	for _, p := range t.parts {
		switch {
		case p.field != "":
			if v, ok := ev.Lookup(p.field); ok {
				dst = v.AppendText(dst)
			} else if p.field != event.TimestampField {
				if x, ok := ev.Get(p.field); ok {
					dst = event.Any(x).AppendText(dst)
				}
			}
		case p.timeFm != "":
			dst = ev.Time.UTC().AppendFormat(dst, p.timeFm)
		default:
			dst = append(dst, p.lit...)
		}
	}
	return dst
}

// Render renders the template for ev as a string.
func (t *Template) Render(ev *event.Event) string {
	if len(t.parts) == 1 && t.parts[0].lit != "" {
		return t.parts[0].lit
	}
	var buf [128]byte
	return string(t.Append(buf[:0], ev))
}

// javaLayout maps Joda-Time letters to Go's layout. At each position the
// first listed pattern that matches wins, so longer runs come first.
var javaLayout = strings.NewReplacer("yyyy", "2006", "YYYY", "2006", "yy", "06", "MMMM", "January", "MMM", "Jan", "MM", "01",
	"dd", "02", "EEEE", "Monday", "EEE", "Mon", "HH", "15", "mm", "04", "ss", "05", "SSS", "000")

func javaToGoLayout(f string) string {
	return javaLayout.Replace(f)
}
