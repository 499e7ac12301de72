// Package function holds the pipeline function plugins, one per folder.
// Each folder exports a Spec; internal/plugins registers them.
package function
