//go:build !race

package kql

const raceEnabled = false
