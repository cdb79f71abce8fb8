package rollout

import (
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

func TestAlertsPause(t *testing.T) {
	t0 := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	rollout := func(id string, state fleet.RolloutState, created int, matchers ...string) *fleet.Rollout {
		p := &fleet.Plan{Name: "patch"}
		p.Strategy.PauseOnAlerts = matchers
		return &fleet.Rollout{ID: id, Plan: p, State: state, CreatedAt: t0.Add(time.Duration(created) * time.Minute)}
	}
	nodeDown := labels.Set{"alertname": "NodeDown", "datacenter": "gra"}
	highLoad := labels.Set{"alertname": "HighLoad", "datacenter": "sbg"}
	tests := []struct {
		name     string
		rollouts []*fleet.Rollout
		firing   []labels.Set
		want     []PausedByAlert
	}{
		{"all matchers match", []*fleet.Rollout{rollout("r1", fleet.RolloutRunning, 0, "alertname=NodeDown", "datacenter=~gra|rbx")},
			[]labels.Set{highLoad, nodeDown}, []PausedByAlert{{"r1", nodeDown}}},
		{"one matcher does not", []*fleet.Rollout{rollout("r1", fleet.RolloutRunning, 0, "alertname=NodeDown", "datacenter=sbg")},
			[]labels.Set{nodeDown}, nil},
		{"the first alert that matches", []*fleet.Rollout{rollout("r1", fleet.RolloutRunning, 0, "alertname=~.+")},
			[]labels.Set{highLoad, nodeDown}, []PausedByAlert{{"r1", highLoad}}},
		{"no matchers, no pause", []*fleet.Rollout{rollout("r1", fleet.RolloutRunning, 0)}, []labels.Set{nodeDown}, nil},
		{"only running rollouts", []*fleet.Rollout{
			rollout("paused", fleet.RolloutPaused, 0, "alertname=NodeDown"),
			rollout("halting", fleet.RolloutHalting, 0, "alertname=NodeDown"),
		}, []labels.Set{nodeDown}, nil},
		{"a bad matcher pauses nothing", []*fleet.Rollout{rollout("r1", fleet.RolloutRunning, 0, "alertname=~(")}, []labels.Set{nodeDown}, nil},
		{"most recent first", []*fleet.Rollout{
			rollout("old", fleet.RolloutRunning, 0, "alertname=NodeDown"),
			rollout("new", fleet.RolloutRunning, 5, "datacenter=gra"),
		}, []labels.Set{nodeDown}, []PausedByAlert{{"new", nodeDown}, {"old", nodeDown}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := alertsPause(tc.rollouts, tc.firing)
			if !slices.EqualFunc(got, tc.want, func(a, b PausedByAlert) bool {
				return a.Rollout == b.Rollout && a.Labels.Fingerprint() == b.Labels.Fingerprint()
			}) {
				t.Errorf("paused %v, want %v", got, tc.want)
			}
		})
	}
}
