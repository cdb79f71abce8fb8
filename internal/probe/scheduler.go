package probe

import (
	"container/heap"
	"context"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// State is what a target's recent runs say about it, once thresholds apply.
type State int

const (
	StateUnknown State = iota // not enough runs yet
	StateUp
	StateDown
)

func (s State) String() string {
	return [...]string{"unknown", "up", "down"}[s]
}

// Change is a target's state flipping.
type Change struct {
	Target   *Target
	From, To State
	At       time.Time
	// Reason is the failed condition that took it down, empty when up.
	Reason string
}

// Status is where a target stands.
type Status struct {
	ID    string
	State State
	// Since is when it entered State.
	Since time.Time
	// Streak counts the last runs in a row with the same outcome as Last.
	Streak int
	Last   Record
}

// Recorder keeps the runs of probes; *Memory is one, a store another.
type Recorder interface {
	Record(id string, r Record)
}

// ProbeFunc runs one target once; (*Prober).Probe is one.
type ProbeFunc func(ctx context.Context, t *Target) Observation

// Options configure a Scheduler.
type Options struct {
	Probe ProbeFunc
	// Concurrency bounds the probes in flight; 0 means 256.
	Concurrency int
	Recorder    Recorder
	// OnChange hears every state change, from one goroutine per target at
	// a time; it must not block for long.
	OnChange func(Change)
}

// Offset is when, within each interval of the clock, a target runs:
// spread evenly by its id, and the same on every start, so that a restart
// does not bunch a fleet's probes together nor move them around.
func Offset(id string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

// firstSlot is a target's first run at or after start, on its grid: the
// instants whose time since the zero time, modulo interval, is the
// target's Offset. The grid is the clock's, not the start's: whichever
// replica leads runs a target at the same instants, so the first run of
// a new leader, which starts once the old one has stopped acting, comes
// an interval after the old leader's last run, never sooner.
func firstSlot(start time.Time, id string, interval time.Duration) time.Time {
	due := start.Truncate(interval).Add(Offset(id, interval))
	if due.Before(start) {
		due = due.Add(interval)
	}
	return due
}

// next is the first slot of a target's fixed grid (due, due+interval, …)
// that is after now: a late run never shifts those after it, and a
// scheduler that fell far behind skips the slots it missed rather than
// running them back to back.
func next(due time.Time, interval time.Duration, now time.Time) time.Time {
	due = due.Add(interval)
	if late := now.Sub(due); late >= 0 {
		due = due.Add((late/interval + 1) * interval)
	}
	return due
}

// observe applies one run's outcome to a target's standing and reports
// whether its state flipped. From unknown, one success is enough to be up,
// while going down takes the failure threshold as from up.
func (st *Status) observe(ok bool, def *Definition) bool {
	if ok == st.Last.OK && st.Streak > 0 {
		st.Streak++
	} else {
		st.Streak = 1
	}
	switch {
	case ok && st.State == StateUnknown,
		ok && st.State == StateDown && st.Streak >= def.SuccessThreshold:
		st.State = StateUp
	case !ok && st.State != StateDown && st.Streak >= def.FailureThreshold:
		st.State = StateDown
	default:
		return false
	}
	return true
}

// Scheduler runs every target once per interval of its definition, each
// on a fixed grid spread over the interval, with bounded concurrency. A
// slow target holds only its own slot: it is not started again while
// running, and others start on time while workers are free.
//
// It uses the time package's clock; tests run it inside testing/synctest.
type Scheduler struct {
	targets []Target
	opts    Options
	sem     chan struct{}

	mu     sync.Mutex
	status []Status
	drift  driftLog

	running []atomic.Bool
	skipped atomic.Int64
}

// NewScheduler returns a scheduler for targets, which it keeps.
func NewScheduler(targets []Target, opts Options) *Scheduler {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 256
	}
	s := &Scheduler{
		targets: targets,
		opts:    opts,
		sem:     make(chan struct{}, opts.Concurrency),
		status:  make([]Status, len(targets)),
		running: make([]atomic.Bool, len(targets)),
		drift:   driftLog{samples: make([]time.Duration, 0, driftSamples)},
	}
	for i := range targets {
		s.status[i].ID = targets[i].ID
	}
	return s
}

type slot struct {
	due time.Time
	idx int
}

type slots []slot

func (q slots) Len() int           { return len(q) }
func (q slots) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q slots) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *slots) Push(x any)        { *q = append(*q, x.(slot)) }
func (q *slots) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// Run runs the targets until ctx ends, then waits for the runs in flight
// (which ctx also ends) and returns ctx's error.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if len(s.targets) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	start := time.Now()
	q := make(slots, len(s.targets))
	for i := range s.targets {
		q[i] = slot{due: firstSlot(start, s.targets[i].ID, s.targets[i].Def.Interval), idx: i}
	}
	heap.Init(&q)
	timer := time.NewTimer(time.Until(q[0].due))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		now := time.Now()
		for q[0].due.Compare(now) <= 0 {
			sl := q[0]
			if s.running[sl.idx].CompareAndSwap(false, true) {
				wg.Go(func() { s.run(ctx, sl) })
			} else {
				s.skipped.Add(1)
			}
			q[0].due = next(sl.due, s.targets[sl.idx].Def.Interval, now)
			heap.Fix(&q, 0)
		}
		timer.Reset(q[0].due.Sub(now))
	}
}

