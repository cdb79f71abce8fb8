package probe

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"
)

// Aggregate is one probe's runs over an hour or a day, as a Saver hands
// them to its sink.
type Aggregate struct {
	ID string
	// Width is time.Hour or 24 * time.Hour.
	Width time.Duration
	Bucket
}

// BucketSink keeps aggregates durably, adding each to what it holds for
// the same probe and period; the store is one, behind an adapter.
type BucketSink interface {
	AddBuckets(ctx context.Context, as []Aggregate) error
}

// span names one probe's bucket.
type span struct {
	id    string
	width time.Duration
	start int64
}

// Saver writes what a Memory records to a sink in batches: each Save hands
// over the runs recorded since the last one, as hourly and daily
// aggregates the sink adds up. A batch the sink refused is tried again with
// the next; a crash loses the runs of the batch under way, and never counts
// one twice.
type Saver struct {
	mem  *Memory
	sink BucketSink
}

// NewSaver has mem gather its new runs for sink from now on.
func NewSaver(mem *Memory, sink BucketSink) *Saver {
	mem.mu.Lock()
	defer mem.mu.Unlock()
	if mem.pending == nil {
		mem.pending = map[span]*bucket{}
	}
	return &Saver{mem: mem, sink: sink}
}

// Save hands the runs recorded since the last Save to the sink, in one
// call, and says how many aggregates it wrote.
func (s *Saver) Save(ctx context.Context) (int, error) {
	m := s.mem
	m.mu.Lock()
	batch := m.pending
	m.pending = map[span]*bucket{}
	m.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	keys := slices.SortedFunc(maps.Keys(batch), func(a, b span) int {
		return cmp.Or(strings.Compare(a.id, b.id), cmp.Compare(a.width, b.width), cmp.Compare(a.start, b.start))
	})
	out := make([]Aggregate, len(keys))
	for i, k := range keys {
		b := batch[k]
		out[i] = Aggregate{ID: k.id, Width: k.width, Bucket: Bucket{
			Start: time.Unix(k.start, 0).UTC(), OK: b.ok, Total: b.total, SumTook: b.sum, MaxTook: b.max}}
	}
	if err := s.sink.AddBuckets(ctx, out); err != nil {
		m.mu.Lock()
		for k, b := range batch {
			if p := m.pending[k]; p != nil {
				p.merge(*b)
			} else {
				m.pending[k] = b
			}
		}
		m.mu.Unlock()
		return 0, err
	}
	return len(out), nil
}
