//go:build race

package kv

// raceEnabled is set under -race, where sync.Pool drops items at random.
const raceEnabled = true
