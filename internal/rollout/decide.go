// Package rollout rolls a maintenance plan through the fleet.
//
// It is cut in two, as a scheduler should be: Decide is a pure function from
// a rollout's state and the fleet's health to the next actions (which hosts
// start, which roll back, what the rollout becomes, and why every waiting
// host waits); the runner executes those actions over SSH and the load
// balancers, records every step in the store, and asks again.
package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Topology is what Decide needs to know of the fleet: every group that a
// host of the rollout belongs to, with all of its members (also those outside
// the rollout, whose health counts against the same budget).
type Topology struct {
	Groups []Group
	// HostGroups maps a host to the indexes of its groups in Groups.
	HostGroups map[string][]int
}

// Group is a redundancy group as the scheduler sees it.
type Group struct {
	Name    string
	Members []string
	// Allowed is how many members may be down at once.
	Allowed int
}

// NewTopology builds the topology of the rollout's hosts from the inventory.
// A group's allowance is its budget, but never both halves of a pair nor
// every member of a larger group: the last healthy member is never taken.
func NewTopology(inv *fleet.Inventory, hosts []string) *Topology {
	t := &Topology{HostGroups: map[string][]int{}}
	index := map[string]int{}
	for _, h := range hosts {
		host := inv.Host(h)
		if host == nil {
			continue
		}
		for _, gname := range host.Groups {
			i, ok := index[gname]
			if !ok {
				g := inv.Group(gname)
				if g == nil {
					continue
				}
				allowed := g.Budget.Allowed(len(g.Members))
				if len(g.Members) > 1 {
					allowed = min(allowed, len(g.Members)-1)
				}
				i = len(t.Groups)
				index[gname] = i
				t.Groups = append(t.Groups, Group{Name: gname, Members: g.Members, Allowed: allowed})
			}
			t.HostGroups[h] = append(t.HostGroups[h], i)
		}
	}
	return t
}

// Input is everything Decide looks at.
type Input struct {
	State fleet.RolloutState
	// Hosts are the rollout's hosts in schedule order (canaries first).
	Hosts []fleet.HostRun
	// Down names hosts that are down for reasons of their own (unreachable,
	// failing checks, drained by someone else), with the reason. It may name
	// hosts outside the rollout.
	Down map[string]string
	// WindowOpen is false outside the plan's maintenance window (and never
	// false for an urgent rollout).
	WindowOpen bool
	// Ordered makes a wave start only when every earlier wave has ended
	// (datacenter by datacenter).
	Ordered     bool
	MaxParallel int
	// Width, when set, is how many hosts the rollout keeps in maintenance
	// now, at most MaxParallel (see pace); WidthWhy says why.
	Width    int
	WidthWhy string
	// Hold, when set, says what the customers see that holds the rollout:
	// no host starts, those in maintenance go on. Halt halts it.
	Hold, Halt  string
	MaxFailures int
	RollbackAll bool
	// BlockedFor is how long the rollout has stood blocked (see
	// Decision.Blocked); at BlockedTimeout it halts.
	BlockedFor     time.Duration
	BlockedTimeout time.Duration
}

// newInput is the input of a rollout of plan p, its hosts as they stand,
// the fleet's down hosts counted; the window is open and the rollout not
// blocked until the caller says otherwise.
func newInput(p *fleet.Plan, state fleet.RolloutState, hosts []fleet.HostRun, down map[string]string) Input {
	return Input{
		State: state, Hosts: hosts, Down: down, WindowOpen: true,
		Ordered:        p.Strategy.Order == fleet.OrderDatacenter,
		MaxParallel:    MaxParallel(p.Strategy, len(hosts)),
		MaxFailures:    MaxFailures(p.Strategy, len(hosts)),
		RollbackAll:    p.Strategy.RollbackAll,
		BlockedTimeout: p.Strategy.BlockedTimeout,
	}
}

// Decision is what the runner does next.
type Decision struct {
	// Start are pending hosts to start on the plan's steps.
	Start []string
	// Rollback are hosts to start on the rollback steps: failed ones at
	// once, done ones when the rollout rolls everything back.
	Rollback []string
	// State is the rollout's state from now on; Reason says why it changed.
	State  fleet.RolloutState
	Reason string
	// Waiting says, for each pending host that could not start, why.
	Waiting map[string]string
	// Blocked is set when nothing is in maintenance and no pending host
	// can start: the rollout waits on the fleet (a partner down, a closed
	// window), and halts if that lasts.
	Blocked bool
}

