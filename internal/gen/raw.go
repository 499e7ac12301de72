package gen

import "time"

// rawGen makes plain text lines of exactly Options.Size bytes:
//
//	2006-01-02T15:04:05.000Z INFO id=RUN-SEQ lorem words to fill the line…
//
// The filler is cut from a fixed corpus of words at a random offset, so
// lines differ without costing more than a copy.
type rawGen struct {
	o Options
}

// corpus is the filler text: 64 KiB of words, built once.
var corpus = func() []byte {
	vocab := []string{
		"request", "handled", "queue", "worker", "batch", "flush", "segment", "commit", "retry",
		"backoff", "cache", "miss", "index", "shard", "lease", "renewed", "timeout", "client",
		"server", "session", "token", "upstream", "latency", "bytes", "records", "offset",
		"checkpoint", "merge", "compaction", "snapshot", "replica", "leader", "follower", "sync",
		"the", "a", "of", "to", "in", "for", "on", "with", "after", "before", "while", "and",
	}
	vocab = append(vocab, words...)
	vocab = append(vocab, services...)
	r := rng{s: 42}
	b := make([]byte, 0, 64<<10+32)
	for len(b) < 64<<10 {
		b = append(b, vocab[r.intn(len(vocab))]...)
		b = append(b, ' ')
	}
	return b[:64<<10]
}()

// corpusWords holds the offset of every word in corpus, so that filler
// starts on a word.
var corpusWords = func() []int32 {
	var w []int32
	for i := 1; i < len(corpus)-1; i++ {
		if corpus[i-1] == ' ' {
			w = append(w, int32(i))
		}
	}
	return w
}()

func newRaw(o Options) Generator { return &rawGen{o: o} }

// Append implements Generator.
func (g *rawGen) Append(dst []byte, seq uint64, now time.Time) []byte {
	r := lineRNG(g.o.Seed, seq)
	start := len(dst)
	dst = appendRFC3339(dst, now, 3)
	dst = append(dst, ' ')
	dst = append(dst, levels.pick(&r).upper...)
	dst = append(dst, " id="...)
	dst = appendID(dst, g.o.RunID, seq)
	need := g.o.Size - (len(dst) - start)
	if need <= 0 {
		return dst
	}
	dst = append(dst, ' ')
	need--
	for need > 0 {
		off := int(corpusWords[r.intn(len(corpusWords))])
		n := min(need, len(corpus)-off)
		dst = append(dst, corpus[off:off+n]...)
		need -= n
	}
	// Receivers trim trailing blanks, which would change the line's size.
	if dst[len(dst)-1] == ' ' {
		dst[len(dst)-1] = '.'
	}
	return dst
}
