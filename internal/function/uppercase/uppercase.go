// Package uppercase is the "uppercase" function: convert the strings of the
// listed fields (and of every field below them) to upper case, as Logstash's
// mutate uppercase does. Arrays are converted element by element; values
// that are not strings are left alone. Conversion is Unicode-aware and rune
// by rune (strings.ToUpper: "ß" stays "ß"). See package casefn for the
// shared rules.
package uppercase

import (
	"strings"

	"github.com/sluicehq/sluice/internal/function/casefn"
)

// Spec registers the uppercase function.
var Spec = casefn.NewSpec("uppercase",
	"Converts the strings of the listed fields (and everything below them; arrays element-wise) to upper case.",
	`- type: uppercase
  fields: [log.level, http.request.method]`,
	strings.ToUpper)
