//go:build race

package json

// raceEnabled is set under -race, where sync.Pool drops items at random.
const raceEnabled = true
