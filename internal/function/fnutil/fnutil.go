// Package fnutil holds what pipeline functions share: counting and tagging
// the events they fail to process, reading their config in Build, and
// naming output fields under a target.
//
// Conventions every function follows (see docs/functions.md):
//   - `field` names the input field (default "message");
//   - `target` names where output goes: "" is the event's root, anything
//     else is a prefix ("parsed" puts key k at "parsed.k");
//   - `tag_on_failure` lists the tags added when the input cannot be
//     processed; the event goes on unchanged apart from the tags, and the
//     failure is counted in sluice_function_failures_total.
package fnutil

import (
	"fmt"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// Failure tags and counts events a function could not process.
type Failure struct {
	tags    []string
	counter component.Counter
}

// NewFailure returns a Failure adding tags and counting into env.Failures.
func NewFailure(env component.Env, tags []string) *Failure {
	c := env.Failures
	if c == nil {
		c = component.NopCounter
	}
	return &Failure{tags: tags, counter: c}
}

// Fail marks ev as failed: it adds the failure tags and counts one failure.
func (f *Failure) Fail(ev *event.Event) {
	for _, t := range f.tags {
		ev.AddTag(t)
	}
	f.counter.Inc()
}

// Config returns cfg as *T, or an error naming the function type.
func Config[T any](typ string, cfg any) (*T, error) {
	c, ok := cfg.(*T)
	if !ok {
		return nil, fmt.Errorf("%s: unexpected config %T", typ, cfg)
	}
	return c, nil
}

// Join returns the name of key under target: key itself when target is
// empty, else "target.key".
func Join(target, key string) string {
	if target == "" {
		return key
	}
	return target + "." + key
}
