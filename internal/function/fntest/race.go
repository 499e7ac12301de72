//go:build race

package fntest

// RaceEnabled is set under -race, where sync.Pool drops items at random:
// allocation tests skip or relax their checks then.
const RaceEnabled = true