func (s *Scheduler) run(ctx context.Context, sl slot) {
	defer s.running[sl.idx].Store(false)
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	t := &s.targets[sl.idx]
	started := time.Now()
	o := s.opts.Probe(ctx, t)
	<-s.sem
	if ctx.Err() != nil {
		return // cut short by the end of the run, not by the target
	}
	ok, reason := Verdict(t.Def, &o)
	rec := Record{At: started, Took: o.Duration, OK: ok, Reason: reason}
	if s.opts.Recorder != nil {
		s.opts.Recorder.Record(t.ID, rec)
	}

	s.mu.Lock()
	s.drift.add(started.Sub(sl.due))
	st := &s.status[sl.idx]
	from := st.State
	changed := st.observe(ok, t.Def)
	to := st.State
	st.Last = rec
	if changed {
		st.Since = started
	}
	s.mu.Unlock()

	if changed && s.opts.OnChange != nil {
		s.opts.OnChange(Change{Target: t, From: from, To: to, At: started, Reason: reason})
	}
}

// Status returns where every target stands, in the order they were given.
func (s *Scheduler) Status() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.status)
}

// Stats are figures about the schedule itself.
type Stats struct {
	// Runs counts the runs finished; Skipped the slots that came while the
	// target's previous run was still going (or waiting for a worker).
	Runs, Skipped int64
	// Drift is how late runs started after their slot (waiting for a
	// worker included), over the last runs: the median, the 99th
	// percentile, and the largest since the start.
	DriftP50, DriftP99, DriftMax time.Duration
}

// Stats returns the schedule's figures so far.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Runs: s.drift.count, Skipped: s.skipped.Load(), DriftMax: s.drift.max}
	sorted := slices.Clone(s.drift.samples)
	slices.Sort(sorted)
	if n := len(sorted); n > 0 {
		st.DriftP50 = sorted[n/2]
		st.DriftP99 = sorted[min(n-1, n*99/100)]
	}
	return st
}

// driftSamples bounds the drift kept for percentiles: the last minute or
// so of a large fleet.
const driftSamples = 1 << 16

type driftLog struct {
	samples []time.Duration
	next    int
	count   int64
	max     time.Duration
}

func (d *driftLog) add(v time.Duration) {
	d.count++
	d.max = max(d.max, v)
	if len(d.samples) < cap(d.samples) {
		d.samples = append(d.samples, v)
		return
	}
	d.samples[d.next] = v
	d.next = (d.next + 1) % len(d.samples)
}
