package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// run is one rollout in the engine. Its loop owns the decisions; host
// workers report progress through save and their end through results.
type run struct {
	e        *Engine
	id       string
	commands chan order
	results  chan fleet.HostRun
	done     chan struct{}

	mu      sync.Mutex // guards r, waiting and down
	r       *fleet.Rollout
	waiting map[string]string
	down    map[string]string
	// blockedSince is when the rollout last became blocked; zero when not.
	blockedSince time.Time
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
	e := ru.e
	tick := time.NewTicker(e.opts.Tick)
	defer tick.Stop()
	// Hosts caught inside a step by a restart go on from that step; every
	// step is safe to run again (see hostWorker).
	ru.mu.Lock()
	for _, h := range ru.r.Hosts {
		if h.State.Active() {
			ru.work(ctx, h)
		}
	}
	ru.mu.Unlock()
	for {
		if ctx.Err() != nil {
			return
		}
		ended, err := ru.decide(ctx)
		if err != nil {
			e.opts.Logger.Error("rollout cannot record its progress; it stops here and resumes at the next start", "rollout", ru.id, "err", err)
			return
		}
		if ended {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-ru.results:
		case o := <-ru.commands:
			ru.order(ctx, o)
		case <-tick.C:
		}
	}
}

// decide asks the scheduler what to do and does it.
func (ru *run) decide(ctx context.Context) (ended bool, err error) {
	e := ru.e
	inv := e.opts.Inventory()
	ru.mu.Lock()
	names := make([]string, len(ru.r.Hosts))
	for i, h := range ru.r.Hosts {
		names[i] = h.Host
	}
	ru.mu.Unlock()
	top := NewTopology(inv, names)
	var down map[string]string
	if e.opts.Down != nil {
		down = e.opts.Down(ctx, topologyHosts(inv, top, names))
	}

	ru.mu.Lock()
	defer ru.mu.Unlock()
	ru.down = down
	r := ru.r
	now := e.opts.Now().UTC()
	in := Input{
		State: r.State, Hosts: r.Hosts, Down: down,
		WindowOpen:     r.Urgent || r.Plan.Window == nil || r.Plan.Window.Open(now),
		Ordered:        r.Plan.Strategy.Order == fleet.OrderDatacenter,
		MaxParallel:    MaxParallel(r.Plan.Strategy, len(r.Hosts)),
		MaxFailures:    MaxFailures(r.Plan.Strategy, len(r.Hosts)),
		RollbackAll:    r.Plan.Strategy.RollbackAll,
		BlockedTimeout: r.Plan.Strategy.BlockedTimeout,
	}
	if !ru.blockedSince.IsZero() {
		in.Blocked = now.Sub(ru.blockedSince)
	}
	d := Decide(top, in)
	switch {
	case !d.Blocked:
		ru.blockedSince = time.Time{}
	case ru.blockedSince.IsZero():
		ru.blockedSince = now
		e.emit(ctx, Event{Rollout: r.ID, Kind: "rollout.blocked", Message: fmt.Sprintf("rollout %s is blocked: no host can start (%s); it halts if this lasts %s", r.ID, firstWait(r.Hosts, d.Waiting), r.Plan.Strategy.BlockedTimeout)})
	}
	index := map[string]int{}
	for i, h := range r.Hosts {
		index[h.Host] = i
	}
	for _, name := range d.Start {
		h := &r.Hosts[index[name]]
		h.State, h.Step, h.StartedAt = fleet.HostRunning, 0, now
		if err := e.opts.Store.SaveHostRun(ctx, r.ID, *h); err != nil {
			return false, err
		}
		e.emit(ctx, Event{Rollout: r.ID, Host: name, Kind: "host.started", Message: fmt.Sprintf("%s starts (wave %d)", name, h.Wave)})
		ru.work(ctx, *h)
	}
	for _, name := range d.Rollback {
		h := &r.Hosts[index[name]]
		reason := "it failed"
		if !h.Failed {
			reason = "the rollout rolls every host back"
		}
		h.State, h.Step, h.BootID, h.Issued = fleet.HostRollingBack, 0, "", false
		if len(r.Plan.Rollback) == 0 {
			h.State, h.EndedAt = fleet.HostStuck, now
			reason += "; the plan has no rollback steps, so it needs a human"
		}
		if err := e.opts.Store.SaveHostRun(ctx, r.ID, *h); err != nil {
			return false, err
		}
		e.emit(ctx, Event{Rollout: r.ID, Host: name, Kind: "host.rollback", Message: fmt.Sprintf("%s rolls back: %s", name, reason)})
		if h.State == fleet.HostRollingBack {
			ru.work(ctx, *h)
		}
	}
	if !maps.Equal(d.Waiting, ru.waiting) {
		for _, h := range slices.Sorted(maps.Keys(d.Waiting)) {
			if reason := d.Waiting[h]; ru.waiting[h] != reason {
				e.emit(ctx, Event{Rollout: r.ID, Host: h, Kind: "host.waiting", Message: fmt.Sprintf("%s waits: %s", h, reason)})
			}
		}
		ru.waiting = d.Waiting
	}
	if d.State != r.State {
		r.State, r.Reason, r.UpdatedAt = d.State, d.Reason, now
		if d.State.Ended() {
			r.EndedAt = now
		}
		if err := e.opts.Store.UpdateRollout(ctx, r); err != nil {
			return false, err
		}
		e.emit(ctx, Event{Rollout: r.ID, Kind: "rollout.state", State: d.State, Message: fmt.Sprintf("rollout %s is %s: %s", r.ID, d.State, d.Reason)})
	}
	return d.State.Ended(), nil
}