type decider struct {
	top  *Topology
	in   Input
	runs map[string]*fleet.HostRun
	// why names, per group, the members down now for any reason, with
	// the reason.
	why    []map[string]string
	active int
}

// Decide returns the next actions of a rollout. It never starts a host that
// would take one of its groups over its allowance, counting members down for
// any reason; never more than MaxParallel hosts at once; nothing while the
// rollout is paused, halting, aborting or outside its window; only canaries
// until every canary is done.
func Decide(top *Topology, in Input) Decision {
	d := &decider{top: top, in: in, runs: map[string]*fleet.HostRun{}}
	for i := range in.Hosts {
		d.runs[in.Hosts[i].Host] = &in.Hosts[i]
	}
	d.count()
	out := Decision{State: in.State, Waiting: map[string]string{}}
	if in.State.Ended() {
		return out
	}

	failures, canaryFailed := 0, ""
	for _, r := range in.Hosts {
		if r.Failed {
			failures++
			if r.Canary && canaryFailed == "" {
				canaryFailed = r.Host
			}
		}
	}
	if in.State == fleet.RolloutRunning || in.State == fleet.RolloutPaused {
		switch {
		case canaryFailed != "":
			out.State, out.Reason = fleet.RolloutHalting, fmt.Sprintf("canary %s failed", canaryFailed)
		case failures > in.MaxFailures:
			out.State, out.Reason = fleet.RolloutHalting, fmt.Sprintf("%d hosts failed, more than the %d the plan allows", failures, in.MaxFailures)
		case in.Halt != "":
			out.State, out.Reason = fleet.RolloutHalting, in.Halt
		}
	}

	// A failed host is rolled back at once, whatever the rollout's state:
	// it is already down, so this takes nothing more from any budget.
	for _, r := range in.Hosts {
		if r.State == fleet.HostFailed {
			out.Rollback = append(out.Rollback, r.Host)
		}
	}

	switch out.State {
	case fleet.RolloutRunning:
		out.Start = d.fill(out.Waiting, fleet.HostPending)
		idle := d.active == 0 && len(out.Start) == 0 && len(out.Rollback) == 0
		switch {
		case idle && !d.any(fleet.HostPending):
			out.State, out.Reason = fleet.RolloutDone, fmt.Sprintf("every host is done (%d failed, %d allowed)", failures, in.MaxFailures)
		case idle && in.WindowOpen && in.Hold == "":
			out.Blocked = true
			if in.BlockedTimeout > 0 && in.BlockedFor >= in.BlockedTimeout {
				out.State, out.Reason = fleet.RolloutHalted, fmt.Sprintf("blocked for %s: %s", in.BlockedFor.Round(time.Second), firstWait(in.Hosts, out.Waiting))
			}
		}
	case fleet.RolloutHalting:
		if in.RollbackAll {
			out.Rollback = append(out.Rollback, d.fill(out.Waiting, fleet.HostDone)...)
		}
		if d.active == 0 && len(out.Rollback) == 0 && (!in.RollbackAll || !d.any(fleet.HostDone)) {
			out.State = fleet.RolloutHalted
			if in.RollbackAll {
				out.State = fleet.RolloutRolledBack
			}
			out.Reason = "no host is in maintenance any more"
		}
	case fleet.RolloutAborting:
		if d.active == 0 && len(out.Rollback) == 0 {
			out.State, out.Reason = fleet.RolloutAborted, "no host is in maintenance any more"
		}
	}
	return out
}

// firstWait is the reason the first waiting host waits, with its name.
func firstWait(hosts []fleet.HostRun, waiting map[string]string) string {
	for _, h := range hosts {
		if reason, ok := waiting[h.Host]; ok {
			return h.Host + " waits: " + reason
		}
	}
	return "no host can start"
}

// count tallies who is down in every group and how many hosts are in
// maintenance.
func (d *decider) count() {
	d.why = make([]map[string]string, len(d.top.Groups))
	for gi, g := range d.top.Groups {
		d.why[gi] = map[string]string{}
		for _, m := range g.Members {
			if reason := d.downReason(m); reason != "" {
				d.why[gi][m] = reason
			}
		}
	}
	for _, r := range d.in.Hosts {
		if r.State.Active() || r.State == fleet.HostFailed {
			d.active++
		}
	}
}

