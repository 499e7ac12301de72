package gen

import "math/bits"

// rng is a wyrand generator: one word of state, a multiply and a xor per
// draw. Test data needs speed and reproducibility, not cryptographic quality.
//
// Each line gets its own rng seeded from (seed, seq), so line N of a run has
// the same content whichever goroutine makes it and in whatever order.
type rng struct{ s uint64 }

func lineRNG(seed, seq uint64) rng {
	return rng{s: mix64(seed ^ mix64(seq+0x9e3779b97f4a7c15))}
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n) for 0 < n < 2^32 (Lemire's reduction,
// without the rejection step: the bias is far below what test data notices).
func (r *rng) intn(n int) int {
	return int(((r.next() >> 32) * uint64(n)) >> 32)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// skewed returns a number in [0, n) where small numbers are much more likely,
// like the users or products that dominate real traffic.
func (r *rng) skewed(n int) int {
	x := uint64(r.intn(n))
	return int(x * x / uint64(n))
}

// percent reports true with probability p/100.
func (r *rng) percent(p int) bool { return r.intn(100) < p }

// lutBits sizes the lookup tables of weighted choices: a draw is one index.
const lutBits = 12

// weighted picks items with fixed relative weights in O(1).
type weighted[T any] struct {
	items []T
	lut   [1 << lutBits]uint8
}

// choice is one item of a weighted table.
type choice[T any] struct {
	w int
	v T
}

func newWeighted[T any](cs ...choice[T]) *weighted[T] {
	if len(cs) == 0 || len(cs) > 256 {
		panic("gen: weighted table needs 1..256 items")
	}
	w := &weighted[T]{items: make([]T, len(cs))}
	total := 0
	for i, c := range cs {
		w.items[i] = c.v
		total += c.w
	}
	// Slot i goes to the item whose cumulative range holds the slot's middle.
	item, cum := 0, cs[0].w
	for i := range w.lut {
		mid := (2*i + 1) * total / (2 << lutBits)
		for mid >= cum && item < len(cs)-1 {
			item++
			cum += cs[item].w
		}
		w.lut[i] = uint8(item)
	}
	return w
}

func (w *weighted[T]) pick(r *rng) T {
	return w.items[w.lut[r.next()>>(64-lutBits)]]
}

// pickOne returns a uniformly chosen element of s.
func pickOne[T any](r *rng, s []T) T { return s[r.intn(len(s))] }
