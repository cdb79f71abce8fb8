package page

import (
	"cmp"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Derive is a component's status from its hosts' health and the
// maintenances under way, unless an operator overrode it.
//
// Unplanned trouble grows with the share of hosts down: one host down of
// many degrades the service, half of them or more is a partial outage, all
// of them a major one. Behind a load balancer (Redundant), the hosts still
// up serve every customer: hosts down only degrade it, until none is up. Hosts in maintenance are not counted as down: they
// put the component under maintenance, as does an active maintenance that
// no rollout drives (a rollout says host by host when customers could
// notice). When both happen, the worse shows.
func Derive(c fleet.Component, hosts map[string]fleet.HostHealth, maintenance []fleet.Maintenance) fleet.ComponentStatus {
	if c.Override.Valid() {
		return c.Override
	}
	var known, down, degraded, inMaintenance int
	for _, h := range c.Hosts {
		switch hosts[h] {
		case fleet.HostUp:
			known++
		case fleet.HostDegraded:
			known++
			degraded++
		case fleet.HostDown:
			known++
			down++
		case fleet.HostInMaintenance:
			inMaintenance++
		}
	}
	st := fleet.Operational
	switch {
	case known > 0 && down == known && inMaintenance == 0:
		st = fleet.MajorOutage
	case down > 0 && 2*down >= known+inMaintenance && !c.Redundant:
		st = fleet.PartialOutage
	case down > 0 || degraded > 0:
		st = fleet.DegradedPerformance
	}
	planned := inMaintenance > 0
	for _, m := range maintenance {
		if m.Status.Active() && m.Rollout == "" && slices.Contains(m.Components, c.ID) {
			planned = true
		}
	}
	if planned {
		st = fleet.Worse(st, fleet.UnderMaintenance)
	}
	return st
}

// shown is the status the page shows for each component and each group
// (the worst of its components'), by ID.
func shown(st *fleet.Status) map[string]fleet.ComponentStatus {
	out := make(map[string]fleet.ComponentStatus, len(st.Components)+len(st.Groups))
	for _, g := range st.Groups {
		out[g.ID] = fleet.Operational
	}
	for _, c := range st.Components {
		s := Derive(c, st.Hosts, st.Maintenance)
		out[c.ID] = s
		if g, ok := out[c.Group]; ok && c.Group != "" {
			out[c.Group] = fleet.Worse(g, s)
		}
	}
	return out
}

// stampShown moves the UpdatedAt of the components and groups of st whose
// shown status differs from before (shown's, before a change) to now: a
// component's updated_at is when customers last saw its status change, as
// on Statuspage, whatever changed it (its hosts, a maintenance, an
// operator). A component new to the page keeps its creation time.
func stampShown(st *fleet.Status, before map[string]fleet.ComponentStatus, now time.Time) {
	after := shown(st)
	moved := func(id string) bool {
		old, ok := before[id]
		return ok && old != after[id]
	}
	for i := range st.Components {
		if c := &st.Components[i]; moved(c.ID) {
			c.UpdatedAt = now
		}
	}
	for i := range st.Groups {
		if g := &st.Groups[i]; moved(g.ID) {
			g.UpdatedAt = now
		}
	}
}

// Indicators are the values of the page's status indicator, as Statuspage
// has them.
var Indicators = []string{"none", "minor", "major", "critical", "maintenance"}

// indicator is the page's overall status: the worst of the components and
// of the unresolved incidents' impacts; "maintenance" when only a
// maintenance is under way.
func indicator(statuses []fleet.ComponentStatus, unresolved []fleet.Incident, active []fleet.Maintenance) string {
	rank := map[string]int{"none": 0, "minor": 1, "major": 2, "critical": 3}
	worst := "none"
	raise := func(s string) {
		if rank[s] > rank[worst] {
			worst = s
		}
	}
	maintenance := len(active) > 0
	for _, s := range statuses {
		switch s {
		case fleet.DegradedPerformance:
			raise("minor")
		case fleet.PartialOutage:
			raise("major")
		case fleet.MajorOutage:
			raise("critical")
		case fleet.UnderMaintenance:
			maintenance = true
		}
	}
	for _, in := range unresolved {
		raise(string(in.Impact))
	}
	if worst == "none" && maintenance {
		return "maintenance"
	}
	return worst
}

// view is the status as the page shows it at one moment, shared by every
// representation and language.
type view struct {
	page     Page
	now      time.Time
	status   fleet.Status
	derived  map[string]fleet.ComponentStatus // by component ID
	history  map[string][]Day                 // by component ID
	groups   []fleet.ComponentGroup           // by position
	comps    []fleet.Component                // by position
	byID     map[string]*fleet.Component
	groupOf  map[string]*fleet.ComponentGroup
	indicate string
	// staleSince is when the status was last known current, when that is
	// longer ago than Options.StaleAfter; zero otherwise. Only the HTML
	// page says it: the JSON has Statuspage's fields, none for it.
	staleSince time.Time

	incidents   []fleet.Incident    // newest first
	unresolved  []fleet.Incident    // newest first
	maintenance []fleet.Maintenance // newest first
	active      []fleet.Maintenance // soonest first
	upcoming    []fleet.Maintenance // soonest first
}

// Lists are capped like Statuspage's: the 50 most recent.
const listLimit = 50

func newView(page Page, now time.Time, st fleet.Status, history map[string][]Day) *view {
	v := &view{
		page: page, now: now, status: st, history: history,
		derived: map[string]fleet.ComponentStatus{},
		byID:    map[string]*fleet.Component{},
		groupOf: map[string]*fleet.ComponentGroup{},
	}
	v.groups = slices.Clone(st.Groups)
	slices.SortStableFunc(v.groups, func(a, b fleet.ComponentGroup) int { return cmp.Compare(a.Position, b.Position) })
	for i := range v.groups {
		v.groupOf[v.groups[i].ID] = &v.groups[i]
	}
	v.comps = slices.Clone(st.Components)
	slices.SortStableFunc(v.comps, func(a, b fleet.Component) int { return cmp.Compare(a.Position, b.Position) })
	statuses := make([]fleet.ComponentStatus, 0, len(v.comps))
	for i := range v.comps {
		c := &v.comps[i]
		v.byID[c.ID] = c
		s := Derive(*c, st.Hosts, st.Maintenance)
		v.derived[c.ID] = s
		statuses = append(statuses, s)
	}

	v.incidents = slices.Clone(st.Incidents)
	slices.SortStableFunc(v.incidents, func(a, b fleet.Incident) int { return b.CreatedAt.Compare(a.CreatedAt) })
	for _, in := range v.incidents {
		if in.Status != fleet.Resolved {
			v.unresolved = append(v.unresolved, in)
		}
	}
	v.maintenance = slices.Clone(st.Maintenance)
	slices.SortStableFunc(v.maintenance, func(a, b fleet.Maintenance) int { return b.ScheduledFor.Compare(a.ScheduledFor) })
	for _, m := range v.maintenance {
		switch {
		case m.Status.Active():
			v.active = append(v.active, m)
		case m.Status == fleet.MaintenanceScheduled:
			v.upcoming = append(v.upcoming, m)
		}
	}
	slices.Reverse(v.active)
	slices.Reverse(v.upcoming)
	v.incidents = v.incidents[:min(len(v.incidents), listLimit)]
	v.maintenance = v.maintenance[:min(len(v.maintenance), listLimit)]
	v.indicate = indicator(statuses, v.unresolved, v.active)
	return v
}

// groupStatus is the worst status of a group's components.
func (v *view) groupStatus(id string) fleet.ComponentStatus {
	st := fleet.Operational
	for _, c := range v.comps {
		if c.Group == id {
			st = fleet.Worse(st, v.derived[c.ID])
		}
	}
	return st
}

func sortDesc[T any](items []T, at func(T) time.Time) {
	slices.SortStableFunc(items, func(a, b T) int { return at(b).Compare(at(a)) })
}
