// Package dedupe is the "dedupe" function: suppress (see
// internal/function/suppress) with defaults for dropping repeated
// messages. An event whose key (by default its message) was already seen
// less than `window` (10s) ago, measured from the first occurrence, is
// dropped; the first occurrence after the window passes and carries
// `suppressed_count`, the number of repeats dropped. Events whose key
// renders empty (no message) pass untouched (ignore_empty_key: true). Every
// suppress option applies: key, allow, window, clock, max_keys, drop, tag,
// count_field, ignore_empty_key.
package dedupe

import (
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/suppress"
)

// Spec registers the dedupe function.
var Spec = component.FunctionSpec{
	Type: "dedupe",
	Doc: "Drops repeats: an event whose `key` (default `%{message}`) was seen less than `window` (10s) ago " +
		"is dropped, and the next one let through carries `suppressed_count`. It is `suppress` with " +
		"`key: \"%{message}\"`, `allow: 1`, `window: 10s` and `ignore_empty_key: true` (events without a message " +
		"pass) by default, and takes the same options.",
	Example: `- type: dedupe
  key: "%{host.name}:%{message}"
  window: 30s
`,
	NewConfig: func() any {
		c := suppress.DefaultConfig()
		c.Key = "%{message}"
		c.Window = config.Duration(10 * time.Second)
		c.IgnoreEmptyKey = true
		return c
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[suppress.Config]("dedupe", cfg)
		if err != nil {
			return nil, err
		}
		return suppress.New(c, env)
	},
}
