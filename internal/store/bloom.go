package store

// Bloom filters: one per column per block, over the tokens (Tokenize) of
// the text form of the column's values. A filter is a whole number of
// 64-bit words, stored little endian; bloomBitsPerToken bits per distinct
// token (at least one word); bloomHashes bit positions per token by double
// hashing of the token's 64-bit hash h:
//
//	a = h, b = (h>>32 | h<<32) | 1, m = 64*words
//	position i (0 <= i < bloomHashes) = (a + i*b) mod m
//	bit position p is bit p%64 of word p/64
//
// With 16 bits and 6 hashes per token the false positive rate is ~0.1%.
const (
	bloomBitsPerToken = 16
	bloomHashes       = 6
)

// bloomWords is the filter size in words for n distinct tokens.
func bloomWords(n int) int {
	return max(1, (n*bloomBitsPerToken+63)/64)
}

// bloomBuild appends the filter for the distinct token hashes to dst (as
// little-endian words) and returns it.
func bloomBuild(dst []byte, hashes []uint64) []byte {
	words := bloomWords(len(hashes))
	off := len(dst)
	dst = append(dst, make([]byte, words*8)...)
	bits := dst[off:]
	m := uint64(words) * 64
	for _, h := range hashes {
		a, b := h, (h>>32|h<<32)|1
		for i := uint64(0); i < bloomHashes; i++ {
			p := (a + i*b) % m
			bits[p/8] |= 1 << (p % 8)
		}
	}
	return dst
}

// Bit p of word p/64 of little-endian words is bit p%8 of byte p/8, so the
// filters are built and probed as bytes, without conversion.

// bloomHas reports whether the filter in bits (little-endian words) may
// contain the token with hash h. An empty filter contains nothing.
func bloomHas(bits []byte, h uint64) bool {
	if len(bits) < 8 {
		return false
	}
	m := uint64(len(bits)/8) * 64
	a, b := h, (h>>32|h<<32)|1
	for i := uint64(0); i < bloomHashes; i++ {
		p := (a + i*b) % m
		if bits[p/8]&(1<<(p%8)) == 0 {
			return false
		}
	}
	return true
}