// order applies an operator's command.
// order is a command and who gave it.
type order struct {
	c  Command
	by string
}

func (ru *run) order(ctx context.Context, o order) {
	c := o.c
	ru.mu.Lock()
	defer ru.mu.Unlock()
	r := ru.r
	next := r.State
	switch {
	case c == Pause && r.State == fleet.RolloutRunning:
		next = fleet.RolloutPaused
	case c == Resume && r.State == fleet.RolloutPaused:
		next = fleet.RolloutRunning
	case c == Abort && !r.State.Ended():
		next = fleet.RolloutAborting
	}
	if next == r.State {
		return
	}
	r.State, r.Reason, r.UpdatedAt = next, o.by+" asked to "+string(c), ru.e.opts.Now().UTC()
	if err := ru.e.opts.Store.UpdateRollout(ctx, r); err != nil {
		ru.e.opts.Logger.Error("record a rollout command", "rollout", r.ID, "err", err)
	}
	ru.e.emit(ctx, Event{Rollout: r.ID, Kind: "rollout.state", State: next, Message: fmt.Sprintf("rollout %s is %s: %s", r.ID, next, r.Reason)})
}

// work starts a worker for a host in maintenance; ru.mu is held.
func (ru *run) work(ctx context.Context, h fleet.HostRun) {
	e := ru.e
	inv := e.opts.Inventory()
	host := inv.Host(h.Host)
	steps, done, failed := ru.r.Plan.Steps, fleet.HostDone, fleet.HostFailed
	if h.State == fleet.HostRollingBack {
		steps, done, failed = ru.r.Plan.Rollback, fleet.HostRolledBack, fleet.HostStuck
	}
	w := &hostWorker{
		inv: inv, host: host, remote: e.opts.Remote, balancer: e.opts.Balancer, health: e.opts.Health,
		now: e.opts.Now, poll: e.opts.Poll,
		save: func(ctx context.Context, hr fleet.HostRun) error {
			if err := e.opts.Store.SaveHostRun(ctx, ru.id, hr); err != nil {
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
		event: func(kind, msg string, took time.Duration) {
			e.emit(ctx, Event{Rollout: ru.id, Host: h.Host, Kind: kind, Message: msg, Took: took})
		},
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if host == nil {
			h.State, h.Error = failed, "the host is no longer in the inventory"
			h.Failed = h.Failed || failed == fleet.HostFailed
			_ = w.save(ctx, h)
		} else {
			final, err := w.steps(ctx, h, steps, done, failed)
			if err != nil && err != errInterrupted {
				e.opts.Logger.Error("host worker stopped", "rollout", ru.id, "host", h.Host, "err", err)
			}
			if final.State == fleet.HostStuck {
				e.emit(ctx, Event{Rollout: ru.id, Host: h.Host, Kind: "host.stuck", Message: fmt.Sprintf("%s could not be rolled back and needs a human: %s", h.Host, final.Error)})
			} else if final.State == done {
				e.emit(ctx, Event{Rollout: ru.id, Host: h.Host, Kind: "host." + string(done), Message: fmt.Sprintf("%s is %s", h.Host, done)})
			}
		}
		select {
		case ru.results <- h:
		case <-ctx.Done():
		}
	}()
}
