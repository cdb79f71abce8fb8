package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// pace is how many hosts a rollout keeps in maintenance at once: its width.
// The plan's max_parallel is a ceiling, not a target. Like TCP's congestion
// window, the width starts small, at ten hosts as TCP's first window is ten
// segments (or max_parallel, when it is less: a small rollout runs as its
// plan says), grows by one for every host that ends its maintenance while
// the fleet is clean, which doubles it every round of hosts, and halves on
// trouble (customers' errors, a partner gone down, a load balancer slow to
// answer), at most once a window, so that one burst halves it once. A large
// rollout so finds out how the fleet copes before it takes 150 hosts.
type pace struct {
	max, width int
	window     time.Duration
	// cut is when the width was last halved.
	cut time.Time
	// why says why the width stands where it is.
	why string
}

// initialWidth is the width a rollout starts at, unless its max_parallel
// is less.
const initialWidth = 10

func newPace(maxParallel int, window time.Duration) *pace {
	w := min(maxParallel, initialWidth)
	p := &pace{max: maxParallel, width: w, window: window,
		why: "ten hosts to begin with, one more for every host that ends while customers see no errors"}
	if w == maxParallel {
		p.why = "the plan's max_parallel, as customers see no errors"
	}
	return p
}

// grow widens by one after a host ended clean, unless the last cut is
// younger than a window; it says whether the width reached the ceiling.
func (p *pace) grow(now time.Time) (full bool) {
	if p.width >= p.max || now.Sub(p.cut) < p.window {
		return false
	}
	p.width++
	p.why = "one more for every host that ends while customers see no errors"
	if p.width == p.max {
		p.why = "the plan's max_parallel, as customers see no errors"
		return true
	}
	return false
}

// trouble halves the width, once a window, and says whether it did.
func (p *pace) trouble(now time.Time, why string) (halved bool) {
	if !p.cut.IsZero() && now.Sub(p.cut) < p.window {
		return false
	}
	p.cut = now
	if p.width == 1 {
		p.why = "one at a time as " + why
		return false
	}
	p.why = "halved as " + why
	p.width /= 2
	return true
}

// sample is one reading of a backend's counters.
type sample struct {
	at               time.Time
	requests, errors int64
}

// backendKey names a backend on its load balancer.
type backendKey struct{ lb, backend string }

// customers watches what the customers of a rollout's groups see: the share
// of their requests answered 5xx on each backend, over the plan's window.
type customers struct {
	cfg     fleet.CustomerErrors
	samples map[backendKey][]sample
	// heldSince is when the hold began, zero when there is none; clean is
	// when the shares last went back under pause_above during it.
	heldSince, clean time.Time
	held             string
}

func newCustomers(cfg fleet.CustomerErrors) *customers {
	return &customers{cfg: cfg, samples: map[backendKey][]sample{}}
}

// verdict is what the customers' errors say to the rollout. Hold, when set,
// holds it: no host starts; it names the backend, in the same words while
// the hold lasts. Halt halts it. Trouble, when set, is the news of a hold,
// with its figures, which also narrows the width; Cleared says a hold just
// ended.
type verdict struct {
	Hold, Halt, Trouble string
	Cleared             bool
}

// observe adds a reading of the backends (only those of the rollout's
// groups) and says what it means now.
func (c *customers) observe(now time.Time, traffic []fleet.Traffic) verdict {
	var worst struct {
		share float64
		// which names the backend, said the same while it lasts; why
		// gives the figures.
		which, why string
		halts      bool
	}
	for _, t := range traffic {
		k := backendKey{t.LoadBalancer, t.Backend}
		s := append(c.samples[k], sample{now, t.Requests, t.ServerErrors})
		if n := len(s); n > 1 && (t.Requests < s[n-2].requests || t.ServerErrors < s[n-2].errors) {
			// The load balancer restarted: its counters begin again.
			s = s[n-1:]
		}
		// Keep the newest sample at least a window old, as the base.
		for len(s) > 2 && !s[1].at.After(now.Add(-c.cfg.Window)) {
			s = s[1:]
		}
		c.samples[k] = s
		base, last := s[0], s[len(s)-1]
		reqs, errs := last.requests-base.requests, last.errors-base.errors
		if reqs <= 0 || errs <= 0 {
			continue
		}
		share := float64(errs) / float64(reqs)
		if share <= float64(c.cfg.PauseAbove) || share <= worst.share {
			continue
		}
		worst.share = share
		worst.which = fmt.Sprintf("backend %s on %s answers 5xx to its customers", t.Backend, t.LoadBalancer)
		worst.why = fmt.Sprintf("backend %s on %s answered 5xx to %s of %d requests in the last %s",
			t.Backend, t.LoadBalancer, percent(share), reqs, last.at.Sub(base.at).Round(time.Second))
		worst.halts = share > float64(c.cfg.HaltAbove) && errs >= fleet.MinErrors
	}
	var v verdict
	switch {
	case worst.halts:
		v.Halt = fmt.Sprintf("customers see errors: %s, more than the %s the plan allows (customer_errors.halt_above)", worst.why, percent(float64(c.cfg.HaltAbove)))
	case worst.why != "" && c.heldSince.IsZero():
		c.heldSince, c.clean, c.held = now, time.Time{}, worst.which
		v.Hold, v.Trouble = c.held, worst.why
	case worst.why != "":
		c.clean, c.held = time.Time{}, worst.which
		v.Hold = c.held
		if now.Sub(c.heldSince) >= c.cfg.HaltAfter {
			v.Halt = fmt.Sprintf("customers' errors held the rollout for %s (customer_errors.halt_after): %s", now.Sub(c.heldSince).Round(time.Second), worst.why)
		}
	case c.heldSince.IsZero():
	case c.clean.IsZero():
		c.clean = now
		v.Hold = c.held
	case now.Sub(c.clean) >= c.cfg.ClearFor:
		c.heldSince, c.held, v.Cleared = time.Time{}, "", true
	default:
		v.Hold = c.held
	}
	return v
}

