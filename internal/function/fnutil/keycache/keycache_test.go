package keycache

import (
	"fmt"
	"sync"
	"testing"
)

func get(c *Cache[int], key string) (*Entry[int], bool, int) {
	h := c.Hash([]byte(key))
	s := c.Lock(h)
	defer s.Unlock()
	return s.Get(h)
}

func TestBoundAndEvictionOrder(t *testing.T) {
	c := New[int](4) // one shard of 4; evicts max(1, 4/8) = 1 at a time
	if c.Capacity() != 4 {
		t.Fatalf("capacity %d", c.Capacity())
	}
	for i, k := range []string{"a", "b", "c", "d"} {
		e, created, ev := get(c, k)
		if !created || ev != 0 {
			t.Fatalf("%s: created=%v evicted=%d", k, created, ev)
		}
		e.V = i
		e.Stamp = 10
	}
	// b gets an older stamp: evicted first even though a is least recent.
	e, _, _ := get(c, "b")
	e.Stamp = 5
	if _, created, ev := get(c, "e"); !created || ev != 1 {
		t.Fatalf("e: created=%v evicted=%d", created, ev)
	}
	// b comes back as a new entry, evicting e, whose stamp (0) is smallest.
	if _, created, _ := get(c, "b"); !created {
		t.Error("b survived; it had the oldest stamp")
	}
	if c.Len() != 4 {
		t.Errorf("len %d, want 4", c.Len())
	}
	for _, k := range []string{"a", "c", "d"} {
		if e, created, _ := get(c, k); created || e.Stamp != 10 {
			t.Errorf("%s lost (created=%v)", k, created)
		}
	}
}

func TestLRUWithEqualStamps(t *testing.T) {
	c := New[int](3)
	for _, k := range []string{"a", "b", "c"} {
		get(c, k)
	}
	get(c, "a") // a is now the most recent
	get(c, "d") // evicts b
	if _, created, _ := get(c, "a"); created {
		t.Error("a evicted")
	}
	if _, created, _ := get(c, "b"); !created {
		t.Error("b kept; it was least recently used")
	}
}

func TestUnboundedAndRange(t *testing.T) {
	c := New[int](-1)
	if c.Capacity() != -1 || len(c.shards) != maxShards {
		t.Fatalf("capacity %d, %d shards", c.Capacity(), len(c.shards))
	}
	for i := 0; i < 10000; i++ {
		e, _, ev := get(c, fmt.Sprint(i))
		if ev != 0 {
			t.Fatal("unbounded cache evicted")
		}
		e.V = i
	}
	c.Range(func(e *Entry[int]) bool { return e.V%2 == 0 })
	if c.Len() != 5000 {
		t.Errorf("len %d after deleting odd values", c.Len())
	}
}

func TestLargeBoundIsSharded(t *testing.T) {
	c := New[int](100000)
	if len(c.shards) != maxShards {
		t.Errorf("%d shards", len(c.shards))
	}
	if got := c.Capacity(); got < 100000 || got > 100000+maxShards {
		t.Errorf("capacity %d", got)
	}
	for i := 0; i < 300000; i++ {
		get(c, fmt.Sprint(i))
	}
	if n := c.Len(); int64(n) > c.Capacity() || n < 80000 {
		t.Errorf("%d keys kept of capacity %d", n, c.Capacity())
	}
}

func TestConcurrent(t *testing.T) {
	c := New[int](1000)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				k := []byte(fmt.Sprint(i % 50))
				h := c.Hash(k)
				s := c.Lock(h)
				e, _, _ := s.Get(h)
				e.V++
				s.Unlock()
			}
		}(w)
	}
	wg.Wait()
	total := 0
	c.Range(func(e *Entry[int]) bool { total += e.V; return true })
	if total != 8*5000 {
		t.Errorf("counted %d, want %d", total, 8*5000)
	}
}
