package server

import (
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/store"
)

const patchPlan = `name: patch
steps:
  - drain
  - run: apt-get upgrade
  - reboot: if_required
  - wait_healthy
  - undrain
  - run: echo done
rollback:
  - run: apt-get install openssl=3.0.11
  - reboot: if_required
  - wait_healthy
  - undrain
strategy:
  max_parallel: 50%
`

func TestInMaintenance(t *testing.T) {
	p, err := plan.Parse("patch.yaml", []byte(patchPlan))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		steps []fleet.Step
		want  []bool // by step index
	}{
		// From the drain to the undrain, which ends it once done.
		{"drains", p.Steps, []bool{true, true, true, true, true, false}},
		// Without a drain, from the first reboot to the end.
		{"reboots", p.Rollback, []bool{false, true, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.want {
				if got := inMaintenance(tc.steps, i); got != want {
					t.Errorf("step %d (%s): in maintenance %v, want %v", i, tc.steps[i].Kind, got, want)
				}
			}
			if inMaintenance(tc.steps, len(tc.steps)) || inMaintenance(tc.steps, -1) {
				t.Error("in maintenance outside the steps")
			}
		})
	}
}

// TestRestoreMaintenance: after a restart, the hosts an unfinished
// rollout holds inside its maintenance are muted before the engine resumes
// them, so that a host rebooting on plan does not page.
func TestRestoreMaintenance(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	r := &fleet.Rollout{ID: "r-1", PlanFile: "patch.yaml", PlanSource: patchPlan, State: fleet.RolloutRunning, CreatedAt: now, UpdatedAt: now,
		Hosts: []fleet.HostRun{
			{Host: "draining", State: fleet.HostRunning, Step: 0},
			{Host: "rebooting", State: fleet.HostRunning, Step: 2},
			{Host: "undrained", State: fleet.HostRunning, Step: 5},
			{Host: "done", State: fleet.HostDone, Step: 6},
			{Host: "pending", State: fleet.HostPending},
			{Host: "rolling-back", State: fleet.HostRollingBack, Step: 1},
		}}
	if err := st.CreateRollout(ctx, r); err != nil {
		t.Fatal(err)
	}
	cfg := &alert.Config{Route: alert.Route{Receiver: noReceiver}}
	cfg.SetDefaults()
	inv := &fleet.Inventory{}
	al := newAlerting(cfg, func() *fleet.Inventory { return inv }, st, nil, slog.New(slog.DiscardHandler),
		func() time.Time { return now }, func(string, string) {})
	if err := al.restore(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	var muted []string
	for h, m := range al.maint {
		if m.Rollout == "r-1" && m.End.IsZero() {
			muted = append(muted, h)
		}
	}
	slices.Sort(muted)
	if want := []string{"draining", "rebooting", "rolling-back"}; !slices.Equal(muted, want) {
		t.Errorf("in maintenance after the restart: %v, want %v", muted, want)
	}
	a := alert.Alert{Labels: alert.Labels{alert.LabelAlertname: alert.ProbeDown, alert.LabelHost: "rebooting"}, StartsAt: now}
	if _, rollout := al.muting(&a, nil, now.Add(time.Minute)); rollout != "r-1" {
		t.Errorf("the alert of a host rebooting on plan is muted by %q, want r-1", rollout)
	}
}
