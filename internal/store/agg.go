package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Bucket is one interval of a histogram: the events with Time <= t <
// Time+interval.
type Bucket struct {
	Time  time.Time
	Count int64
}

// maxBuckets bounds a histogram's size.
const maxBuckets = 100_000

// autoIntervals are the intervals AutoInterval chooses from.
var autoIntervals = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// AutoInterval returns the smallest of 1s, 5s, 10s, 30s, 1m, 5m, 10m, 30m,
// 1h, 3h, 12h and 1d that splits [from, to) into at most target buckets
// (1d when none does).
func AutoInterval(from, to time.Time, target int) time.Duration {
	span := to.Sub(from)
	if target <= 0 {
		target = 1
	}
	for _, iv := range autoIntervals {
		if int64((span+iv-1)/iv) <= int64(target) {
			return iv
		}
	}
	return autoIntervals[len(autoIntervals)-1]
}

// Histogram counts the events matching q (Limit, Reverse and Cursor
// aside) per interval, buckets aligned on multiples of interval since the
// Unix epoch (UTC midnight for a day). Empty buckets between the first and
// last are included; without From or To the range is that of the matching
// data.
func (s *Store) Histogram(ctx context.Context, q Query, interval time.Duration) ([]Bucket, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("store: histogram interval must be positive")
	}
	pl, err := s.prepare(&q)
	if err != nil {
		return nil, err
	}
	defer pl.release()
	iv := int64(interval)
	lo, hi := pl.from, pl.to-1
	if q.From.IsZero() || q.To.IsZero() {
		// Bound the open ends by the data.
		dmin, dmax := int64(math.MaxInt64), int64(math.MinInt64)
		for _, t := range pl.targets {
			dmin, dmax = min(dmin, t.p.meta.minT), max(dmax, t.p.meta.maxT)
		}
		if dmin > dmax {
			return nil, nil
		}
		if q.From.IsZero() {
			lo = dmin
		}
		if q.To.IsZero() {
			hi = dmax
		}
	}
	if lo > hi {
		return nil, nil
	}
	first, last := floorDiv(lo, iv), floorDiv(hi, iv)
	if last-first >= maxBuckets {
		return nil, fmt.Errorf("store: histogram of %d buckets is too big (at most %d): choose a larger interval", last-first+1, maxBuckets)
	}
	n := int(last - first + 1)
	vs, err := s.scan(ctx, pl, false, 0, func() visitor {
		return &histVisitor{first: first, iv: iv, counts: make([]int64, n)}
	})
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, n)
	for i := range out {
		out[i].Time = timeOf((first + int64(i)) * iv)
	}
	for _, x := range vs {
		for i, c := range x.(*histVisitor).counts {
			out[i].Count += c
		}
	}
	return out, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

type histVisitor struct {
	first, iv int64
	counts    []int64
}

func (v *histVisitor) done() bool { return false }

func (v *histVisitor) bucket(t int64) int { return int(floorDiv(t, v.iv) - v.first) }

func (v *histVisitor) fast(t *task) bool {
	b := v.bucket(t.bh.minT)
	if b != v.bucket(t.bh.maxT) || b < 0 || b >= len(v.counts) {
		return false
	}
	v.counts[b] += int64(t.bh.rows)
	return true
}

func (v *histVisitor) visit(m *blockMatch) error {
	ts, err := m.r.timestamps()
	if err != nil {
		return err
	}
	m.each(false, func(row int) bool {
		if b := v.bucket(ts[row]); b >= 0 && b < len(v.counts) {
			v.counts[b]++
		}
		return true
	})
	return nil
}

// ValueCount is one value of a field and the number of events that have
// it.
type ValueCount struct {
	Value string
	Count int64
}

