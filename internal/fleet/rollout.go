package fleet

import "time"

// HostState is where one host stands in a rollout.
type HostState string

const (
	HostPending     HostState = "pending"
	HostRunning     HostState = "running"      // inside the plan's steps
	HostDone        HostState = "done"         // every step passed
	HostFailed      HostState = "failed"       // a step or gate failed; rollback is next
	HostRollingBack HostState = "rolling_back" // inside the rollback steps
	HostRolledBack  HostState = "rolled_back"  // the rollback passed
	// HostStuck is a host whose rollback failed too: it needs a human, and
	// it counts as down for every budget until one comes.
	HostStuck HostState = "stuck"
)

// Active reports whether the host is inside a maintenance (forward or back).
func (s HostState) Active() bool { return s == HostRunning || s == HostRollingBack }

// RolloutState is where a rollout stands.
type RolloutState string

const (
	RolloutRunning RolloutState = "running"
	RolloutPaused  RolloutState = "paused"
	// RolloutHalting: failures crossed the policy; no host starts, the
	// failed ones roll back, and those in flight finish.
	RolloutHalting RolloutState = "halting"
	// RolloutAborting: an operator asked to stop; hosts in flight finish.
	RolloutAborting   RolloutState = "aborting"
	RolloutDone       RolloutState = "done"
	RolloutHalted     RolloutState = "halted"
	RolloutRolledBack RolloutState = "rolled_back"
	RolloutAborted    RolloutState = "aborted"
)

// Ended reports whether the rollout will do nothing more.
func (s RolloutState) Ended() bool {
	switch s {
	case RolloutDone, RolloutHalted, RolloutRolledBack, RolloutAborted:
		return true
	}
	return false
}

// HostRun is one host's progress through a rollout.
type HostRun struct {
	Host  string
	State HostState
	// Step is the index of the step running or next to run, in the plan's
	// steps or, while rolling back, in its rollback steps.
	Step int
	// Wave is the host's place in the schedule, fixed when the rollout is
	// created: the canaries are wave 1, then one wave per datacenter
	// (datacenter by datacenter) or per window of max_parallel hosts
	// (spread). With spread, waves overlap: a host starts as soon as the
	// budgets allow, not when its wave's slowest host ends.
	Wave int
	// Canary marks the hosts that go first, alone.
	Canary bool
	// Failed marks a host whose plan steps failed, whatever happened
	// after; it is what the failure policy counts.
	Failed bool
	// BootID is the boot id the host had before its reboot step; another
	// one afterwards proves the reboot happened, also across a crash of the
	// daemon.
	BootID string
	// Issued records that the current step's irreversible action (the
	// reboot command) was sent.
	Issued    bool
	StartedAt time.Time
	EndedAt   time.Time
	// Error says why the host failed, in words for the operator.
	Error string
}

// Rollout is one run of a plan over a set of hosts.
type Rollout struct {
	ID   string
	Plan *Plan
	// PlanName is the plan's name, kept beside its source so that a list of
	// rollouts shows it without reading the plan again.
	PlanName string
	// PlanSource is the plan file as it was when the rollout started: a
	// rollout resumed after a crash follows the plan it started with.
	PlanSource string
	PlanFile   string
	Selector   string
	Urgent     bool
	State      RolloutState
	// Reason says why the rollout is in its state, in words.
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
	EndedAt   time.Time
	Hosts     []HostRun
}

// Counts tallies the rollout's hosts by state.
func (r *Rollout) Counts() map[HostState]int {
	c := map[HostState]int{}
	for _, h := range r.Hosts {
		c[h.State]++
	}
	return c
}
