package fleet

import (
	"fmt"
	"time"
)

// A Lease is the right to take one host out of service. Whatever takes a
// host out (a rollout's host run, an operator's hands-on drain, a
// maintenance an operator scheduled with hosts) first takes
// its lease from one ledger in the store, in a transaction that checks the
// budgets of every group the host belongs to against every lease held and
// the health observed: so that two rollouts, or a rollout and an operator,
// on one daemon or several, never take more of a group than it allows. A
// host has at most one lease; it ends when the host is back in service.
type Lease struct {
	Host string
	Kind LeaseKind
	// Holder is the rollout's ID for a rollout's lease, who drained the
	// host for a drain, the maintenance's ID for a maintenance's.
	Holder string
	Reason string
	Since  time.Time
}

// LeaseKind says what holds a lease.
type LeaseKind string

const (
	LeaseRollout     LeaseKind = "rollout"
	LeaseDrain       LeaseKind = "drain"
	LeaseMaintenance LeaseKind = "maintenance"
)

// Held reports whether l is the same holder's as other: a second grant to
// the same holder is the first one, not a new lease.
func (l Lease) Held(kind LeaseKind, holder string) bool {
	return l.Kind == kind && l.Holder == holder
}

// String says why the host is out, for the budgets' reasons: "in rollout
// 20261203-1005-ab12 since 10:05:12", "drained by alice since 10:05:12
// (kernel panics)", "in maintenance 01jc… since 22:00:00 (disk swap)".
func (l Lease) String() string {
	since := l.Since.UTC().Format(time.TimeOnly)
	s := fmt.Sprintf("in rollout %s since %s", l.Holder, since)
	switch l.Kind {
	case LeaseDrain:
		s = fmt.Sprintf("drained by %s since %s", l.Holder, since)
	case LeaseMaintenance:
		s = fmt.Sprintf("in maintenance %s since %s", l.Holder, since)
	}
	if l.Reason != "" {
		s += " (" + l.Reason + ")"
	}
	return s
}

// Leased reports whether a host in this state holds its rollout's lease:
// from its start until it is back in service (done or rolled back), and on
// while it is stuck, until a human releases it.
func (s HostState) Leased() bool {
	switch s {
	case HostRunning, HostFailed, HostRollingBack, HostStuck:
		return true
	}
	return false
}
