package page

import (
	"testing"

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
