// Package addtags is the "add_tags" function: add tags to the tags array and
// remove tags from it, like Logstash's add_tag and remove_tag.
//
// Both lists take %{field} templates ("env-%{kubernetes.namespace}"). A
// template whose fields are missing renders them as nothing; a tag that
// renders empty is not added. Tags already present are not added twice.
// Removal (the remove option, rather than a separate function) runs after
// adding, so a tag in both lists ends up removed. When the last tag is
// removed the tags field is deleted rather than left as an empty array.
package addtags

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/template"
)

// Config is the add_tags function's configuration.
type Config struct {
	Tags   []string `yaml:"tags" doc:"tags to add, %{field} templates allowed; a tag that renders empty is not added"`
	Remove []string `yaml:"remove" doc:"tags to remove after adding, %{field} templates allowed"`
	add    []*template.Template
	remove []*template.Template
}

// Validate parses the templates.
func (c *Config) Validate() error {
	if len(c.Tags) == 0 && len(c.Remove) == 0 {
		return component.Errorf("tags", "add_tags needs tags to add or remove (tags: [x], remove: [y])")
	}
	var err error
	if c.add, err = parseAll("tags", c.Tags); err != nil {
		return err
	}
	c.remove, err = parseAll("remove", c.Remove)
	return err
}

func parseAll(key string, srcs []string) ([]*template.Template, error) {
	var out []*template.Template
	for i, s := range srcs {
		if s == "" {
			return nil, component.Errorf(key, "entry %d is empty", i)
		}
		t, err := template.Parse(s)
		if err != nil {
			return nil, component.Errorf(key, "%v", err)
		}
		out = append(out, t)
	}
	return out, nil
}

type fn struct{ add, remove []*template.Template }

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	for _, t := range f.add {
		if tag := t.Render(ev); tag != "" {
			ev.AddTag(tag)
		}
	}
	for _, t := range f.remove {
		removeTag(ev, t.Render(ev))
	}
	return true
}

// removeTag removes tag from the tags field, deleting the field when no tag
// is left.
func removeTag(ev *event.Event, tag string) {
	v, ok := ev.Lookup(event.TagsField)
	if !ok {
		return
	}
	if s, isStr := v.Str(); isStr {
		if s == tag {
			ev.Delete(event.TagsField)
		}
		return
	}
	tags, ok := v.Interface().([]any)
	if !ok {
		return
	}
	n := 0
	for _, t := range tags {
		if t != tag {
			n++
		}
	}
	switch n {
	case len(tags):
		return
	case 0:
		ev.Delete(event.TagsField)
		return
	}
	// A new array: the old one may be shared with a clone of the event.
	out := make([]any, 0, n)
	for _, t := range tags {
		if t != tag {
			out = append(out, t)
		}
	}
	ev.SetValue(event.TagsField, event.Any(out))
}

// Spec registers the add_tags function.
var Spec = component.FunctionSpec{
	Type:      "add_tags",
	Doc:       "Adds tags (`%{field}` templates allowed; empty results are skipped) and removes the tags listed in `remove`, like Logstash's add_tag and remove_tag.",
	Example:   "- type: add_tags\n  tags: [kubernetes, \"ns-%{kubernetes.namespace}\"]\n  remove: [_jsonparsefailure]",
	NewConfig: func() any { return &Config{} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("add_tags", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{add: c.add, remove: c.remove}, nil
	},
}
