package store

import (
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/event"
)

type subscriber struct {
	patterns []string
	filter   Filter
	ch       chan Hit
	dropped  int64
}

// Subscribe delivers the events written to the indices matching indices
// (names or patterns; empty means all) that match filter, as their parts
// are flushed (live tail), in time order within a flush. The channel holds
// Options.TailBuffer hits; when it is full, events are dropped and counted,
// and the next hit delivered is preceded by a notice (a Hit with Dropped
// set to the number lost). cancel ends the subscription and closes the
// channel; so does Close. Filter.Fields is ignored: Match sees whole
// events.
func (s *Store) Subscribe(indices []string, filter Filter) (<-chan Hit, func()) {
	sub := &subscriber{patterns: slices.Clone(indices), filter: filter, ch: make(chan Hit, s.opts.TailBuffer)}
	s.subMu.Lock()
	if s.isClosed() {
		s.subMu.Unlock()
		close(sub.ch)
		return sub.ch, func() {}
	}
	s.subs[sub] = struct{}{}
	s.subMu.Unlock()
	cancel := func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			close(sub.ch)
		}
	}
	return sub.ch, cancel
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// publish hands a flushed part's rows to the subscribers of its index.
func (s *Store) publish(index string, rows []row) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	var subs []*subscriber
	for sub := range s.subs {
		if matchIndex(sub.patterns, index) {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return
	}
	var scratch []byte
	for _, r := range rows {
		if r.ev == nil {
			ev, _, err := event.DecodeBinary(r.raw)
			if err != nil {
				panic(fmt.Sprintf("store: cannot decode a buffered event: %v", err))
			}
			r.ev = &ev
		}
		id := ""
		for _, sub := range subs {
			if sub.filter.Match != nil && !sub.filter.Match(r.ev) {
				continue
			}
			if id == "" {
				var h uint64
				h, scratch = eventHash(r.ev, scratch)
				id = eventKey{t: r.t, h: h, index: index}.String()
			}
			if sub.dropped > 0 {
				select {
				case sub.ch <- Hit{Dropped: sub.dropped}:
					sub.dropped = 0
				default:
					sub.dropped++
					s.c.tailDropped.Add(1)
					continue
				}
			}
			// The rows point into the flushed write buffer, which is never
			// reused; each subscriber gets its own field slice.
			select {
			case sub.ch <- Hit{Index: index, ID: id, Event: r.ev.Clone()}:
			default:
				sub.dropped++
				s.c.tailDropped.Add(1)
			}
		}
	}
}
