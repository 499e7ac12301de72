//go:build race

package jsonparse

// raceEnabled is set under -race, where sync.Pool drops items at random.
const raceEnabled = true
