package fleet

import "time"

// StepKind is what a plan step does to a host.
type StepKind string

const (
	// StepDrain takes the host out of its groups' load-balancer backends,
	// waiting for its sessions to end.
	StepDrain StepKind = "drain"
	// StepUndrain puts it back, once the load balancer sees it healthy.
	StepUndrain StepKind = "undrain"
	// StepRun runs a shell command on the host.
	StepRun StepKind = "run"
	// StepReboot reboots the host and waits for it to come back with a new
	// boot id.
	StepReboot StepKind = "reboot"
	// StepWaitHealthy waits until the host's and its groups' checks pass, and
	// keep passing for MinHealthy.
	StepWaitHealthy StepKind = "wait_healthy"
)

// Step is one step of a plan.
type Step struct {
	Kind StepKind
	// Command is the shell command of a run step.
	Command string
	// Unless is a command that exits 0 when a run step's work is already done
	// on the host; it makes a step safe to resume after a crash.
	Unless string
	// AllowedExitCodes are the exit codes that count as success; default [0].
	AllowedExitCodes []int
	// IfRequired makes a reboot happen only when the host reports a pending
	// reboot.
	IfRequired bool
	// MinHealthy is how long checks must keep passing in wait_healthy.
	MinHealthy time.Duration
	// Timeout bounds the step; a step that runs out of time fails.
	Timeout time.Duration
}

// Order is how a rollout walks the datacenters.
type Order string

const (
	// OrderSpread interleaves datacenters, so that consecutive hosts stand in
	// different failure domains.
	OrderSpread Order = "spread"
	// OrderDatacenter finishes one datacenter before starting the next.
	OrderDatacenter Order = "datacenter_by_datacenter"
)

// Strategy is how a plan rolls through the fleet.
type Strategy struct {
	// Canary is how many hosts go first, alone; CanaryHosts names them
	// instead (a selector).
	Canary      int
	CanaryHosts string
	// MaxParallel bounds the hosts in maintenance at once, across groups.
	MaxParallel Quantity
	Order       Order
	// MaxFailures is how many hosts may fail before the rollout halts.
	MaxFailures Quantity
	// RollbackAll rolls back every host already done when the rollout halts
	// on failures, not only the failed ones.
	RollbackAll bool
	// BlockedTimeout is how long a rollout may stand with nothing in
	// maintenance and hosts that cannot start (their partners down, say)
	// before it halts.
	BlockedTimeout time.Duration
	// PauseOnAlerts are alert matchers (docs/alerts.md), all of which an
	// alert sent to the daemon's Alertmanager receiver must match to pause
	// the rollout; empty, no alert pauses it.
	PauseOnAlerts []string
	// ResumeWhenResolved resumes a rollout that alerts paused once every
	// alert matching PauseOnAlerts that fired for it has resolved; false,
	// an operator resumes it.
	ResumeWhenResolved bool
	// CustomerErrors stops the rollout on its customers' errors.
	CustomerErrors CustomerErrors
}

// Plan is one maintenance: what to do to each host, how to undo it, and how
// to roll it through the fleet.
type Plan struct {
	Name        string
	Description string
	Steps       []Step
	Rollback    []Step
	Strategy    Strategy
	// Window, when set, limits when hosts may start; an urgent rollout
	// ignores it, never the budgets.
	Window *Window
}

// Window is a weekly maintenance window in a time zone.
type Window struct {
	Location *time.Location
	// Days holds the weekdays the window is open, indexed by time.Weekday.
	Days [7]bool
	// Start and End are offsets from midnight; End before Start spans
	// midnight.
	Start, End time.Duration
}

// Open reports whether the window is open at t.
func (w *Window) Open(t time.Time) bool {
	t = t.In(w.Location)
	// Wall-clock time of day, so that "09:00" stays 09:00 on the days the
	// clocks change. A window that spans the change is an hour shorter or
	// longer; one that starts in the hour clocks skip opens when they land,
	// and the hour they repeat is in the window both times.
	off := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second
	if w.Start <= w.End {
		return w.Days[t.Weekday()] && off >= w.Start && off < w.End
	}
	// Spanning midnight: the evening belongs to today's window, the early
	// morning to yesterday's.
	if off >= w.Start {
		return w.Days[t.Weekday()]
	}
	return off < w.End && w.Days[(t.Weekday()+6)%7]
}
