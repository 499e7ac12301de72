// Package lowercase is the "lowercase" function: convert the strings of the
// listed fields (and of every field below them) to lower case, as Logstash's
// mutate lowercase does. Arrays are converted element by element; values
// that are not strings are left alone. Conversion is Unicode-aware
// (strings.ToLower). See package casefn for the shared rules.
package lowercase

import (
	"strings"

	"github.com/sluicehq/sluice/internal/function/casefn"
)

// Spec registers the lowercase function.
var Spec = casefn.NewSpec("lowercase",
	"Converts the strings of the listed fields (and everything below them; arrays element-wise) to lower case.",
	`- type: lowercase
  fields: [log.level, http.request.method, user.email]`,
	strings.ToLower)
