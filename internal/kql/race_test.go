//go:build race

package kql

// raceEnabled is set under -race, where sync.Pool drops items at random and
// allocation counts are meaningless.
const raceEnabled = true
