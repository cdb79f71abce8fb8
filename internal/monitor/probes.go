package monitor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
)

// health runs the probes of the inventory in force, beside the rollout
// engine: a scheduler over every host's checks and its SSH probe.
// A reload starts a new scheduler; states carry over by target id, so that
// a target down before the reload and up after it still resolves its alert.
type health struct {
	prober   probe.ProbeFunc
	interval time.Duration
	onChange func(probe.Change)
	now      func() time.Time

	// resetMu keeps reloads from replacing the scheduler at once.
	resetMu sync.Mutex
	mu      sync.Mutex
	ctx     context.Context // the daemon's lifetime, set by run
	targets []probe.Target
	sched   *probe.Scheduler
	stop    context.CancelFunc
	done    chan struct{}
	// wasDown holds the targets that were down when their scheduler was
	// replaced, until their new one says where they stand.
	wasDown map[string]bool

	// runs keeps every probe's runs, across reloads.
	runs probe.Recorder
}

// probeTargets is every host's probes (probe.HostTargets): its groups'
// checks, its own and its ssh probe, each on its own interval, interval
// being the default. The daemon's inventory comes through the inventory
// loader, which refuses a check that does not compile: none is left out.
func probeTargets(inv *fleet.Inventory, interval time.Duration) []probe.Target {
	var out []probe.Target
	for _, h := range inv.Hosts {
		targets, _ := probe.HostTargets(inv, h, interval)
		out = append(out, targets...)
	}
	return out
}

// run probes inv's targets until ctx ends.
func (hl *health) run(ctx context.Context, inv *fleet.Inventory) {
	hl.mu.Lock()
	hl.ctx = ctx
	hl.mu.Unlock()
	hl.reset(inv)
	<-ctx.Done()
	hl.mu.Lock()
	done := hl.done
	hl.mu.Unlock()
	if done != nil {
		<-done
	}
}

// reset replaces the scheduler with one over inv's targets. Targets that
// left the inventory while down are reported up, so their alerts end.
func (hl *health) reset(inv *fleet.Inventory) {
	hl.resetMu.Lock()
	defer hl.resetMu.Unlock()
	hl.mu.Lock()
	ctx, old, stop, done := hl.ctx, hl.sched, hl.stop, hl.done
	hl.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	if old != nil {
		// Not under mu: the old scheduler's last changes take it.
		stop()
		<-done
	}
	targets := probeTargets(inv, hl.interval)
	ids := map[string]bool{}
	for _, t := range targets {
		ids[t.ID] = true
	}
	wasDown := map[string]bool{}
	var gone []probe.Change
	hl.mu.Lock()
	if old != nil {
		for i, st := range old.Status() {
			switch {
			case st.State != probe.StateDown && !hl.wasDown[st.ID]:
			case ids[st.ID]:
				wasDown[st.ID] = true
			default:
				gone = append(gone, probe.Change{Target: &hl.targets[i], From: probe.StateDown, To: probe.StateUp, At: hl.now()})
			}
		}
	}
	sched := probe.NewScheduler(targets, probe.Options{Probe: hl.prober, OnChange: hl.changed, Recorder: hl.runs})
	runCtx, cancel := context.WithCancel(ctx)
	hl.targets, hl.wasDown, hl.sched, hl.stop, hl.done = targets, wasDown, sched, cancel, make(chan struct{})
	finished := hl.done
	hl.mu.Unlock()
	go func() {
		defer close(finished)
		_ = sched.Run(runCtx)
	}()
	for _, c := range gone {
		hl.onChange(c)
	}
}

// changed passes a state change on, as a change from down for a target
// that was down under the previous scheduler.
func (hl *health) changed(c probe.Change) {
	hl.mu.Lock()
	if hl.wasDown[c.Target.ID] {
		delete(hl.wasDown, c.Target.ID)
		if c.From == probe.StateUnknown {
			c.From = probe.StateDown
		}
	}
	hl.mu.Unlock()
	hl.onChange(c)
}

