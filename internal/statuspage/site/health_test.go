package site

import (
	"maps"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestApplyHealth(t *testing.T) {
	const (
		up    = fleet.HostUp
		down  = fleet.HostDown
		maint = fleet.HostInMaintenance
	)
	tests := []struct {
		name          string
		before, probe map[string]fleet.HostHealth
		want          map[string]fleet.HostHealth
		changed       bool
	}{
		{"first answers", nil, map[string]fleet.HostHealth{"a": up, "b": down},
			map[string]fleet.HostHealth{"a": up, "b": down}, true},
		{"nothing new", map[string]fleet.HostHealth{"a": up, "b": up}, map[string]fleet.HostHealth{"a": up, "b": up},
			map[string]fleet.HostHealth{"a": up, "b": up}, false},
		{"a host goes down", map[string]fleet.HostHealth{"a": up, "b": up}, map[string]fleet.HostHealth{"a": up, "b": down},
			map[string]fleet.HostHealth{"a": up, "b": down}, true},
		{"the rollout says when a host leaves maintenance", map[string]fleet.HostHealth{"a": maint, "b": up},
			map[string]fleet.HostHealth{"a": down, "b": up}, map[string]fleet.HostHealth{"a": maint, "b": up}, false},
		{"no answer leaves a host as it was", map[string]fleet.HostHealth{"a": down, "b": up}, map[string]fleet.HostHealth{"b": up},
			map[string]fleet.HostHealth{"a": down, "b": up}, false},
		{"hosts of no component are not the page's", nil, map[string]fleet.HostHealth{"a": up, "b": up, "z": down},
			map[string]fleet.HostHealth{"a": up, "b": up}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := fleet.Status{Components: []fleet.Component{{ID: "c", Hosts: []string{"a", "b"}}}, Hosts: maps.Clone(tt.before)}
			if got := applyHealth(&st, tt.probe); got != tt.changed {
				t.Errorf("changed = %v, want %v", got, tt.changed)
			}
			if !maps.Equal(st.Hosts, tt.want) {
				t.Errorf("hosts %v, want %v", st.Hosts, tt.want)
			}
		})
	}
}
