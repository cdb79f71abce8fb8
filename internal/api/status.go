package api

import (
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// StatusPage is the answer to GET /api/v1/status: the status page as
// stored, each component with the status the page shows.
type StatusPage struct {
	Version   uint64    `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	// TimeZone is the IANA name of the zone the public page shows times
	// in, like Europe/Paris; "UTC" when the config sets none. An editor
	// takes and shows times in it, as customers will read them.
	TimeZone     string            `json:"time_zone"`
	Components   []StatusComponent `json:"components"`
	Incidents    []Incident        `json:"incidents"`
	Maintenances []Maintenance     `json:"maintenances"`
}

// StatusComponent is one component of the status page.
type StatusComponent struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Override is the status an operator set, which wins over the one
	// derived from the hosts; empty when the status is derived.
	Override string   `json:"override,omitempty"`
	Hosts    []string `json:"hosts"`
}

// StatusUpdate is one update of an incident or a maintenance.
type StatusUpdate struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	Body      fleet.Text `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
}

// Incident is an incident of the status page.
type Incident struct {
	ID         string         `json:"id"`
	Name       fleet.Text     `json:"name"`
	Status     string         `json:"status"`
	Impact     string         `json:"impact"`
	Components []string       `json:"components"`
	Rollout    string         `json:"rollout,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	ResolvedAt *time.Time     `json:"resolved_at"`
	Updates    []StatusUpdate `json:"updates"`
}

// Maintenance is a maintenance of the status page.
type Maintenance struct {
	ID             string         `json:"id"`
	Name           fleet.Text     `json:"name"`
	Status         string         `json:"status"`
	Components     []string       `json:"components"`
	Rollout        string         `json:"rollout,omitempty"`
	Hosts          []string       `json:"hosts,omitempty"`
	ScheduledFor   time.Time      `json:"scheduled_for"`
	ScheduledUntil time.Time      `json:"scheduled_until"`
	CompletedAt    *time.Time     `json:"completed_at"`
	Updates        []StatusUpdate `json:"updates"`
}

// NewIncident is the body of POST /api/v1/status/incidents. Status is
// investigating and Impact minor when empty.
type NewIncident struct {
	Name       fleet.Text `json:"name"`
	Status     string     `json:"status,omitempty"`
	Impact     string     `json:"impact,omitempty"`
	Components []string   `json:"components"`
	Body       fleet.Text `json:"body"`
}

// NewStatusUpdate is the body of POST …/incidents/{id}/updates and
// …/maintenances/{id}/updates.
type NewStatusUpdate struct {
	Status string     `json:"status"`
	Body   fleet.Text `json:"body"`
	// ScheduledUntil, for a maintenance only, moves the end of its window:
	// a maintenance an operator scheduled completes by itself then.
	ScheduledUntil *time.Time `json:"scheduled_until,omitempty"`
}

// NewMaintenance is the body of POST /api/v1/status/maintenances: a
// maintenance an operator schedules, that no rollout drives. It shows as
// upcoming until ScheduledFor, in progress (its components under
// maintenance) until ScheduledUntil, then completed, unless an operator
// updates it first. Body is its first update. Hosts, an inventory
// selection like a rollout's ("web-gra-01", "datacenter=gra,role=db"),
// takes those hosts out of service while it is in progress: each drained
// once its groups' budgets allow, back at the end; Components may then be
// left out, for those of the hosts.
type NewMaintenance struct {
	Name           fleet.Text `json:"name"`
	Hosts          string     `json:"hosts,omitempty"`
	Components     []string   `json:"components"`
	ScheduledFor   time.Time  `json:"scheduled_for"`
	ScheduledUntil time.Time  `json:"scheduled_until"`
	Body           fleet.Text `json:"body"`
}

// ComponentStatus is the body of POST /api/v1/status/components/{id}: the
// status the page shows for the component whatever its hosts say, or
// "auto" for the one derived from them again.
type ComponentStatus struct {
	Status string `json:"status"`
}

// AutoStatus is the ComponentStatus that hands a component's status back
// to its hosts.
const AutoStatus = "auto"
