package throttle

import (
	"math"
	"slices"
)

// slot is one timeslot of a key: its start (epoch seconds) and its counter.
type slot struct {
	at, n int64
}

// keyState is Logstash's timeslot_cache for one key: the epoch of the key's
// first event (created), the newest epoch seen (latest) and the timeslots,
// sorted by start.
type keyState struct {
	created, latest int64
	slots           []slot
	inline          [2]slot
}

// hit counts one event at epoch in its timeslot and returns the timeslot's
// new count. It then drops the timeslots that start more than maxAge
// seconds before the newest one, as Logstash does after each event (so a
// very late event can land in a timeslot that is deleted right away).
func (k *keyState) hit(epoch, period, maxAge int64) int64 {
	if epoch > k.latest {
		k.latest = epoch
	}
	at := epoch - floorMod(epoch-k.created, period)
	i := len(k.slots) - 1
	for i >= 0 && k.slots[i].at > at {
		i--
	}
	var count int64
	if i >= 0 && k.slots[i].at == at {
		k.slots[i].n++
		count = k.slots[i].n
	} else {
		k.slots = slices.Insert(k.slots, i+1, slot{at: at, n: 1})
		count = 1
	}
	cut := satSub(k.slots[len(k.slots)-1].at, maxAge)
	if k.slots[0].at < cut {
		j := 1
		for j < len(k.slots) && k.slots[j].at < cut {
			j++
		}
		k.slots = k.slots[:copy(k.slots, k.slots[j:])]
	}
	return count
}

// floorMod is Ruby's %: the result has the sign of m, so an event older
// than the key's first one falls in a timeslot that starts before it.
func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// satSub is a-b without wrapping around.
func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}
