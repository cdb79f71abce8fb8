package rollout

import (
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// EventKind says what happened in a rollout. The kinds are stored with the
// events and sent by the API as they are: they never change.
type EventKind string

// Every kind of a rollout's events. The engine emits all but the three
// the daemon records itself, about a rollout, for what the engine does not
// see or say: an operator's order, and an alert's pause and end, told
// with the Alertmanager receiver that sent them.
const (
	KindCreated EventKind = "rollout.created"
	// KindResumed: a restart of the daemon resumed the rollout.
	KindResumed EventKind = "rollout.resumed"
	// KindState: the rollout's state changed (Event.State).
	KindState EventKind = "rollout.state"
	// KindBlocked: no host can start and none is in maintenance.
	KindBlocked EventKind = "rollout.blocked"
	// KindOrder: an operator started, paused, resumed or aborted it.
	KindOrder EventKind = "rollout.order"
	// KindAlert: an Alertmanager alert paused it.
	KindAlert EventKind = "rollout.alert"
	// KindPace: the rollout's width narrowed, or its customers' errors
	// held it or let it go on.
	KindPace EventKind = "rollout.pace"
	// KindAlertResolved: an Alertmanager alert matching its plan's
	// pause_on_alerts, which fired while it ran or stood paused, resolved.
	KindAlertResolved EventKind = "rollout.alert_resolved"

	KindHostStarted EventKind = "host.started"
	// KindHostStep: the host ended a step (Event.Took).
	KindHostStep       EventKind = "host.step"
	KindHostDone       EventKind = "host.done"
	KindHostFailed     EventKind = "host.failed"
	KindHostRollback   EventKind = "host.rollback"
	KindHostRolledBack EventKind = "host.rolled_back"
	// KindHostStuck: the host could not be rolled back; it needs a human.
	KindHostStuck EventKind = "host.stuck"
	// KindHostWaiting: a pending host cannot start yet, and says why.
	KindHostWaiting EventKind = "host.waiting"
	// KindHostDrain: a drain timed out with sessions left, or a load
	// balancer did not take a drain or undrain yet; the host goes on.
	KindHostDrain EventKind = "host.drain"
	// KindHostNote: a step found its work done already.
	KindHostNote EventKind = "host.note"
)

// IsEventKind reports whether a stored event's kind is a rollout's, from
// this version or an earlier one: theirs all begin with "rollout." or
// "host.".
func IsEventKind(kind string) bool {
	return strings.HasPrefix(kind, "rollout.") || strings.HasPrefix(kind, "host.")
}

// Event is one thing that happened in a rollout: for the operator, the
// alerts that must keep quiet about hosts taken down on purpose, and the
// status page.
type Event struct {
	Rollout string
	Kind    EventKind
	Host    string
	Message string
	// Took is how long a finished step took (host.step events).
	Took time.Duration
	// State is the rollout's new state (rollout.state events).
	State fleet.RolloutState
	// Run is the host run as the event leaves it (host events, but
	// host.waiting, host.drain and host.note).
	Run fleet.HostRun
	// Maintenance is what the event does to the host's maintenance, and
	// Step the kind of the step the host runs now within it (with
	// MaintenanceBegins and MaintenanceGoesOn).
	Maintenance Maintenance
	Step        fleet.StepKind
}

// Maintenance is what an event does to its host's maintenance: the time a
// rollout takes the host down on purpose, from the start of its drain step
// (its first reboot when the steps do not drain) until its undrain step
// ends, or it is done, fails or its rollout ends.
type Maintenance uint8

const (
	// MaintenanceNone: the event changes nothing to it.
	MaintenanceNone Maintenance = iota
	// MaintenanceBegins: the step the host starts takes it down. A
	// maintenance of the host still open ends first.
	MaintenanceBegins
	// MaintenanceGoesOn: the host is inside its maintenance, at a new step.
	MaintenanceGoesOn
	// MaintenanceEnds: the host is out of its maintenance.
	MaintenanceEnds
)

// Maintained is a host that a rollout holds inside its maintenance, and
// the kind of the step it runs there.
type Maintained struct {
	Rollout string
	Host    string
	Step    fleet.StepKind
}

// maintained lists the hosts r holds inside a maintenance.
func maintained(r *fleet.Rollout) []Maintained {
	var out []Maintained
	for _, h := range r.Hosts {
		steps := stepsOf(r.Plan, h)
		if h.State.Active() && inMaintenance(steps, h.Step) {
			out = append(out, Maintained{Rollout: r.ID, Host: h.Host, Step: steps[h.Step].Kind})
		}
	}
	return out
}

// stepsOf is the steps a host runs: the plan's, or its rollback's once it
// rolls back.
func stepsOf(p *fleet.Plan, h fleet.HostRun) []fleet.Step {
	if h.State == fleet.HostRollingBack {
		return p.Rollback
	}
	return p.Steps
}

// stepMark says what a host's move from steps[finished] to the next step
// does to its maintenance; finished is -1 for a host that starts the steps.
func stepMark(steps []fleet.Step, finished int) (Maintenance, fleet.StepKind) {
	next := finished + 1
	inside := finished >= 0 && inMaintenance(steps, finished)
	ends := inside && steps[finished].Kind == fleet.StepUndrain
	if next < len(steps) {
		switch {
		case inside && !ends:
			return MaintenanceGoesOn, steps[next].Kind
		case takesDown(steps, next):
			return MaintenanceBegins, steps[next].Kind
		}
	}
	if ends {
		return MaintenanceEnds, ""
	}
	return MaintenanceNone, ""
}

// inMaintenance reports whether a host running steps[i] is inside a
// maintenance: one began at or before it (see takesDown) and no undrain
// step ended it.
func inMaintenance(steps []fleet.Step, i int) bool {
	if i < 0 || i >= len(steps) {
		return false
	}
	in := false
	for j := 0; j <= i; j++ {
		if takesDown(steps, j) {
			in = true
		}
		if j < i && steps[j].Kind == fleet.StepUndrain {
			in = false
		}
	}
	return in
}

// takesDown reports whether steps[i] begins a host's maintenance.
func takesDown(steps []fleet.Step, i int) bool {
	drains := slices.ContainsFunc(steps, func(s fleet.Step) bool { return s.Kind == fleet.StepDrain })
	k := steps[i].Kind
	return k == fleet.StepDrain || !drains && k == fleet.StepReboot
}