// percent writes a share for people: two significant digits under 10 %.
func percent(share float64) string {
	p := share * 100
	switch {
	case p >= 10:
		return strconv.FormatFloat(p, 'f', 0, 64) + " %"
	case p >= 1:
		return strings.TrimSuffix(strconv.FormatFloat(p, 'f', 1, 64), ".0") + " %"
	}
	return strconv.FormatFloat(p, 'g', 2, 64) + " %"
}

// slowAnswer is how long a load balancer may take to answer show stat
// before the rollout takes it for a load balancer at its limits. The
// decision does not wait longer for it: the reading goes on, shared, and
// the next decision finds it.
const slowAnswer = time.Second

// watch reads what the load balancers of the rollout's groups counted for
// their backends, and says when one of them is slow to answer or does not.
func (ru *run) watch(ctx context.Context, inv *fleet.Inventory, top *Topology) (traffic []fleet.Traffic, slow string) {
	if ru.Balancer == nil {
		return nil, ""
	}
	backends := map[string]map[string]bool{}
	for _, g := range top.Groups {
		if ig := inv.Group(g.Name); ig != nil && ig.Balancer != nil && inv.LoadBalancer(ig.Balancer.LoadBalancer) != nil {
			m := ig.Balancer
			if backends[m.LoadBalancer] == nil {
				backends[m.LoadBalancer] = map[string]bool{}
			}
			backends[m.LoadBalancer][m.Backend] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(backends)) {
		lctx, cancel := context.WithTimeout(ctx, slowAnswer)
		all, err := ru.Balancer(name).Traffic(lctx)
		cancel()
		if err != nil {
			if slow == "" {
				slow = fmt.Sprintf("load balancer %s did not answer show stat within %s", name, slowAnswer)
				if ctx.Err() == nil && lctx.Err() == nil {
					slow = fmt.Sprintf("load balancer %s could not be read (%v)", name, err)
				}
			}
			continue
		}
		for _, t := range all {
			if backends[name][t.Backend] {
				traffic = append(traffic, t)
			}
		}
	}
	return traffic, slow
}

// ended grows the rollout's width after a host's maintenance ended well
// while its customers saw no errors.
func (ru *run) ended(ctx context.Context, host string) {
	ru.mu.Lock()
	var ev *Event
	for _, h := range ru.r.Hosts {
		if h.Host == host && h.State == fleet.HostDone && ru.customers.heldSince.IsZero() && ru.pace.grow(ru.Now()) {
			ev = &Event{Rollout: ru.id, Kind: KindPace, Message: fmt.Sprintf("rollout %s takes %d hosts at once, its max_parallel: customers see no errors", ru.id, ru.pace.width)}
		}
	}
	ru.mu.Unlock()
	if ev != nil {
		ru.emit(ctx, *ev)
	}
}

// steer reads the customers' errors and the fleet's trouble into the pace
// and the actions; ru.mu is held.
func (ru *run) steer(down map[string]string, held []fleet.Lease, traffic []fleet.Traffic, slow string, a *actions) {
	now := ru.Now()
	v := ru.customers.observe(now, traffic)
	a.hold, a.halt = v.Hold, v.Halt
	r := ru.r
	if v.Hold != "" && v.Trouble != "" {
		a.events = append(a.events, Event{Rollout: r.ID, Kind: KindPace, Message: fmt.Sprintf("rollout %s holds: customers see errors: %s; no host starts until they stay under %s for %s", r.ID, v.Trouble, percent(float64(ru.customers.cfg.PauseAbove)), ru.customers.cfg.ClearFor)})
	}
	if v.Cleared {
		a.events = append(a.events, Event{Rollout: r.ID, Kind: KindPace, Message: fmt.Sprintf("rollout %s goes on: customers' errors stayed under %s for %s", r.ID, percent(float64(ru.customers.cfg.PauseAbove)), ru.customers.cfg.ClearFor)})
	}
	// A host of the rollout's groups that goes down by itself (not one of
	// the rollout's own, nor one leased out) is a partner that may not
	// cope with the load its drained twins shed.
	ours := map[string]bool{}
	for _, h := range r.Hosts {
		if h.State != fleet.HostPending {
			ours[h.Host] = true
		}
	}
	for _, l := range held {
		ours[l.Host] = true
	}
	fallen, news := map[string]bool{}, ""
	for _, h := range slices.Sorted(maps.Keys(down)) {
		if ours[h] {
			continue
		}
		fallen[h] = true
		if ru.fallen != nil && !ru.fallen[h] && news == "" {
			news = fmt.Sprintf("%s went down (%s)", h, down[h])
		}
	}
	ru.fallen = fallen
	for _, why := range []string{v.Trouble, slow, news} {
		if why == "" {
			continue
		}
		before := ru.pace.width
		if ru.pace.trouble(now, why) {
			a.events = append(a.events, Event{Rollout: r.ID, Kind: KindPace, Message: fmt.Sprintf("rollout %s narrows from %d to %d hosts at once: %s", r.ID, before, ru.pace.width, why)})
		}
	}
}
