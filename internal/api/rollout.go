package api

import "time"

// StartRollout is the body of POST /api/v1/rollouts.
type StartRollout struct {
	// PlanFile names the plan in messages (plan.yaml:4:3: …); Plan is the
	// file's YAML. The daemon reads no file of its own.
	PlanFile string `json:"plan_file"`
	Plan     string `json:"plan"`
	// Selector picks the hosts (see docs/inventory.md); empty is all. On the
	// wire it is "limit", after the CLI's --limit and Ansible's; it is not
	// the count that ?limit= is on the list endpoints.
	Selector string `json:"limit,omitempty"`
	// Urgent ignores the plan's maintenance window, never the budgets.
	Urgent bool `json:"urgent,omitempty"`
	// DryRun asks for a Preview on the fleet as it stands; nothing starts.
	DryRun bool `json:"dry_run,omitempty"`
}

// Preview is the answer of a dry run: what the rollout would do now.
type Preview struct {
	Plan        string        `json:"plan"`
	Hosts       []PreviewHost `json:"hosts"`
	MaxParallel int           `json:"max_parallel"`
	MaxFailures int           `json:"max_failures"`
	// PerHostSeconds is the guessed time of one host's maintenance.
	PerHostSeconds float64 `json:"per_host_seconds"`
	// EstimateSeconds is the whole rollout's; Finishes is false when hosts
	// would wait forever as the fleet stands (Waiting says why).
	EstimateSeconds float64           `json:"estimate_seconds"`
	Finishes        bool              `json:"finishes"`
	Waiting         map[string]string `json:"waiting"`
	Groups          []Budget          `json:"groups"`
}

// PreviewHost is one host's place in a previewed schedule.
type PreviewHost struct {
	Host   string `json:"host"`
	Wave   int    `json:"wave"`
	Canary bool   `json:"canary,omitempty"`
}

// Budget is a group's disruption budget as the scheduler counts it.
type Budget struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
	// Allowed is how many members may be down at once, never all of them.
	Allowed int `json:"allowed"`
}

// Rollout is one run of a plan, as GET /api/v1/rollouts/{id} shows it.
type Rollout struct {
	ID       string `json:"id"`
	Plan     string `json:"plan"`
	PlanFile string `json:"plan_file"`
	// State is running, paused, halting, aborting, done, halted,
	// rolled_back or aborted; Reason says why, in words.
	State    string     `json:"state"`
	Reason   string     `json:"reason"`
	Urgent   bool       `json:"urgent"`
	Selector string     `json:"selector"`
	Created  time.Time  `json:"created"`
	Updated  time.Time  `json:"updated"`
	Ended    *time.Time `json:"ended,omitempty"`
	// Counts tallies the hosts by state.
	Counts map[string]int `json:"counts"`
	// Hosts are in schedule order; the list of rollouts leaves them out.
	Hosts []RolloutHost `json:"hosts,omitempty"`
	// ETASeconds is how much longer the rollout should take; Finishes is
	// false when it cannot finish as the fleet stands. Both are zero once
	// it ended, and in the list of rollouts.
	ETASeconds float64 `json:"eta_seconds"`
	Finishes   bool    `json:"finishes"`
	// PerHostSeconds is a host's maintenance time: measured on the hosts
	// done so far, guessed from the steps before (PerHostGuessed).
	PerHostSeconds float64 `json:"per_host_seconds"`
	PerHostGuessed bool    `json:"per_host_guessed,omitempty"`
	// Waiting says why each waiting host waits.
	Waiting map[string]string `json:"waiting,omitempty"`
	// Width is how many hosts a running rollout takes at once now, at most
	// MaxParallel: it starts at ten hosts, grows while customers see no
	// errors and halves on trouble; WidthReason says why it stands there.
	// Held names what the customers see that holds the rollout: no host
	// starts until their errors clear. Zero and empty once it ended, and
	// in the list of rollouts.
	Width       int    `json:"width,omitempty"`
	MaxParallel int    `json:"max_parallel,omitempty"`
	WidthReason string `json:"width_reason,omitempty"`
	Held        string `json:"held,omitempty"`
}

// RolloutHost is one host's progress in a rollout.
type RolloutHost struct {
	Host string `json:"host"`
	// State is pending, running, done, failed, rolling_back, rolled_back or
	// stuck.
	State string `json:"state"`
	// Step is the 1-based step running or next, of Steps: the plan's steps,
	// or its rollback steps while the host rolls back.
	Step    int        `json:"step"`
	Steps   int        `json:"steps"`
	Wave    int        `json:"wave"`
	Canary  bool       `json:"canary,omitempty"`
	Failed  bool       `json:"failed,omitempty"`
	Error   string     `json:"error,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
}

// Rollouts is the answer of GET /api/v1/rollouts, the most recent first.
type Rollouts struct {
	Rollouts []Rollout `json:"rollouts"`
}

// Event is one thing that happened in a rollout.
type Event struct {
	ID   int64     `json:"id"`
	Time time.Time `json:"time"`
	// Kind is a dotted name: rollout.created, host.started, host.step,
	// host.failed, rollout.state…
	Kind    string `json:"kind"`
	Rollout string `json:"rollout"`
	Host    string `json:"host,omitempty"`
	// State is the rollout's new state, on rollout.state events.
	State   string `json:"state,omitempty"`
	Message string `json:"message"`
}

// Events is the answer of GET /api/v1/rollouts/{id}/events.
type Events struct {
	Events []Event `json:"events"`
}

// EventEnd is the Server-Sent Event that closes a rollout's stream once it
// ended and its last events were sent.
const EventEnd = "end"
