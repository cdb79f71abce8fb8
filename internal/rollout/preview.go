package rollout

import (
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Preview is what a rollout would do, before it starts: `illico plan check`
// shows it from the inventory alone, `rollout start --dry-run` from the
// fleet's live state.
type Preview struct {
	Hosts       []fleet.HostRun
	MaxParallel int
	MaxFailures int
	// PerHost is the guessed time a host spends in maintenance.
	PerHost time.Duration
	// Estimate is how long the whole rollout should take; Finishes is false
	// when hosts would wait forever as the fleet stands.
	Estimate time.Duration
	Finishes bool
	// Waiting says why the hosts that cannot start at once wait.
	Waiting map[string]string
	// Groups are the budgets that apply, as the scheduler counts them.
	Groups []Group
}

// NewPreview schedules hosts for p and runs the scheduler forward on the
// fleet as down describes it.
func NewPreview(inv *fleet.Inventory, p *fleet.Plan, hosts, canaries []*fleet.Host, down map[string]string) Preview {
	runs := Schedule(inv, p.Strategy, hosts, canaries)
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Host
	}
	top := NewTopology(inv, names)
	in := newInput(p, fleet.RolloutRunning, runs, down)
	pv := Preview{Hosts: runs, MaxParallel: in.MaxParallel, MaxFailures: in.MaxFailures, PerHost: GuessPerHost(p.Steps), Groups: top.Groups}
	pv.Waiting = Decide(top, in).Waiting
	pv.Estimate, pv.Finishes = Estimate(top, in, pv.PerHost, nil)
	return pv
}
