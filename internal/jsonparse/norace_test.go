//go:build !race

package jsonparse

const raceEnabled = false
