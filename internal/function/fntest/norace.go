//go:build !race

package fntest

// RaceEnabled is set under -race (see race.go).
const RaceEnabled = false
