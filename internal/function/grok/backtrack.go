package grok

import (
	"regexp/syntax"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file holds a bit-state backtracking matcher, the algorithm Go's
// regexp package uses for small programs. Go's regexp falls back to its NFA
// (a Pike VM) for programs of more than 500 instructions, and grok patterns
// are far bigger (COMBINEDAPACHELOG compiles to about 2,100 instructions,
// most of them IPv6 and host name alternatives that fail within a few
// characters). The Pike VM copies every capture slot into each new thread at
// every step; the backtracker follows one path at a time and records each
// (instruction, position) pair it has explored in a bit set, so it never
// explores one twice. Its running time is therefore bounded by the program
// size times the input length, as the NFA's is: no input makes it backtrack
// catastrophically. It finds exactly the match Go's regexp finds
// (leftmost-first, the submatches a Perl-style backtracker picks); the fuzz
// tests check that against regexp.

// maxVisited bounds the bit set (in bits: instructions × (input length +
// 1)); longer inputs go to regexp's NFA.
const maxVisited = 1 << 23

// job is a choice point: resume at pc and pos, or, for a capture
// instruction with arg set, restore the capture slot to pos.
type job struct {
	pc  uint32
	arg bool
	pos int
}

// bitState is the scratch space of one match. Programs keep them in a pool
// so that concurrent matches do not share one.
type bitState struct {
	end     int
	cap     []int
	visited []uint32
	jobs    []job
}

// backtracker matches one compiled program.
type backtracker struct {
	prog     *syntax.Prog
	anchored bool   // the program can only match at the start of the text
	prefix   string // literal text every match starts with
	maxLen   int    // longest input the bit set may cover
	pool     sync.Pool
}

func newBacktracker(prog *syntax.Prog) *backtracker {
	b := &backtracker{
		prog:     prog,
		anchored: prog.StartCond()&syntax.EmptyBeginText != 0,
		maxLen:   maxVisited/len(prog.Inst) - 1,
	}
	b.prefix, _ = prog.Prefix()
	b.pool.New = func() any { return &bitState{cap: make([]int, prog.NumCap)} }
	return b
}

// match finds the leftmost match of the program in s and writes its
// submatch positions (pairs, -1 for groups that did not take part) to dst,
// which has prog.NumCap elements. It reports false for no match. s must not
// be longer than maxLen.
func (b *backtracker) match(s string, dst []int) bool {
	st := b.pool.Get().(*bitState)
	defer b.pool.Put(st)
	st.end = len(s)
	n := (len(b.prog.Inst)*(len(s)+1) + 31) / 32
	if cap(st.visited) < n {
		st.visited = make([]uint32, n)
	} else {
		st.visited = st.visited[:n]
		clear(st.visited)
	}
	for start := 0; start <= len(s); {
		if b.prefix != "" && !b.anchored {
			i := strings.Index(s[start:], b.prefix)
			if i < 0 {
				return false
			}
			start += i
		}
		for i := range st.cap {
			st.cap[i] = -1
		}
		if b.try(st, s, uint32(b.prog.Start), start) {
			copy(dst, st.cap)
			return true
		}
		if b.anchored {
			return false
		}
		// The bit set is not cleared between start positions: a state that
		// failed from an earlier start fails from this one too, so the
		// whole search stays linear.
		if start < len(s) {
			_, w := utf8.DecodeRuneInString(s[start:])
			start += w
		} else {
			start++
		}
	}
	return false
}

// visit marks (pc, pos) as explored and reports whether it was new.
func (st *bitState) visit(pc uint32, pos int) bool {
	n := uint(int(pc)*(st.end+1) + pos)
	w, bit := n/32, uint32(1)<<(n&31)
	if st.visited[w]&bit != 0 {
		return false
	}
	st.visited[w] |= bit
	return true
}

// try runs the backtracking search from pos.
func (b *backtracker) try(st *bitState, s string, pc uint32, pos int) bool {
	insts := b.prog.Inst
	st.cap[0] = pos
	st.jobs = append(st.jobs[:0], job{pc: pc, pos: pos})
	for len(st.jobs) > 0 {
		j := st.jobs[len(st.jobs)-1]
		st.jobs = st.jobs[:len(st.jobs)-1]
		pc, pos = j.pc, j.pos
		arg := j.arg
		if !arg && !st.visit(pc, pos) {
			continue
		}
		for {
			inst := &insts[pc]
			next := true
			switch inst.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				// Try Out first, Arg when Out fails.
				st.push(insts, inst.Arg, pos, false)
				pc = inst.Out
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				if pos >= len(s) {
					next = false
					break
				}
				r, w := rune(s[pos]), 1
				if r >= utf8.RuneSelf {
					r, w = utf8.DecodeRuneInString(s[pos:])
				}
				var ok bool
				switch inst.Op {
				case syntax.InstRune:
					ok = inst.MatchRune(r)
				case syntax.InstRune1:
					ok = r == inst.Rune[0]
				case syntax.InstRuneAny:
					ok = true
				default:
					ok = r != '\n'
				}
				if !ok {
					next = false
					break
				}
				pos += w
				pc = inst.Out
			case syntax.InstCapture:
				if arg {
					// Restore the slot on the way back.
					st.cap[inst.Arg] = pos
					next = false
					break
				}
				if int(inst.Arg) < len(st.cap) {
					st.jobs = append(st.jobs, job{pc: pc, arg: true, pos: st.cap[inst.Arg]})
					st.cap[inst.Arg] = pos
				}
				pc = inst.Out
			case syntax.InstEmptyWidth:
				if !emptyOK(syntax.EmptyOp(inst.Arg), s, pos) {
					next = false
					break
				}
				pc = inst.Out
			case syntax.InstNop:
				pc = inst.Out
			case syntax.InstMatch:
				// Leftmost-first: the first match reached is the one.
				st.cap[1] = pos
				return true
			default: // InstFail
				next = false
			}
			if !next {
				break
			}
			arg = false
			if !st.visit(pc, pos) {
				break
			}
		}
	}
	return false
}

// push queues a choice point unless it was explored or cannot match.
func (st *bitState) push(insts []syntax.Inst, pc uint32, pos int, arg bool) {
	if insts[pc].Op != syntax.InstFail {
		st.jobs = append(st.jobs, job{pc: pc, arg: arg, pos: pos})
	}
}

// emptyOK reports whether the zero-width assertions op hold at pos in s.
func emptyOK(op syntax.EmptyOp, s string, pos int) bool {
	r1, r2 := rune(-1), rune(-1)
	if pos > 0 {
		r1, _ = utf8.DecodeLastRuneInString(s[:pos])
	}
	if pos < len(s) {
		r2, _ = utf8.DecodeRuneInString(s[pos:])
	}
	return op&^syntax.EmptyOpContext(r1, r2) == 0
}
