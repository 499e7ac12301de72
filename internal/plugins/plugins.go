// Package plugins builds the registry of every built-in source, function and
// destination. It is the one place that knows them all.
package plugins

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/destination/blackhole"
	"github.com/sluicehq/sluice/internal/destination/file"
	httpdest "github.com/sluicehq/sluice/internal/destination/http"
	"github.com/sluicehq/sluice/internal/destination/stdout"
	"github.com/sluicehq/sluice/internal/function/drop"
	"github.com/sluicehq/sluice/internal/function/eval"
	"github.com/sluicehq/sluice/internal/function/remove"
	"github.com/sluicehq/sluice/internal/function/rename"
	"github.com/sluicehq/sluice/internal/function/set"
	"github.com/sluicehq/sluice/internal/source/datagen"
	httpsrc "github.com/sluicehq/sluice/internal/source/http"
	"github.com/sluicehq/sluice/internal/source/syslog"
	"github.com/sluicehq/sluice/internal/source/tcp"
)

// Registry returns a registry with every built-in plugin.
func Registry() *component.Registry {
	r := component.NewRegistry()
	for _, s := range []component.SourceSpec{syslog.Spec, httpsrc.Spec, tcp.Spec, datagen.Spec} {
		r.AddSource(s)
	}
	for _, f := range []component.FunctionSpec{eval.Spec, set.Spec, rename.Spec, remove.Spec, drop.Spec} {
		r.AddFunction(f)
	}
	for _, d := range []component.DestinationSpec{file.Spec, stdout.Spec, httpdest.Spec, blackhole.Spec} {
		r.AddDestination(d)
	}
	return r
}
