// Package keycache is the per-key state of the rate-control functions
// (throttle, sample, dynamic_sample, suppress, dedupe): a map from the hash
// of a rendered key to a value, split into shards that each have their own
// lock, with an optional bound on the number of keys.
//
// Keys are identified by a 64-bit hash of their text (maphash, seeded per
// cache): two keys collide with a probability of about n²/2^65, 1 in 3.7
// billion for 100,000 keys. The top bits of the hash pick the shard.
//
// When a new key would push a shard past its share of the bound, the cache
// evicts an eighth of the shard at once (so a flood of new keys costs a
// constant amount per key): the entries with the smallest Stamp (set by the
// owner, e.g. the event time last seen), the least recently used first among
// equal stamps.
package keycache

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"slices"
	"sync"
)

// maxShards is the number of shards of an unbounded or large cache.
const maxShards = 64

// keysPerShard is the bound below which the cache uses fewer shards, so
// that small bounds stay close to exact.
const keysPerShard = 1024

// Entry is the state of one key.
type Entry[V any] struct {
	// V is the owner's state.
	V V
	// Stamp orders entries for eviction: smallest first. The owner sets it.
	Stamp int64
	touch uint64
}

// Shard is one part of a cache. Its methods must be called between Lock
// and Unlock.
type Shard[V any] struct {
	mu      sync.Mutex
	m       map[uint64]*Entry[V]
	seq     uint64
	cap     int
	scratch []victim
	_       [64]byte // keep the shards' locks on separate cache lines
}

type victim struct {
	stamp int64
	touch uint64
	h     uint64
}

// Cache is a sharded map from key hashes to entries. It is safe for
// concurrent use through Lock.
type Cache[V any] struct {
	shards []Shard[V]
	shift  uint
	seed   maphash.Seed
	limit  int64
}

// New returns a cache holding at most maxKeys keys (rounded up to a
// multiple of the number of shards); maxKeys < 0 means no bound.
func New[V any](maxKeys int64) *Cache[V] {
	n := maxShards
	if maxKeys >= 0 {
		n = 1
		for n < maxShards && int64(n)*keysPerShard < maxKeys {
			n *= 2
		}
	}
	c := &Cache[V]{shards: make([]Shard[V], n), shift: uint(64 - bits.TrailingZeros(uint(n))), seed: maphash.MakeSeed(), limit: maxKeys}
	for i := range c.shards {
		s := &c.shards[i]
		s.m = make(map[uint64]*Entry[V])
		if maxKeys >= 0 {
			s.cap = int((maxKeys + int64(n) - 1) / int64(n))
		}
	}
	return c
}

// Hash returns the hash of a rendered key.
func (c *Cache[V]) Hash(key []byte) uint64 { return maphash.Bytes(c.seed, key) }

// Capacity returns the most keys the cache holds (-1: no bound).
func (c *Cache[V]) Capacity() int64 {
	if c.limit < 0 {
		return -1
	}
	return int64(len(c.shards) * c.shards[0].cap)
}

// Lock locks and returns the shard of hash h.
func (c *Cache[V]) Lock(h uint64) *Shard[V] {
	s := &c.shards[h>>c.shift] // with one shard the shift is 64 and the index 0
	s.mu.Lock()
	return s
}

// Unlock unlocks the shard.
func (s *Shard[V]) Unlock() { s.mu.Unlock() }

// Get returns the entry of h, creating a zero one when absent (created is
// then true). It reports how many entries were evicted to make room.
func (s *Shard[V]) Get(h uint64) (e *Entry[V], created bool, evicted int) {
	s.seq++
	if e = s.m[h]; e != nil {
		e.touch = s.seq
		return e, false, 0
	}
	if s.cap > 0 && len(s.m) >= s.cap {
		evicted = s.evict(max(1, s.cap/8))
	}
	e = &Entry[V]{touch: s.seq}
	s.m[h] = e
	return e, true, evicted
}

// evict removes the n entries that come first in eviction order.
func (s *Shard[V]) evict(n int) int {
	v := s.scratch[:0]
	for h, e := range s.m {
		v = append(v, victim{stamp: e.Stamp, touch: e.touch, h: h})
	}
	slices.SortFunc(v, func(a, b victim) int {
		if c := cmp.Compare(a.stamp, b.stamp); c != 0 {
			return c
		}
		return cmp.Compare(a.touch, b.touch)
	})
	n = min(n, len(v))
	for _, x := range v[:n] {
		delete(s.m, x.h)
	}
	s.scratch = v[:0]
	return n
}

// Range calls fn for every entry, one shard at a time with the shard
// locked; the entry is deleted when fn returns false.
func (c *Cache[V]) Range(fn func(e *Entry[V]) (keep bool)) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for h, e := range s.m {
			if !fn(e) {
				delete(s.m, h)
			}
		}
		s.mu.Unlock()
	}
}

// Len returns the number of keys.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
