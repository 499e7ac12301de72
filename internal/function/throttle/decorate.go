package throttle

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/template"
)

// StringList is a list of strings that may also be written as one string
// (add_tag: throttled), as Logstash's array options may.
type StringList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			*l = nil
			return nil
		}
		*l = StringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = s
	return nil
}

// parseTemplate parses a %{field} template after rewriting Logstash field
// references (%{[kubernetes][pod][name]}) to dotted paths.
func parseTemplate(src string) (*template.Template, error) {
	return template.Parse(logstashRefs(src))
}

// logstashRefs rewrites every %{[a][b]} in src to %{a.b}. References that are
// not made only of [name] segments, and escaped %%{, are left as they are.
func logstashRefs(src string) string {
	if !strings.Contains(src, "%{[") {
		return src
	}
	var b strings.Builder
	rest := src
	for {
		i := strings.Index(rest, "%{")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		if i > 0 && rest[i-1] == '%' {
			b.WriteString(rest[:i+2])
			rest = rest[i+2:]
			continue
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		if path, ok := bracketPath(rest[i+2 : i+end]); ok {
			b.WriteString("%{")
			b.WriteString(path)
			b.WriteByte('}')
		} else {
			b.WriteString(rest[i : i+end+1])
		}
		rest = rest[i+end+1:]
	}
}

// bracketPath turns "[a][b][c]" into "a.b.c".
func bracketPath(ref string) (string, bool) {
	if len(ref) < 3 || ref[0] != '[' || ref[len(ref)-1] != ']' {
		return "", false
	}
	parts := strings.Split(ref[1:len(ref)-1], "][")
	for _, p := range parts {
		if strings.TrimSpace(p) == "" || strings.ContainsAny(p, "[]") {
			return "", false
		}
	}
	return strings.Join(parts, "."), true
}

// decorations are Logstash's common filter options, applied to an event the
// filter matched (filter_matched), in Logstash's order: add_field,
// remove_field, add_tag, remove_tag. Every name and value is a template.
type decorations struct {
	fieldNames, fieldValues []*template.Template
	removeFields            []*template.Template
	addTags                 []*template.Template
	removeTags              []*template.Template
	// staticTags holds add_tag as one shared array when no tag is a
	// template: an event without tags gets it as is, with no allocation
	// (values are immutable once set, and AddTag copies before appending).
	staticTags event.Value
	static     bool
}

// compile parses the decoration options; the field names in errors are the
// config keys.
func (d *decorations) compile(addTag StringList, addField map[string]string, removeTag, removeField StringList) error {
	*d = decorations{}
	var err error
	if d.addTags, err = parseList("add_tag", addTag); err != nil {
		return err
	}
	if d.removeTags, err = parseList("remove_tag", removeTag); err != nil {
		return err
	}
	if d.removeFields, err = parseList("remove_field", removeField); err != nil {
		return err
	}
	d.static = len(d.addTags) > 0
	var tags []any
	for _, t := range d.addTags {
		if !t.IsStatic() {
			d.static = false
			break
		}
		if s := t.Render(nil); !slices.Contains(tags, any(s)) {
			tags = append(tags, s)
		}
	}
	if d.static {
		d.staticTags = event.Any(tags)
	}
	names := make([]string, 0, len(addField))
	for k := range addField {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" {
			return component.Errorf("add_field", "a field name is empty")
		}
		n, err := parseTemplate(k)
		if err != nil {
			return component.Errorf("add_field", "field name: %v", err)
		}
		v, err := parseTemplate(addField[k])
		if err != nil {
			return component.Errorf("add_field", "value of %s: %v", k, err)
		}
		d.fieldNames = append(d.fieldNames, n)
		d.fieldValues = append(d.fieldValues, v)
	}
	return nil
}

func parseList(key string, l StringList) ([]*template.Template, error) {
	out := make([]*template.Template, 0, len(l))
	for i, s := range l {
		if s == "" {
			return nil, component.Errorf(key, "entry %d is empty", i)
		}
		t, err := parseTemplate(s)
		if err != nil {
			return nil, component.Errorf(key, "%v", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// apply decorates ev.
func (d *decorations) apply(ev *event.Event) {
	for i, nt := range d.fieldNames {
		addField(ev, nt.Render(ev), d.fieldValues[i].Render(ev))
	}
	for _, t := range d.removeFields {
		ev.Delete(t.Render(ev))
	}
	if d.static && !ev.Has(event.TagsField) {
		ev.AppendField(event.TagsField, d.staticTags)
	} else {
		for _, t := range d.addTags {
			ev.AddTag(t.Render(ev))
		}
	}
	if len(d.removeTags) > 0 {
		removeTags(ev, d.removeTags)
	}
}

// addField sets name to v, or, when name already holds a value, turns it
// into an array and appends v (Logstash's add_field).
func addField(ev *event.Event, name, v string) {
	old, ok := ev.Lookup(name)
	if !ok || name == event.TimestampField {
		ev.SetString(name, v)
		return
	}
	var a []any
	if arr, isArr := old.Interface().([]any); isArr {
		a = make([]any, len(arr), len(arr)+1)
		copy(a, arr)
	} else {
		a = []any{old.Interface()}
	}
	ev.SetValue(name, event.Any(append(a, v)))
}

// removeTags deletes the rendered tags from the tags array; like Logstash it
// leaves an empty array when every tag is removed.
func removeTags(ev *event.Event, tags []*template.Template) {
	v, ok := ev.Lookup(event.TagsField)
	if !ok {
		return
	}
	var cur []any
	if arr, isArr := v.Interface().([]any); isArr {
		cur = arr
	} else {
		cur = []any{v.Interface()}
	}
	out := make([]any, 0, len(cur))
	drop := make([]string, len(tags))
	for i, t := range tags {
		drop[i] = t.Render(ev)
	}
	for _, x := range cur {
		s, isStr := x.(string)
		if isStr && contains(drop, s) {
			continue
		}
		out = append(out, x)
	}
	ev.SetValue(event.TagsField, event.Any(out))
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