// downReason says why a host is down, or "" when it is up.
func (d *decider) downReason(host string) string {
	if r, ok := d.runs[host]; ok {
		switch r.State {
		case fleet.HostRunning, fleet.HostRollingBack:
			return "in maintenance"
		case fleet.HostFailed:
			return "failed"
		case fleet.HostStuck:
			return "stuck after a failed rollback"
		}
	}
	if reason, ok := d.in.Down[host]; ok {
		if reason == "" {
			reason = "down"
		}
		return reason
	}
	return ""
}

// fill starts hosts in state from, in order, while the window, the canary
// rule, the waves, max_parallel and every budget allow. It records why each
// host it passes over waits.
func (d *decider) fill(waiting map[string]string, from fleet.HostState) []string {
	var started []string
	if !d.in.WindowOpen && from == fleet.HostPending {
		for _, r := range d.in.Hosts {
			if r.State == from {
				waiting[r.Host] = "outside the maintenance window"
			}
		}
		return nil
	}
	canariesDone := true
	for _, r := range d.in.Hosts {
		if r.Canary && r.State != fleet.HostDone {
			canariesDone = false
		}
	}
	wave := d.currentWave()
	for _, r := range d.in.Hosts {
		if r.State != from {
			continue
		}
		reason := ""
		switch {
		case from == fleet.HostPending && !r.Canary && !canariesDone:
			reason = "the canaries go first"
		case d.in.Ordered && from == fleet.HostPending && r.Wave > wave:
			reason = fmt.Sprintf("wave %d must end first", wave)
		case d.in.Hold != "" && from == fleet.HostPending:
			reason = "customers see errors: " + d.in.Hold
		case d.active >= d.in.MaxParallel:
			reason = fmt.Sprintf("%d hosts are in maintenance, the most the plan allows at once", d.active)
		case d.in.Width > 0 && d.active >= d.in.Width:
			reason = fmt.Sprintf("%d hosts are in maintenance, as many as the rollout takes at once now (max_parallel %d): %s", d.active, d.in.MaxParallel, d.in.WidthWhy)
		default:
			reason = d.blocked(r.Host)
		}
		if reason != "" {
			waiting[r.Host] = reason
			continue
		}
		started = append(started, r.Host)
		d.active++
		for _, gi := range d.top.HostGroups[r.Host] {
			d.why[gi][r.Host] = "in maintenance"
		}
	}
	return started
}

// blocked says why taking host down would break a budget, or "".
func (d *decider) blocked(host string) string {
	if reason, ok := d.in.Down[host]; ok {
		return "it is down itself (" + reason + ")"
	}
	for _, gi := range d.top.HostGroups[host] {
		if reason := over(d.top.Groups[gi], host, d.why[gi]); reason != "" {
			return reason
		}
	}
	return ""
}

// over says why taking host down would take group g over its allowance,
// or "": down names the members down now, with why.
func over(g Group, host string, down map[string]string) string {
	n := len(down)
	if _, self := down[host]; self {
		n--
	}
	if n+1 <= g.Allowed {
		return ""
	}
	var others []string
	for _, m := range g.Members {
		if reason, ok := down[m]; ok && m != host {
			others = append(others, m+" is "+reason)
		}
	}
	if len(g.Members) == 2 && len(others) == 1 {
		return "partner " + others[0]
	}
	if len(others) == 0 {
		return fmt.Sprintf("group %s allows no member down", g.Name)
	}
	return fmt.Sprintf("group %s allows %d down and %s", g.Name, g.Allowed, strings.Join(others, ", "))
}

// currentWave is the lowest wave that still has a host pending or in
// maintenance.
func (d *decider) currentWave() int {
	w := 0
	for _, r := range d.in.Hosts {
		if r.State == fleet.HostPending || r.State.Active() || r.State == fleet.HostFailed {
			if w == 0 || r.Wave < w {
				w = r.Wave
			}
		}
	}
	return w
}

func (d *decider) any(s fleet.HostState) bool {
	for _, r := range d.in.Hosts {
		if r.State == s {
			return true
		}
	}
	return false
}
