package page

import (
	"fmt"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Advance moves the maintenances operators scheduled along their window, as
// customers were told: scheduled turns in_progress at ScheduledFor and
// in_progress turns completed at ScheduledUntil, each with an update in
// every language. A maintenance a rollout drives is left to the rollout,
// and one an operator took on by hand (verifying, or completed early) to the
// operator; to keep one open longer, an operator moves its ScheduledUntil.
// Advance reports whether st changed.
func (n *Notices) Advance(st *fleet.Status, now time.Time) (bool, error) {
	changed := false
	for i := range st.Maintenance {
		m := &st.Maintenance[i]
		if m.Rollout != "" {
			continue
		}
		var kind string
		switch {
		case m.Status == fleet.MaintenanceScheduled && !now.Before(m.ScheduledFor):
			kind = WindowStarted
		case m.Status == fleet.MaintenanceInProgress && !now.Before(m.ScheduledUntil):
			kind = WindowEnded
		default:
			continue
		}
		before := componentStatuses(st, m.Components)
		if kind == WindowStarted {
			m.Status, m.StartedAt = fleet.MaintenanceInProgress, now
		} else {
			m.Status, m.CompletedAt = fleet.MaintenanceCompleted, now
		}
		body, err := n.Text(kind, Progress{Components: componentNames(st, m.Components), Start: m.ScheduledFor, ETA: m.ScheduledUntil})
		if err != nil {
			return false, err
		}
		after := componentStatuses(st, m.Components)
		var affected []fleet.AffectedComponent
		for _, c := range m.Components {
			if s, ok := after[c]; ok {
				affected = append(affected, fleet.AffectedComponent{Component: c, Old: before[c], New: s})
			}
		}
		m.UpdatedAt = now
		m.Updates = append(m.Updates, fleet.StatusUpdate{
			ID: fmt.Sprintf("%s-%d", m.ID, len(m.Updates)+1), Status: string(m.Status), Body: body,
			DisplayAt: now, CreatedAt: now, UpdatedAt: now, Affected: affected,
		})
		changed = true
	}
	return changed, nil
}

// componentStatuses are the statuses the page shows for the components ids.
func componentStatuses(st *fleet.Status, ids []string) map[string]fleet.ComponentStatus {
	out := map[string]fleet.ComponentStatus{}
	for _, c := range st.Components {
		if slices.Contains(ids, c.ID) {
			out[c.ID] = Derive(c, st.Hosts, st.Maintenance)
		}
	}
	return out
}

// componentNames are the names of the components ids, in the page's
// order; an ID the page lost stands for its name.
func componentNames(st *fleet.Status, ids []string) []string {
	comps := slices.Clone(st.Components)
	slices.SortStableFunc(comps, func(a, b fleet.Component) int { return a.Position - b.Position })
	var names []string
	for _, c := range comps {
		if slices.Contains(ids, c.ID) {
			names = append(names, c.Name)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(st.Components, func(c fleet.Component) bool { return c.ID == id }) {
			names = append(names, id)
		}
	}
	return names
}
