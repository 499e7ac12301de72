// Package event holds Sluice's data model: the Event (a timestamp and a flat
// list of dotted field names with typed values), the Batch that flows between
// stages, and the Acker that turns "every copy is delivered, durably queued or
// dropped on purpose" into one acknowledgement for the source.
//
// Fields are stored flat under their dotted ECS path ("kubernetes.pod.name"),
// the way VictoriaLogs stores them: lookups are a short linear scan with no
// map allocation per event, and nested JSON objects are flattened on input and
// rebuilt on output. Top-level names that begin with "_" are internal metadata
// that external destinations never receive.
package event
