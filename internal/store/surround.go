package store

import (
	"context"
	"fmt"
	"slices"
)

// Get returns the event with the given ID.
func (s *Store) Get(ctx context.Context, id string) (Hit, error) {
	k, err := parseID(id)
	if err != nil {
		return Hit{}, err
	}
	q := Query{Indices: []string{k.index}, From: timeOf(k.t), To: timeOf(k.t + 1), Limit: MaxLimit, Reverse: true}
	res, err := s.Search(ctx, q)
	if err != nil {
		return Hit{}, err
	}
	seen := 0
	for _, h := range res.Hits {
		hk, _ := parseID(h.ID)
		if hk.h == k.h {
			if seen == k.ord {
				return h, nil
			}
			seen++
		}
	}
	return Hit{}, fmt.Errorf("%w: %s", ErrNotFound, id)
}

// Surrounding returns the event with the given ID with up to before events
// just before it and up to after events just after it in the same index,
// oldest first.
func (s *Store) Surrounding(ctx context.Context, id string, before, after int) ([]Hit, error) {
	anchor, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	k, _ := parseID(anchor.ID)
	var out []Hit
	if before > 0 {
		res, err := s.Search(ctx, Query{Indices: []string{k.index}, Limit: min(before, MaxLimit), Cursor: anchor.ID})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Hits...)
		slices.Reverse(out)
	}
	out = append(out, anchor)
	if after > 0 {
		res, err := s.Search(ctx, Query{Indices: []string{k.index}, Limit: min(after, MaxLimit), Reverse: true, Cursor: anchor.ID})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Hits...)
	}
	return out, nil
}
