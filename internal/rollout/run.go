package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// runDeps is what a rollout's run needs of the world: the engine's
// options, which it reads and never changes, and two of the engine's
// own doings.
type runDeps struct {
	Options
	// emit records an event; the run holds no lock when it calls it.
	emit func(ctx context.Context, e Event)
	// spawn runs a host's worker; the engine waits for them as it stops.
	spawn func(func())
}

// run is one rollout in the engine. Its loop owns the decisions; host
// workers report progress through save and their end through results.
type run struct {
	runDeps
	id       string
	plan     *fleet.Plan
	commands chan order
	results  chan fleet.HostRun
	done     chan struct{}

	mu      sync.Mutex // guards r, waiting, down, alerts and pausedByAlerts
	r       *fleet.Rollout
	waiting map[string]string
	down    map[string]string
	// blockedSince is when the rollout last became blocked; zero when not.
	blockedSince time.Time
	// alerts are the alerts matching the plan's pause_on_alerts that fire,
	// by fingerprint (Engine.OnAlerts); pausedByAlerts says that they
	// paused the rollout, and nothing changed its state since.
	alerts         map[string]labels.Set
	pausedByAlerts bool
	// pace is the rollout's width; customers, what its customers see; and
	// fallen, the hosts of its groups found down by themselves, whose
	// fall is trouble for the width (see apply).
	pace      *pace
	customers *customers
	fallen    map[string]bool
}

func (ru *run) lastDown() map[string]string {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	return ru.down
}

func (ru *run) overlap(other *fleet.Rollout) string {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	mine := map[string]bool{}
	for _, h := range ru.r.Hosts {
		mine[h.Host] = true
	}
	for _, h := range other.Hosts {
		if mine[h.Host] {
			return h.Host
		}
	}
	return ""
}

func (ru *run) loop(ctx context.Context) {
	tick := time.NewTicker(ru.Tick)
	defer tick.Stop()
	// Hosts caught inside a step by a restart go on from that step; every
	// step is safe to run again (see hostWorker).
	ru.mu.Lock()
	var active []fleet.HostRun
	for _, h := range ru.r.Hosts {
		if h.State.Active() {
			active = append(active, h)
		}
	}
	ru.mu.Unlock()
	for _, h := range active {
		ru.work(ctx, h)
	}
	for {
		if ctx.Err() != nil {
			return
		}
		ended, err := ru.decide(ctx)
		if err != nil {
			ru.Logger.Error("rollout cannot record its progress; it stops here and resumes at the next start", "rollout", ru.id, "err", err)
			return
		}
		if ended {
			return
		}
		select {
		case <-ctx.Done():
			return
		case h := <-ru.results:
			ru.ended(ctx, h.Host)
		case o := <-ru.commands:
			ru.order(ctx, o)
		case <-tick.C:
		}
	}
}

// actions are what a decision did under the run's lock, to finish outside
// it: the events to emit, then the hosts to start workers for, in that
// order, so that a host's first step never reports before its start.
type actions struct {
	events []Event
	work   []fleet.HostRun
	ended  bool
	// hold and halt are what the customers' errors say (see steer).
	hold, halt string
}

// decide asks the scheduler what to do and does it.
func (ru *run) decide(ctx context.Context) (ended bool, err error) {
	inv := ru.Inventory()
	ru.mu.Lock()
	names := make([]string, len(ru.r.Hosts))
	for i, h := range ru.r.Hosts {
		names[i] = h.Host
	}
	ru.mu.Unlock()
	top := NewTopology(inv, names)
	var down map[string]string
	if ru.Down != nil {
		down = ru.Down(ctx, topologyHosts(inv, top, names))
	}

	held, err := ru.Store.Leases(ctx)
	if err != nil {
		return false, err
	}
	traffic, slow := ru.watch(ctx, inv, top)

	ru.mu.Lock()
	var a actions
	err = releaseStale(ctx, ru.Store, ru.r, held)
	if err == nil {
		ru.steer(down, held, traffic, slow, &a)
		err = ru.apply(ctx, top, down, held, &a)
	}
	ru.mu.Unlock()
	// What was done before a failure to record is told and goes on.
	for _, ev := range a.events {
		ru.emit(ctx, ev)
	}
	for _, h := range a.work {
		ru.work(ctx, h)
	}
	return a.ended, err
}

