package probe

import (
	"slices"
	"sync"
	"time"
)

// Record is one run of a probe, as kept: when, how long, and whether its
// conditions held (and if not, which failed and what was seen).
type Record struct {
	At     time.Time
	Took   time.Duration
	OK     bool
	Reason string
}

// Bucket aggregates the runs of one probe over an hour or a day (UTC).
type Bucket struct {
	Start     time.Time
	OK, Total uint32
	SumTook   time.Duration
	MaxTook   time.Duration
}

// Availability is the share of runs that passed, or -1 when there was none.
func (b Bucket) Availability() float64 {
	if b.Total == 0 {
		return -1
	}
	return float64(b.OK) / float64(b.Total)
}

// How much history Memory keeps per probe: enough for the status page's
// 90-day bars and a two-day hourly view.
const (
	keepHours = 48
	keepDays  = 90
)

// Memory keeps, per probe, a bounded ring of raw recent records and the
// hourly and daily aggregates that status bars are drawn from. It is safe
// for concurrent use. A Saver keeps its aggregates in a store, and Restore
// brings them back.
type Memory struct {
	keep int

	mu     sync.Mutex
	series map[string]*series
	// pending aggregates the runs recorded since a Saver last took them;
	// nil without a Saver.
	pending map[span]*bucket
}

type series struct {
	ring  []Record
	next  int // where the next record goes once the ring is full
	hours [keepHours]bucket
	days  [keepDays]bucket
}

// bucket is Bucket with the start as Unix seconds, which is a third the size
// of a time.Time across a large fleet.
type bucket struct {
	start     int64
	ok, total uint32
	sum, max  time.Duration
}

// NewMemory keeps the last keep raw records of each probe.
func NewMemory(keep int) *Memory {
	return &Memory{keep: max(1, keep), series: map[string]*series{}}
}

// Record adds the run r of probe id.
func (m *Memory) Record(id string, r Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[id]
	if s == nil {
		s = &series{ring: make([]Record, 0, m.keep)}
		m.series[id] = s
	}
	if len(s.ring) < m.keep {
		s.ring = append(s.ring, r)
	} else {
		s.ring[s.next] = r
		s.next = (s.next + 1) % m.keep
	}
	sec := r.At.Unix()
	hour, day := floorDiv(sec, 3600)*3600, floorDiv(sec, 86400)*86400
	add(s.hours[:], hour, 3600, r)
	add(s.days[:], day, 86400, r)
	if m.pending != nil {
		for _, k := range []span{{id, time.Hour, hour}, {id, 24 * time.Hour, day}} {
			b := m.pending[k]
			if b == nil {
				b = &bucket{start: k.start}
				m.pending[k] = b
			}
			b.add(r)
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func add(ring []bucket, start, width int64, r Record) {
	b := &ring[int(floorDiv(start, width)%int64(len(ring)))]
	if b.start != start {
		if b.total > 0 && b.start > start {
			return // a record older than the ring keeps
		}
		*b = bucket{start: start}
	}
	b.add(r)
}

func (b *bucket) add(r Record) {
	b.total++
	if r.OK {
		b.ok++
	}
	b.sum += r.Took
	b.max = max(b.max, r.Took)
}

// merge adds o, of the same period, to b.
func (b *bucket) merge(o bucket) {
	b.ok += o.ok
	b.total += o.total
	b.sum += o.sum
	b.max = max(b.max, o.max)
}

// Restore adds the aggregates of probe id kept from before a restart: its
// hourly and daily buckets. Those older than Memory keeps are ignored.
func (m *Memory) Restore(id string, hourly, daily []Bucket) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[id]
	if s == nil {
		s = &series{ring: make([]Record, 0, m.keep)}
		m.series[id] = s
	}
	restore(s.hours[:], 3600, hourly)
	restore(s.days[:], 86400, daily)
}

func restore(ring []bucket, width int64, bs []Bucket) {
	for _, in := range bs {
		start := floorDiv(in.Start.Unix(), width) * width
		b := &ring[int(floorDiv(start, width)%int64(len(ring)))]
		if b.start != start {
			if b.total > 0 && b.start > start {
				continue
			}
			*b = bucket{start: start}
		}
		b.merge(bucket{ok: in.OK, total: in.Total, sum: in.SumTook, max: in.MaxTook})
	}
}

// Recent returns the raw records of probe id, oldest first.
func (m *Memory) Recent(id string) []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.series[id]
	if s == nil {
		return nil
	}
	return slices.Concat(s.ring[s.next:], s.ring[:s.next])
}

// Hourly returns the last n hours of probe id up to now's hour, oldest
// first; hours without a run have Total 0. n is at most 48.
func (m *Memory) Hourly(id string, now time.Time, n int) []Bucket {
	return m.buckets(id, now, min(n, keepHours), 3600, func(s *series) []bucket { return s.hours[:] })
}

// Daily returns the last n days of probe id up to now's day (UTC), oldest
// first; days without a run have Total 0. n is at most 90.
func (m *Memory) Daily(id string, now time.Time, n int) []Bucket {
	return m.buckets(id, now, min(n, keepDays), 86400, func(s *series) []bucket { return s.days[:] })
}

func (m *Memory) buckets(id string, now time.Time, n int, width int64, ring func(*series) []bucket) []Bucket {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Bucket, n)
	last := floorDiv(now.Unix(), width) * width
	s := m.series[id]
	for i := range out {
		start := last - int64(n-1-i)*width
		out[i].Start = time.Unix(start, 0).UTC()
		if s == nil {
			continue
		}
		r := ring(s)
		if b := r[int(floorDiv(start, width)%int64(len(r)))]; b.start == start {
			out[i] = Bucket{Start: out[i].Start, OK: b.ok, Total: b.total, SumTook: b.sum, MaxTook: b.max}
		}
	}
	return out
}

// Availability is the share of passing runs over buckets, or -1 when none
// ran: the status page's figure beside its 90 daily bars.
func Availability(buckets []Bucket) float64 {
	var ok, total uint64
	for _, b := range buckets {
		ok += uint64(b.OK)
		total += uint64(b.Total)
	}
	if total == 0 {
		return -1
	}
	return float64(ok) / float64(total)
}
