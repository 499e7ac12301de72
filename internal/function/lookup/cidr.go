package lookup

import (
	"encoding/binary"
	"net/netip"
)

// cidrIndex finds the longest prefix that contains an address. It holds a
// binary trie per address family: node i's children are the prefixes one
// bit longer, and a node carries the row of the prefix that ends there, if
// any. A lookup walks at most 32 (IPv4) or 128 (IPv6) nodes, following the
// address's bits and remembering the last row it passed, and stops at the
// first missing child; the cost does not grow with the number of prefixes.
// Nodes live in one slice and link by index, which keeps the trie compact
// and cheap for the garbage collector.
type cidrIndex struct {
	v4, v6 prefixTrie
}

type prefixTrie struct {
	nodes []trieNode
}

type trieNode struct {
	kid [2]int32 // 0: no child (the root, node 0, is nobody's child)
	row int32    // -1: no prefix ends here
}

func newCIDRIndex() *cidrIndex {
	return &cidrIndex{
		v4: prefixTrie{nodes: []trieNode{{row: -1}}},
		v6: prefixTrie{nodes: []trieNode{{row: -1}}},
	}
}

// addrBits returns the address as 128 bits, most significant first: an
// IPv4 address takes the top 32.
func addrBits(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		b := a.As4()
		return uint64(binary.BigEndian.Uint32(b[:])) << 32, 0
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// insert adds a masked prefix. The first row inserted for a prefix keeps
// it: like exact keys, the first row of a duplicate wins.
func (x *cidrIndex) insert(p netip.Prefix, row int32) {
	t := &x.v6
	if p.Addr().Is4() {
		t = &x.v4
	}
	hi, lo := addrBits(p.Addr())
	w, n := hi, int32(0)
	for i := range p.Bits() {
		if i == 64 {
			w = lo
		}
		b := w >> 63
		w <<= 1
		next := t.nodes[n].kid[b]
		if next == 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{row: -1})
			t.nodes[n].kid[b] = next
		}
		n = next
	}
	if t.nodes[n].row < 0 {
		t.nodes[n].row = row
	}
}

// lookup returns the row of the longest prefix containing a. IPv4-mapped
// IPv6 addresses (::ffff:10.1.2.3) are looked up as IPv4, and zones are
// ignored.
func (x *cidrIndex) lookup(a netip.Addr) (int32, bool) {
	t, bits := &x.v6, 128
	if a.Is4In6() {
		a = a.Unmap()
	}
	if a.Is4() {
		t, bits = &x.v4, 32
	}
	hi, lo := addrBits(a)
	nodes := t.nodes
	best, n, w := int32(-1), int32(0), hi
	for i := 0; ; i++ {
		if r := nodes[n].row; r >= 0 {
			best = r
		}
		if i == bits {
			break
		}
		if i == 64 {
			w = lo
		}
		n = nodes[n].kid[w>>63]
		w <<= 1
		if n == 0 {
			break
		}
	}
	return best, best >= 0
}