// apply decides and records the decision in the store; ru.mu is held.
// down is what the health says; held, the ledger's leases, of which other
// holders' count as down too.
func (ru *run) apply(ctx context.Context, top *Topology, down map[string]string, held []fleet.Lease, a *actions) error {
	ru.down = othersOut(down, held, ru.id)
	r, p := ru.r, ru.plan
	now := ru.Now().UTC()
	in := newInput(p, r.State, r.Hosts, ru.down)
	in.WindowOpen = r.Urgent || p.Window == nil || p.Window.Open(now)
	in.Width, in.WidthWhy, in.Hold, in.Halt = ru.pace.width, ru.pace.why, a.hold, a.halt
	if !ru.blockedSince.IsZero() {
		in.BlockedFor = now.Sub(ru.blockedSince)
	}
	d := Decide(top, in)
	switch {
	case !d.Blocked:
		ru.blockedSince = time.Time{}
	case ru.blockedSince.IsZero():
		ru.blockedSince = now
		a.events = append(a.events, Event{Rollout: r.ID, Kind: KindBlocked, Message: fmt.Sprintf("rollout %s is blocked: no host can start (%s); it halts if this lasts %s", r.ID, firstWait(r.Hosts, d.Waiting), p.Strategy.BlockedTimeout)})
	}
	index := map[string]int{}
	for i, h := range r.Hosts {
		index[h.Host] = i
	}
	for _, name := range d.Start {
		if refused, err := ru.lease(ctx, top, name, down, now); err != nil {
			return err
		} else if refused != "" {
			d.Waiting[name] = refused
			continue
		}
		h := &r.Hosts[index[name]]
		h.State, h.Step, h.StartedAt = fleet.HostRunning, 0, now
		if err := ru.Store.SaveHostRun(ctx, r.ID, *h); err != nil {
			return err
		}
		ev := Event{Rollout: r.ID, Host: name, Kind: KindHostStarted, Run: *h, Message: fmt.Sprintf("%s starts (wave %d)", name, h.Wave)}
		ev.Maintenance, ev.Step = stepMark(p.Steps, -1)
		a.events = append(a.events, ev)
		a.work = append(a.work, *h)
	}
	for _, name := range d.Rollback {
		h := &r.Hosts[index[name]]
		// A failed host is out already, under its lease; a done one
		// comes out again, under a new one.
		if h.State == fleet.HostDone {
			if refused, err := ru.lease(ctx, top, name, down, now); err != nil {
				return err
			} else if refused != "" {
				d.Waiting[name] = refused
				continue
			}
		}
		reason := "it failed"
		if !h.Failed {
			reason = "the rollout rolls every host back"
		}
		h.State, h.Step, h.BootID, h.Issued = fleet.HostRollingBack, 0, "", false
		if len(p.Rollback) == 0 {
			h.State, h.EndedAt = fleet.HostStuck, now
			reason += "; the plan has no rollback steps, so it needs a human"
		}
		if err := ru.Store.SaveHostRun(ctx, r.ID, *h); err != nil {
			return err
		}
		ev := Event{Rollout: r.ID, Host: name, Kind: KindHostRollback, Run: *h, Maintenance: MaintenanceEnds, Message: fmt.Sprintf("%s rolls back: %s", name, reason)}
		if h.State == fleet.HostRollingBack {
			ev.Maintenance, ev.Step = stepMark(p.Rollback, -1)
			a.work = append(a.work, *h)
		}
		a.events = append(a.events, ev)
	}
	if !maps.Equal(d.Waiting, ru.waiting) {
		for _, h := range slices.Sorted(maps.Keys(d.Waiting)) {
			if reason := d.Waiting[h]; ru.waiting[h] != reason {
				a.events = append(a.events, Event{Rollout: r.ID, Host: h, Kind: KindHostWaiting, Message: fmt.Sprintf("%s waits: %s", h, reason)})
			}
		}
		ru.waiting = d.Waiting
	}
	if d.State != r.State {
		ru.pausedByAlerts = false
		r.State, r.Reason, r.UpdatedAt = d.State, d.Reason, now
		if d.State.Ended() {
			r.EndedAt = now
		}
		if err := ru.Store.UpdateRollout(ctx, r); err != nil {
			return err
		}
		a.events = append(a.events, Event{Rollout: r.ID, Kind: KindState, State: d.State, Message: fmt.Sprintf("rollout %s is %s: %s", r.ID, d.State, d.Reason)})
	}
	a.ended = d.State.Ended()
	return nil
}

