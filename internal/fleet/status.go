package fleet

import (
	"maps"
	"slices"
	"time"
)

// ComponentStatus is how a status-page component serves its customers. The
// values are Atlassian Statuspage's, so that widgets built for it read ours.
type ComponentStatus string

const (
	Operational         ComponentStatus = "operational"
	DegradedPerformance ComponentStatus = "degraded_performance"
	PartialOutage       ComponentStatus = "partial_outage"
	MajorOutage         ComponentStatus = "major_outage"
	UnderMaintenance    ComponentStatus = "under_maintenance"
)

// ComponentStatuses are the valid component statuses, best first.
var ComponentStatuses = []ComponentStatus{Operational, UnderMaintenance, DegradedPerformance, PartialOutage, MajorOutage}

// Valid reports whether s is one of ComponentStatuses.
func (s ComponentStatus) Valid() bool { return slices.Contains(ComponentStatuses, s) }

// Rank orders statuses by how much a customer suffers: a planned
// maintenance weighs less than any unplanned trouble, as customers were told.
func (s ComponentStatus) Rank() int { return slices.Index(ComponentStatuses, s) }

// Worse returns the worse of a and b.
func Worse(a, b ComponentStatus) ComponentStatus {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// HostHealth is what the status page knows of one host.
type HostHealth string

const (
	HostUp       HostHealth = "up"
	HostDegraded HostHealth = "degraded"
	HostDown     HostHealth = "down"
	// HostInMaintenance is a host in a maintenance its customers could
	// notice (drained, rebooting); while a drained host is patched behind
	// its load balancer, it stays up.
	HostInMaintenance HostHealth = "maintenance"
)

// IncidentStatus is where an unplanned incident stands.
type IncidentStatus string

const (
	Investigating IncidentStatus = "investigating"
	Identified    IncidentStatus = "identified"
	Monitoring    IncidentStatus = "monitoring"
	Resolved      IncidentStatus = "resolved"
)

// IncidentStatuses are the valid incident statuses, in their usual order.
var IncidentStatuses = []IncidentStatus{Investigating, Identified, Monitoring, Resolved}

// Valid reports whether s is one of IncidentStatuses.
func (s IncidentStatus) Valid() bool { return slices.Contains(IncidentStatuses, s) }

// Impact is how bad an incident is, or "maintenance" for a maintenance.
type Impact string

const (
	ImpactNone        Impact = "none"
	ImpactMinor       Impact = "minor"
	ImpactMajor       Impact = "major"
	ImpactCritical    Impact = "critical"
	ImpactMaintenance Impact = "maintenance"
)

// Impacts are the valid impacts of an incident, least first.
var Impacts = []Impact{ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical}

// Valid reports whether i is one of Impacts.
func (i Impact) Valid() bool { return slices.Contains(Impacts, i) }

// MaintenanceStatus is where a planned maintenance stands.
type MaintenanceStatus string

const (
	MaintenanceScheduled  MaintenanceStatus = "scheduled"
	MaintenanceInProgress MaintenanceStatus = "in_progress"
	MaintenanceVerifying  MaintenanceStatus = "verifying"
	MaintenanceCompleted  MaintenanceStatus = "completed"
)

// MaintenanceStatuses are the valid maintenance statuses, in order.
var MaintenanceStatuses = []MaintenanceStatus{MaintenanceScheduled, MaintenanceInProgress, MaintenanceVerifying, MaintenanceCompleted}

// Valid reports whether s is one of MaintenanceStatuses.
func (s MaintenanceStatus) Valid() bool { return slices.Contains(MaintenanceStatuses, s) }

// Active reports whether the maintenance has started and not ended.
func (s MaintenanceStatus) Active() bool {
	return s == MaintenanceInProgress || s == MaintenanceVerifying
}

// Text is a message in several languages, keyed by language code ("en",
// "fr", "de"): customers read the page in their own, and an operator may
// write in only one.
type Text map[string]string

// In returns the text in lang, else in fallback, else in the first language
// in alphabetical order, so that a text written in one language still shows.
func (t Text) In(lang, fallback string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	if s, ok := t[fallback]; ok {
		return s
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return t[keys[0]]
}

// ComponentGroup gathers components on the page, like "Shared hosting".
type ComponentGroup struct {
	ID          string
	Name        string
	Description string
	Position    int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Component is one thing customers rely on, served by the hosts of one or
// more inventory groups.
type Component struct {
	ID          string
	Name        string
	Description string
	// Group is the ID of its ComponentGroup, if any.
	Group    string
	Position int
	// Hosts are the hosts whose health makes the component's status.
	Hosts []string
	// Redundant says that its hosts serve behind a load balancer: its
	// customers are served while one of them is up.
	Redundant bool
	// Override, when set, is the status an operator chose; it wins over
	// the one derived from the hosts.
	Override ComponentStatus
	// OnlyShowIfDegraded hides the component while it is operational.
	OnlyShowIfDegraded bool
	// Showcase shows the component's uptime bars.
	Showcase  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AffectedComponent is a component an update changed.
type AffectedComponent struct {
	Component string
	Old, New  ComponentStatus
}

// StatusUpdate is one entry in the timeline of an incident or maintenance.
type StatusUpdate struct {
	ID string
	// Status is the incident's or the maintenance's status it announced.
	Status string
	Body   Text
	// DisplayAt is the time the update shows; usually CreatedAt.
	DisplayAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	Affected  []AffectedComponent
}

// Incident is an unplanned disruption.
type Incident struct {
	ID     string
	Name   Text
	Status IncidentStatus
	Impact Impact
	// Components are the IDs of the components it affects.
	Components   []string
	StartedAt    time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	MonitoringAt time.Time
	ResolvedAt   time.Time
	// Updates are in the order they were written.
	Updates []StatusUpdate
	// Rollout is the ID of the rollout whose halt or rollback opened it.
	Rollout string
}

// Maintenance is planned work on some components.
type Maintenance struct {
	ID     string
	Name   Text
	Status MaintenanceStatus
	// Components are the IDs of the components it affects.
	Components     []string
	ScheduledFor   time.Time
	ScheduledUntil time.Time
	StartedAt      time.Time
	CompletedAt    time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Updates        []StatusUpdate
	// Rollout is the ID of the rollout that drives it. Its hosts then say
	// which components customers see in maintenance; a maintenance without
	// a rollout puts all its components in maintenance while active.
	Rollout string
	// Hosts are the inventory hosts a maintenance scheduled by hand takes
	// out of service while it is in progress, each under a lease of the
	// ledger (fleet.LeaseMaintenance), drained once its budgets allow.
	Hosts []string
}

// Status is everything the public status page shows, as stored.
type Status struct {
	// Version changes with every change of the status.
	Version     uint64
	UpdatedAt   time.Time
	Groups      []ComponentGroup
	Components  []Component
	Hosts       map[string]HostHealth
	Incidents   []Incident
	Maintenance []Maintenance
}

// Clone returns a deep copy of s, for a reader to keep while s changes.
func (s *Status) Clone() Status {
	c := *s
	c.Groups = slices.Clone(s.Groups)
	c.Components = slices.Clone(s.Components)
	for i := range c.Components {
		c.Components[i].Hosts = slices.Clone(c.Components[i].Hosts)
	}
	c.Hosts = maps.Clone(s.Hosts)
	c.Incidents = slices.Clone(s.Incidents)
	for i := range c.Incidents {
		in := &c.Incidents[i]
		in.Name = maps.Clone(in.Name)
		in.Components = slices.Clone(in.Components)
		in.Updates = cloneUpdates(in.Updates)
	}
	c.Maintenance = slices.Clone(s.Maintenance)
	for i := range c.Maintenance {
		m := &c.Maintenance[i]
		m.Name = maps.Clone(m.Name)
		m.Components = slices.Clone(m.Components)
		m.Updates = cloneUpdates(m.Updates)
	}
	return c
}

func cloneUpdates(us []StatusUpdate) []StatusUpdate {
	us = slices.Clone(us)
	for i := range us {
		us[i].Body = maps.Clone(us[i].Body)
		us[i].Affected = slices.Clone(us[i].Affected)
	}
	return us
}
