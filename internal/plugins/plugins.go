// Package plugins builds the registry of every built-in source, function and
// destination. It is the one place that knows them all.
package plugins

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/destination/blackhole"
	"github.com/sluicehq/sluice/internal/destination/file"
	httpdest "github.com/sluicehq/sluice/internal/destination/http"
	"github.com/sluicehq/sluice/internal/destination/stdout"
	storedest "github.com/sluicehq/sluice/internal/destination/store"
	addfields "github.com/sluicehq/sluice/internal/function/add_fields"
	addtags "github.com/sluicehq/sluice/internal/function/add_tags"
	aggregate "github.com/sluicehq/sluice/internal/function/aggregate"
	coerce "github.com/sluicehq/sluice/internal/function/coerce"
	"github.com/sluicehq/sluice/internal/function/cri"
	csvfn "github.com/sluicehq/sluice/internal/function/csv"
	"github.com/sluicehq/sluice/internal/function/dedupe"
	"github.com/sluicehq/sluice/internal/function/dissect"
	"github.com/sluicehq/sluice/internal/function/docker"
	"github.com/sluicehq/sluice/internal/function/drop"
	dynamicsample "github.com/sluicehq/sluice/internal/function/dynamic_sample"
	"github.com/sluicehq/sluice/internal/function/eval"
	flatten "github.com/sluicehq/sluice/internal/function/flatten"
	"github.com/sluicehq/sluice/internal/function/grok"
	hash "github.com/sluicehq/sluice/internal/function/hash"
	jsonfn "github.com/sluicehq/sluice/internal/function/json"
	keep "github.com/sluicehq/sluice/internal/function/keep"
	"github.com/sluicehq/sluice/internal/function/kv"
	"github.com/sluicehq/sluice/internal/function/logfmt"
	lookup "github.com/sluicehq/sluice/internal/function/lookup"
	lowercase "github.com/sluicehq/sluice/internal/function/lowercase"
	mask "github.com/sluicehq/sluice/internal/function/mask"
	metricsfn "github.com/sluicehq/sluice/internal/function/metrics"
	"github.com/sluicehq/sluice/internal/function/regex"
	"github.com/sluicehq/sluice/internal/function/remove"
	"github.com/sluicehq/sluice/internal/function/rename"
	"github.com/sluicehq/sluice/internal/function/sample"
	"github.com/sluicehq/sluice/internal/function/serialize"
	"github.com/sluicehq/sluice/internal/function/set"
	split "github.com/sluicehq/sluice/internal/function/split"
	"github.com/sluicehq/sluice/internal/function/suppress"
	syslogfn "github.com/sluicehq/sluice/internal/function/syslog"
	"github.com/sluicehq/sluice/internal/function/throttle"
	"github.com/sluicehq/sluice/internal/function/timestamp"
	uppercase "github.com/sluicehq/sluice/internal/function/uppercase"
	"github.com/sluicehq/sluice/internal/source/datagen"
	httpsrc "github.com/sluicehq/sluice/internal/source/http"
	"github.com/sluicehq/sluice/internal/source/syslog"
	"github.com/sluicehq/sluice/internal/source/tcp"
)

// Registry returns a registry with every built-in plugin.
func Registry() *component.Registry {
	r := component.NewRegistry()
	for _, s := range []component.SourceSpec{
		syslog.Spec,
		httpsrc.Spec,
		tcp.Spec,
		datagen.Spec,
	} {
		r.AddSource(s)
	}
	for _, f := range []component.FunctionSpec{
		// Parse.
		jsonfn.Spec, kv.Spec, logfmt.Spec, csvfn.Spec, grok.Spec, regex.Spec, dissect.Spec,
		syslogfn.Spec, cri.Spec, docker.Spec, timestamp.Spec,
		// Reshape.
		eval.Spec, set.Spec, rename.Spec, remove.Spec, keep.Spec, flatten.Spec, coerce.Spec,
		lowercase.Spec, uppercase.Spec, split.Spec, serialize.Spec,
		// Control.
		drop.Spec, throttle.Spec, sample.Spec, dynamicsample.Spec, suppress.Spec, dedupe.Spec,
		// Enrich.
		lookup.Spec, addfields.Spec, addtags.Spec, mask.Spec, hash.Spec,
		// Aggregate.
		metricsfn.Spec, aggregate.Spec,
		// one per line below
	} {
		r.AddFunction(f)
	}
	for _, d := range []component.DestinationSpec{
		storedest.Spec,
		file.Spec,
		stdout.Spec,
		httpdest.Spec,
		blackhole.Spec,
	} {
		r.AddDestination(d)
	}
	return r
}