// TopValues returns the n most frequent values of field (in their text
// form; each element of an array counts) among the events matching q, most
// frequent first (ties by value), and total, the number of matching events
// (those without the field included: the denominator for percentages).
func (s *Store) TopValues(ctx context.Context, q Query, field string, n int) ([]ValueCount, int64, error) {
	pl, err := s.prepare(&q)
	if err != nil {
		return nil, 0, err
	}
	defer pl.release()
	vs, err := s.scan(ctx, pl, false, 0, func() visitor {
		return &topVisitor{field: field, counts: make(map[string]*int64)}
	})
	if err != nil {
		return nil, 0, err
	}
	counts := make(map[string]int64)
	var total int64
	for _, x := range vs {
		v := x.(*topVisitor)
		total += v.total
		for k, c := range v.counts {
			counts[k] += *c
		}
	}
	out := make([]ValueCount, 0, len(counts))
	for k, c := range counts {
		out = append(out, ValueCount{Value: k, Count: c})
	}
	slices.SortFunc(out, func(a, b ValueCount) int {
		if a.Count != b.Count {
			return cmpI64(b.Count, a.Count)
		}
		return strings.Compare(a.Value, b.Value)
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out, total, nil
}

type topVisitor struct {
	field string
	// counts holds pointers: assigning to an existing string key would
	// replace the key with the new string, which may point into a buffer
	// that is about to be reused.
	counts  map[string]*int64
	total   int64
	scratch []byte
	dictN   []int64
}

func (v *topVisitor) done() bool      { return false }
func (v *topVisitor) fast(*task) bool { return false }

func (v *topVisitor) visit(m *blockMatch) error {
	v.total += int64(m.count())
	ci := m.t.bh.col(v.field)
	if ci < 0 {
		return nil
	}
	c, err := m.r.column(ci)
	if err != nil {
		return err
	}
	if len(c.dict) > 0 {
		v.dictN = resize(v.dictN, len(c.dict))
		clear(v.dictN)
		m.each(false, func(row int) bool {
			if c.present(row) {
				v.dictN[c.idx[row]]++
			}
			return true
		})
		for i, n := range v.dictN {
			if n == 0 {
				continue
			}
			if s, ok := c.dict[i].Str(); ok {
				v.add(s, n)
			} else {
				v.scratch = appendValueText(v.scratch[:0], c.dict[i])
				v.add(bytesString(v.scratch), n)
			}
		}
		return nil
	}
	m.each(false, func(row int) bool {
		if c.present(row) {
			v.addValue(c.value(row))
		}
		return true
	})
	return nil
}

func (v *topVisitor) add(s string, n int64) {
	if c, ok := v.counts[s]; ok {
		*c += n
		return
	}
	v.counts[strings.Clone(s)] = &n
}

func (v *topVisitor) addValue(val event.Value) {
	if a, ok := val.Interface().([]any); ok {
		for _, e := range a {
			v.addValue(event.Any(e))
		}
		return
	}
	if s, ok := val.Str(); ok {
		v.add(s, 1)
		return
	}
	v.scratch = appendValueText(v.scratch[:0], val)
	v.add(bytesString(v.scratch), 1)
}

// FieldInfo describes a field seen in the events matching a query.
type FieldInfo struct {
	Name string
	// Count is the number of sampled events that have the field.
	Count int64
	// Type is "string", "int", "float", "bool", "time", "null", "json"
	// (arrays, objects) or "mixed" (several of these).
	Type string
}

// Fields lists the fields of the newest sampleLimit events matching q (all
// of them when sampleLimit <= 0), by name, @timestamp first. The sample is
// counted block by block, so it may exceed sampleLimit by up to one block.
func (s *Store) Fields(ctx context.Context, q Query, sampleLimit int) ([]FieldInfo, error) {
	pl, err := s.prepare(&q)
	if err != nil {
		return nil, err
	}
	defer pl.release()
	workers := 0
	if sampleLimit > 0 {
		workers = 1 // newest first, in order
	}
	vs, err := s.scan(ctx, pl, true, workers, func() visitor {
		return &fieldsVisitor{limit: int64(sampleLimit), fields: make(map[string]*fieldAcc)}
	})
	if err != nil {
		return nil, err
	}
	all := make(map[string]*fieldAcc)
	var rows int64
	for _, x := range vs {
		v := x.(*fieldsVisitor)
		rows += v.rows
		for name, a := range v.fields {
			b := all[name]
			if b == nil {
				b = &fieldAcc{}
				all[name] = b
			}
			b.count += a.count
			b.types |= a.types
		}
	}
	out := make([]FieldInfo, 0, len(all)+1)
	if rows > 0 {
		out = append(out, FieldInfo{Name: event.TimestampField, Count: rows, Type: "time"})
	}
	for name, a := range all {
		if name == event.TimestampField || a.count == 0 {
			continue
		}
		out = append(out, FieldInfo{Name: name, Count: a.count, Type: a.typeName()})
	}
	slices.SortFunc(out[min(1, len(out)):], func(a, b FieldInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

type fieldAcc struct {
	count int64
	types uint16 // a bit per column type
}

func (a *fieldAcc) typeName() string {
	for t := range numTypes {
		if a.types == 1<<t {
			return typeNames[t]
		}
	}
	return typeNames[typeMixed]
}

type fieldsVisitor struct {
	limit  int64
	rows   int64
	fields map[string]*fieldAcc
}

func (v *fieldsVisitor) done() bool { return v.limit > 0 && v.rows >= v.limit }

func (v *fieldsVisitor) acc(h *colHeader) *fieldAcc {
	a := v.fields[h.name]
	if a == nil {
		a = &fieldAcc{}
		v.fields[h.name] = a
	}
	a.types |= 1 << h.typ
	return a
}

func (v *fieldsVisitor) fast(t *task) bool {
	v.rows += int64(t.bh.rows)
	for i := range t.bh.cols {
		h := &t.bh.cols[i]
		v.acc(h).count += int64(h.present)
	}
	return true
}

func (v *fieldsVisitor) visit(m *blockMatch) error {
	v.rows += int64(m.count())
	for i := range m.t.bh.cols {
		h := &m.t.bh.cols[i]
		if h.enc&encSparse == 0 {
			v.acc(h).count += int64(m.count())
			continue
		}
		c, err := m.r.column(i)
		if err != nil {
			return err
		}
		a := v.acc(h)
		m.each(false, func(row int) bool {
			if c.present(row) {
				a.count++
			}
			return true
		})
	}
	return nil
}