// Standing is one probe target with where it stands.
type Standing struct {
	Target *probe.Target
	Status probe.Status
}

func (hl *health) standings() []Standing {
	hl.mu.Lock()
	defer hl.mu.Unlock()
	if hl.sched == nil {
		return nil
	}
	sts := hl.sched.Status()
	out := make([]Standing, len(sts))
	for i := range sts {
		out[i] = Standing{Target: &hl.targets[i], Status: sts[i]}
	}
	return out
}

// down is the engine's Down: the hosts among hosts that a probe finds
// down, or that a probe has not found up yet, with why: for a budget, a
// state not known is not up. It reads the probes' states; it probes
// nothing itself.
func (hl *health) down(hosts []*fleet.Host) map[string]string {
	want := map[string]bool{}
	for _, h := range hosts {
		want[h.Name] = true
	}
	out := map[string]string{}
	for _, s := range hl.standings() {
		name := s.Target.Host.Name
		if s.Status.State == probe.StateUp || !want[name] || out[name] != "" {
			continue
		}
		last := s.Status.Last
		switch {
		case s.Status.State == probe.StateDown:
			out[name] = fmt.Sprintf("down by its probe %s since %s", s.Target.Def.Name, s.Status.Since.UTC().Format(time.TimeOnly))
		case last.At.IsZero():
			out[name] = fmt.Sprintf("not known to be up: its probe %s has no result yet", s.Target.Def.Name)
		default:
			out[name] = fmt.Sprintf("not known to be up: its probe %s fails", s.Target.Def.Name)
		}
		if r := last.Reason; r != "" && !last.OK {
			out[name] += " (" + r + ")"
		}
	}
	return out
}

// counts tallies the targets by state, for the metrics.
func (hl *health) counts() map[string]int {
	out := map[string]int{}
	for _, s := range hl.standings() {
		out[s.Status.State.String()]++
	}
	return out
}

// running reports whether the probes run a target with id.
func (hl *health) running(id string) bool {
	return slices.ContainsFunc(hl.standings(), func(s Standing) bool { return s.Target.ID == id })
}

// current is the probe targets in force.
func (hl *health) current() []*probe.Target {
	var out []*probe.Target
	for _, s := range hl.standings() {
		out = append(out, s.Target)
	}
	return out
}

// hostHealth is what the probes say of each host, for the status page:
// down when a probe of what customers use (an http, tcp or command check)
// is down, or when every probe of the host is; degraded when another probe
// is down (its SSH, say: customers are served, the host is not well). A
// host none of whose probes has an answer yet is left out.
func (hl *health) hostHealth() map[string]fleet.HostHealth {
	type tally struct{ known, down, served int }
	hosts := map[string]*tally{}
	for _, s := range hl.standings() {
		if s.Target.Host == nil {
			continue
		}
		t := hosts[s.Target.Host.Name]
		if t == nil {
			t = &tally{}
			hosts[s.Target.Host.Name] = t
		}
		switch s.Status.State {
		case probe.StateUp:
			t.known++
		case probe.StateDown:
			t.known++
			t.down++
			if s.Target.Def.Kind != probe.KindSSH {
				t.served++
			}
		}
	}
	out := make(map[string]fleet.HostHealth, len(hosts))
	for name, t := range hosts {
		switch {
		case t.known == 0:
		case t.served > 0 || t.down == t.known:
			out[name] = fleet.HostDown
		case t.down > 0:
			out[name] = fleet.HostDegraded
		default:
			out[name] = fleet.HostUp
		}
	}
	return out
}

// allUp reports whether host has probes and every one of them is up.
func (hl *health) allUp(host string) bool {
	n := 0
	for _, s := range hl.standings() {
		if s.Target.Host == nil || s.Target.Host.Name != host {
			continue
		}
		if s.Status.State != probe.StateUp {
			return false
		}
		n++
	}
	return n > 0
}