// lease takes host's lease from the ledger before the rollout takes the
// host out, checking its groups' budgets against every lease held, on any
// daemon, and the health down reports. It returns why the ledger refused
// (another rollout or an operator took what the budget allowed since the
// decision), or an error when it could not ask.
func (ru *run) lease(ctx context.Context, top *Topology, host string, down map[string]string, now time.Time) (refused string, err error) {
	l := fleet.Lease{Host: host, Kind: fleet.LeaseRollout, Holder: ru.id, Reason: ru.plan.Name, Since: now}
	_, err = ru.Store.GrantLease(ctx, l, func(held []fleet.Lease) error { return Admit(top, host, held, down) })
	if fleet.KindOf(err) == fleet.KindConflict {
		return err.Error(), nil
	}
	return "", err
}

// order is a command, who gave it, and whether it comes from the alerts
// (Engine.OnAlerts), whose orders say on applied whether they were.
type order struct {
	c       Command
	by      string
	alerts  bool
	applied chan bool
}

// order applies a command. The alerts resume only a rollout they paused,
// and only while none of its alerts fires: an operator's order since, or
// an alert of a notice taken meanwhile, keeps it as it is.
func (ru *run) order(ctx context.Context, o order) {
	applied := false
	if o.applied != nil {
		defer func() { o.applied <- applied }()
	}
	c := o.c
	ru.mu.Lock()
	r := ru.r
	next := r.State
	switch {
	case c == Pause && r.State == fleet.RolloutRunning:
		next = fleet.RolloutPaused
	case c == Resume && r.State == fleet.RolloutPaused && (!o.alerts || ru.pausedByAlerts && len(ru.alerts) == 0):
		next = fleet.RolloutRunning
	case c == Abort && !r.State.Ended():
		next = fleet.RolloutAborting
	}
	if next == r.State {
		ru.mu.Unlock()
		return
	}
	applied = true
	ru.pausedByAlerts = o.alerts && next == fleet.RolloutPaused
	r.State, r.Reason, r.UpdatedAt = next, o.by+" asked to "+string(c), ru.Now().UTC()
	if err := ru.Store.UpdateRollout(ctx, r); err != nil {
		ru.Logger.Error("record a rollout command", "rollout", r.ID, "err", err)
	}
	ev := Event{Rollout: r.ID, Kind: KindState, State: next, Message: fmt.Sprintf("rollout %s is %s: %s", r.ID, next, r.Reason)}
	ru.mu.Unlock()
	ru.emit(ctx, ev)
}

// work starts a worker for a host in maintenance.
func (ru *run) work(ctx context.Context, h fleet.HostRun) {
	inv := ru.Inventory()
	host := inv.Host(h.Host)
	steps, done, failed := stepsOf(ru.plan, h), fleet.HostDone, fleet.HostFailed
	doneKind := KindHostDone
	if h.State == fleet.HostRollingBack {
		done, failed, doneKind = fleet.HostRolledBack, fleet.HostStuck, KindHostRolledBack
	}
	w := &hostWorker{
		inv: inv, host: host, remote: ru.Remote, balancer: ru.Balancer, health: ru.Health,
		now: ru.Now, poll: ru.Poll,
		save: func(ctx context.Context, hr fleet.HostRun) error {
			if err := ru.Store.SaveHostRun(ctx, ru.id, hr); err != nil {
				return err
			}
			ru.mu.Lock()
			for i := range ru.r.Hosts {
				if ru.r.Hosts[i].Host == hr.Host {
					ru.r.Hosts[i] = hr
				}
			}
			ru.mu.Unlock()
			return nil
		},
		event: func(ev Event) {
			ev.Rollout, ev.Host = ru.id, h.Host
			ru.emit(ctx, ev)
		},
	}
	ru.spawn(func() {
		if host == nil {
			h.State, h.Error = failed, "the host is no longer in the inventory"
			h.Failed = h.Failed || failed == fleet.HostFailed
			_ = w.save(ctx, h)
		} else {
			final, err := w.steps(ctx, h, steps, done, failed)
			if err != nil && err != errInterrupted {
				ru.Logger.Error("host worker stopped", "rollout", ru.id, "host", h.Host, "err", err)
			}
			if final.State == fleet.HostStuck {
				w.event(Event{Kind: KindHostStuck, Run: final, Maintenance: MaintenanceEnds, Message: fmt.Sprintf("%s could not be rolled back and needs a human: %s", h.Host, final.Error)})
			} else if final.State == done {
				w.event(Event{Kind: doneKind, Run: final, Maintenance: MaintenanceEnds, Message: fmt.Sprintf("%s is %s", h.Host, done)})
			}
		}
		select {
		case ru.results <- h:
		case <-ctx.Done():
		}
	})
}
