package lb

import (
	"context"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// reading is one answer to show stat, shared by every caller that waits for
// it: at 150 hosts draining at once on one HAProxy, each polling its server,
// a reading each would ask HAProxy for its whole stat table 1,500 times a
// second and slow its runtime API down for everyone.
type reading struct {
	// at is when the reading was asked for: it shows every change made
	// before then.
	at   time.Time
	stat stat
	err  error
	done chan struct{}
}

// readings holds the last reading of a HAProxy, the one under way, and the
// one queued to start after it, for those who need a reading asked for later
// than the one under way: however many wait, at most one reading is in flight.
type readings struct {
	mu     sync.Mutex
	last   *reading
	next   *reading
	queued *reading
}

// stat is what one answer to show stat says.
type stat struct {
	servers []Server
	traffic []fleet.Traffic
}

// read returns a reading asked for at notBefore or later:
// the last one when it is recent enough, the one under way when it was asked
// for late enough, or else the queued one. A caller whose ctx ends stops
// waiting; the reading goes on for the others.
func (h *HAProxy) read(ctx context.Context, notBefore time.Time) (stat, error) {
	rs := &h.readings
	rs.mu.Lock()
	if l := rs.last; l != nil && !l.at.Before(notBefore) {
		rs.mu.Unlock()
		return l.stat, nil
	}
	r := rs.next
	switch {
	case r == nil:
		r = &reading{at: time.Now(), done: make(chan struct{})}
		rs.next = r
		go h.ask(r)
	case r.at.Before(notBefore):
		if rs.queued == nil {
			rs.queued = &reading{done: make(chan struct{})}
		}
		r = rs.queued
	}
	rs.mu.Unlock()
	select {
	case <-r.done:
		return r.stat, r.err
	case <-ctx.Done():
		return stat{}, ctx.Err()
	}
}

// ask asks HAProxy for r, bounded by Command's own timeout, not by any
// one caller's.
func (h *HAProxy) ask(r *reading) {
	out, err := h.Command(context.Background(), "show stat")
	if err == nil {
		r.stat, err = parseStat(h.name, out)
	}
	r.err = err
	rs := &h.readings
	rs.mu.Lock()
	if err == nil {
		rs.last = r
	}
	// The queued reading starts now, so it shows every change made before
	// any of its callers asked.
	rs.next, rs.queued = rs.queued, nil
	if rs.next != nil {
		rs.next.at = time.Now()
		go h.ask(rs.next)
	}
	rs.mu.Unlock()
	close(r.done)
}
