package page

import (
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestDerive(t *testing.T) {
	const (
		up    = fleet.HostUp
		down  = fleet.HostDown
		slow  = fleet.HostDegraded
		maint = fleet.HostInMaintenance
	)
	active := fleet.Maintenance{Status: fleet.MaintenanceInProgress, Components: []string{"c"}}
	byRollout := active
	byRollout.Rollout = "r1"
	scheduled := active
	scheduled.Status = fleet.MaintenanceScheduled
	tests := []struct {
		name        string
		hosts       []fleet.HostHealth
		override    fleet.ComponentStatus
		redundant   bool
		maintenance []fleet.Maintenance
		want        fleet.ComponentStatus
	}{
		{"all up", []fleet.HostHealth{up, up, up}, "", false, nil, fleet.Operational},
		{"no hosts", nil, "", false, nil, fleet.Operational},
		{"unknown hosts", []fleet.HostHealth{"", ""}, "", false, nil, fleet.Operational},
		{"one slow", []fleet.HostHealth{up, slow, up}, "", false, nil, fleet.DegradedPerformance},
		{"one down of four", []fleet.HostHealth{up, down, up, up}, "", false, nil, fleet.DegradedPerformance},
		{"half down", []fleet.HostHealth{up, down, up, down}, "", false, nil, fleet.PartialOutage},
		{"all down", []fleet.HostHealth{down, down}, "", false, nil, fleet.MajorOutage},
		{"one in maintenance", []fleet.HostHealth{maint, up, up}, "", false, nil, fleet.UnderMaintenance},
		{"all in maintenance", []fleet.HostHealth{maint, maint}, "", false, nil, fleet.UnderMaintenance},
		{"maintenance and an outage", []fleet.HostHealth{maint, down, down}, "", false, nil, fleet.PartialOutage},
		{"maintenance and one slow", []fleet.HostHealth{maint, slow, up, up}, "", false, nil, fleet.DegradedPerformance},
		{"hand-made maintenance under way", []fleet.HostHealth{up, up}, "", false, []fleet.Maintenance{active}, fleet.UnderMaintenance},
		{"rollout maintenance, no host noticed yet", []fleet.HostHealth{up, up}, "", false, []fleet.Maintenance{byRollout}, fleet.Operational},
		{"rollout maintenance, a host rebooting", []fleet.HostHealth{up, maint}, "", false, []fleet.Maintenance{byRollout}, fleet.UnderMaintenance},
		{"scheduled maintenance", []fleet.HostHealth{up}, "", false, []fleet.Maintenance{scheduled}, fleet.Operational},
		{"override wins", []fleet.HostHealth{down, down}, fleet.Operational, false, nil, fleet.Operational},
		{"override to outage", []fleet.HostHealth{up}, fleet.MajorOutage, false, nil, fleet.MajorOutage},
		{"behind a load balancer, half down", []fleet.HostHealth{up, down}, "", true, nil, fleet.DegradedPerformance},
		{"behind a load balancer, all but one down", []fleet.HostHealth{down, down, up}, "", true, nil, fleet.DegradedPerformance},
		{"behind a load balancer, all down", []fleet.HostHealth{down, down}, "", true, nil, fleet.MajorOutage},
		{"invalid override ignored", []fleet.HostHealth{up}, "broken", false, nil, fleet.Operational},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fleet.Component{ID: "c", Override: tt.override, Redundant: tt.redundant}
			health := map[string]fleet.HostHealth{}
			for i, h := range tt.hosts {
				name := string(rune('a' + i))
				c.Hosts = append(c.Hosts, name)
				if h != "" {
					health[name] = h
				}
			}
			if got := Derive(c, health, tt.maintenance); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestIndicator(t *testing.T) {
	minor := fleet.Incident{Status: fleet.Investigating, Impact: fleet.ImpactMinor}
	critical := fleet.Incident{Status: fleet.Investigating, Impact: fleet.ImpactCritical}
	active := fleet.Maintenance{Status: fleet.MaintenanceInProgress}
	tests := []struct {
		name       string
		components []fleet.ComponentStatus
		incidents  []fleet.Incident
		active     []fleet.Maintenance
		want       string
	}{
		{"all well", []fleet.ComponentStatus{fleet.Operational}, nil, nil, "none"},
		{"degraded", []fleet.ComponentStatus{fleet.Operational, fleet.DegradedPerformance}, nil, nil, "minor"},
		{"partial", []fleet.ComponentStatus{fleet.PartialOutage, fleet.DegradedPerformance}, nil, nil, "major"},
		{"major outage", []fleet.ComponentStatus{fleet.MajorOutage}, nil, nil, "critical"},
		{"component in maintenance", []fleet.ComponentStatus{fleet.UnderMaintenance}, nil, nil, "maintenance"},
		{"maintenance under way", nil, nil, []fleet.Maintenance{active}, "maintenance"},
		{"incident during maintenance", []fleet.ComponentStatus{fleet.UnderMaintenance}, []fleet.Incident{minor}, nil, "minor"},
		{"incident impact", []fleet.ComponentStatus{fleet.DegradedPerformance}, []fleet.Incident{critical}, nil, "critical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := indicator(tt.components, tt.incidents, tt.active); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// A component's and its group's updated_at move when, and only when, the
// status the page shows for them changes, whatever changed it.
func TestStampShown(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	base := func() fleet.Status {
		return fleet.Status{
			Groups: []fleet.ComponentGroup{{ID: "g", CreatedAt: t0, UpdatedAt: t0}},
			Components: []fleet.Component{
				{ID: "a", Group: "g", Hosts: []string{"a1"}, CreatedAt: t0, UpdatedAt: t0},
				{ID: "b", Group: "g", Hosts: []string{"b1"}, CreatedAt: t0, UpdatedAt: t0},
				{ID: "c", Hosts: []string{"c1"}, CreatedAt: t0, UpdatedAt: t0},
			},
			Hosts: map[string]fleet.HostHealth{"a1": fleet.HostUp, "b1": fleet.HostDown, "c1": fleet.HostUp},
		}
	}
	tests := []struct {
		name    string
		change  func(st *fleet.Status)
		stamped []string // the components and groups dated now
	}{
		{"a host goes down", func(st *fleet.Status) { st.Hosts["a1"] = fleet.HostDown }, []string{"a"}},
		{"the one host down in its group comes back", func(st *fleet.Status) { st.Hosts["b1"] = fleet.HostUp }, []string{"b", "g"}},
		{"a host of no group", func(st *fleet.Status) { st.Hosts["c1"] = fleet.HostDegraded }, []string{"c"}},
		{"an operator's override", func(st *fleet.Status) { st.Components[2].Override = fleet.MajorOutage }, []string{"c"}},
		{"an override the status already had", func(st *fleet.Status) { st.Components[2].Override = fleet.Operational }, nil},
		{"a maintenance by hand starts", func(st *fleet.Status) {
			st.Maintenance = append(st.Maintenance, fleet.Maintenance{ID: "m", Status: fleet.MaintenanceInProgress, Components: []string{"a", "c"}})
		}, []string{"a", "c"}},
		{"a maintenance still to come", func(st *fleet.Status) {
			st.Maintenance = append(st.Maintenance, fleet.Maintenance{ID: "m", Status: fleet.MaintenanceScheduled, Components: []string{"a"}})
		}, nil},
		{"an incident", func(st *fleet.Status) {
			st.Incidents = append(st.Incidents, fleet.Incident{ID: "i", Components: []string{"a"}})
		}, nil},
		{"a new component, down from the start", func(st *fleet.Status) {
			st.Components = append(st.Components, fleet.Component{ID: "d", Group: "g", Hosts: []string{"b1"}, CreatedAt: t0, UpdatedAt: t0})
		}, nil},
		{"a host moved to another component", func(st *fleet.Status) { st.Components[0].Hosts = []string{"b1"} }, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := base()
			before := shown(&st)
			tt.change(&st)
			stampShown(&st, before, now)
			got := map[string]time.Time{}
			for _, c := range st.Components {
				got[c.ID] = c.UpdatedAt
			}
			for _, g := range st.Groups {
				got[g.ID] = g.UpdatedAt
			}
			for id, at := range got {
				want := t0
				if slices.Contains(tt.stamped, id) {
					want = now
				}
				if !at.Equal(want) {
					t.Errorf("%s updated at %s, want %s", id, at.Format(time.TimeOnly), want.Format(time.TimeOnly))
				}
			}
		})
	}
}
