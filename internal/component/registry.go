package component

import (
	"fmt"
	"sort"
)

// SourceSpec describes a source plugin.
type SourceSpec struct {
	Type string
	// Doc is a one-paragraph description for the reference docs.
	Doc string
	// NewConfig returns a config with every default set. It must be a pointer
	// to a struct with yaml tags.
	NewConfig func() any
	// Build makes a source from a validated config.
	Build func(cfg any, env Env) (Source, error)
}

// DestinationSpec describes a destination plugin.
type DestinationSpec struct {
	Type      string
	Doc       string
	NewConfig func() any
	Build     func(cfg any, env Env) (Sink, error)
}

// FunctionSpec describes a pipeline function plugin.
type FunctionSpec struct {
	Type string
	Doc  string
	// Example is a pipeline function in YAML, as a user writes it in a
	// pipeline's list (starting with "- type: NAME"). The reference docs
	// show it, and a test checks that it loads.
	Example string
	// ReadsFiles marks functions that read files named in their config
	// (lookup tables): configs sent over the API may not use them.
	ReadsFiles bool
	NewConfig  func() any
	Build      func(cfg any, env Env) (Function, error)
}

// Registry maps plugin types to their specs. It is an object, not a hidden
// global, so tests can start from an empty one.
type Registry struct {
	sources      map[string]SourceSpec
	destinations map[string]DestinationSpec
	functions    map[string]FunctionSpec
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		sources:      map[string]SourceSpec{},
		destinations: map[string]DestinationSpec{},
		functions:    map[string]FunctionSpec{},
	}
}

// AddSource registers a source plugin. It panics on a duplicate type, which
// is a programming error.
func (r *Registry) AddSource(s SourceSpec) {
	if _, dup := r.sources[s.Type]; dup {
		panic(fmt.Sprintf("component: source type %q registered twice", s.Type))
	}
	r.sources[s.Type] = s
}

// AddDestination registers a destination plugin.
func (r *Registry) AddDestination(s DestinationSpec) {
	if _, dup := r.destinations[s.Type]; dup {
		panic(fmt.Sprintf("component: destination type %q registered twice", s.Type))
	}
	r.destinations[s.Type] = s
}

// AddFunction registers a function plugin.
func (r *Registry) AddFunction(s FunctionSpec) {
	if _, dup := r.functions[s.Type]; dup {
		panic(fmt.Sprintf("component: function type %q registered twice", s.Type))
	}
	r.functions[s.Type] = s
}

// Source returns the spec of a source type.
func (r *Registry) Source(typ string) (SourceSpec, bool) { s, ok := r.sources[typ]; return s, ok }

// Destination returns the spec of a destination type.
func (r *Registry) Destination(typ string) (DestinationSpec, bool) {
	s, ok := r.destinations[typ]
	return s, ok
}

// Function returns the spec of a function type.
func (r *Registry) Function(typ string) (FunctionSpec, bool) { s, ok := r.functions[typ]; return s, ok }

// SourceTypes returns the registered source types, sorted.
func (r *Registry) SourceTypes() []string { return sortedKeys(r.sources) }

// DestinationTypes returns the registered destination types, sorted.
func (r *Registry) DestinationTypes() []string { return sortedKeys(r.destinations) }

// FunctionTypes returns the registered function types, sorted.
func (r *Registry) FunctionTypes() []string { return sortedKeys(r.functions) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
