package api

import "time"

// Lease is a host held out of service: by a rollout's host run (kind
// "rollout", holder the rollout's ID) or an operator's drain (kind
// "drain", holder who drained it).
type Lease struct {
	Host   string    `json:"host"`
	Kind   string    `json:"kind"`
	Holder string    `json:"holder"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
}

// Drain is the body of POST /api/v1/hosts/{name}/drain.
type Drain struct {
	Reason string `json:"reason"`
	// Force takes the host out even where a budget does not allow it.
	Force bool `json:"force,omitempty"`
}

// Drained is the answer of a drain: the lease taken and, for a forced
// drain, the budget it broke.
type Drained struct {
	Lease Lease  `json:"lease"`
	Broke string `json:"broke,omitempty"`
}

// Budgets is the answer of GET /api/v1/budget: every group, who is out
// of service and why.
type Budgets struct {
	Groups []GroupBudget `json:"groups"`
}

// GroupBudget is a group's budget as it stands: how many members may be
// out at once, and each member.
type GroupBudget struct {
	Name    string         `json:"name"`
	Allowed int            `json:"allowed"`
	Out     int            `json:"out"`
	Members []MemberBudget `json:"members"`
}

// MemberBudget is one member: out says why it is out of service, absent
// when it serves; lease is who holds it out, if anyone does.
type MemberBudget struct {
	Host  string `json:"host"`
	Out   string `json:"out,omitempty"`
	Lease *Lease `json:"lease,omitempty"`
}
