package monitor

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
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
	if err := al.restore(ctx, func(string) bool { return true }); err != nil {
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
	a := alert.Alert{Labels: labels.Set{alert.LabelAlertname: alert.ProbeDown, alert.LabelHost: "rebooting"}, StartsAt: now}
	if _, rollout := al.muting(&a, nil, now.Add(time.Minute)); rollout != "r-1" {
		t.Errorf("the alert of a host rebooting on plan is muted by %q, want r-1", rollout)
	}
}

// TestRestoredAlertOfAGoneTarget: an alert told before a restart, whose
// target the probes no longer run, ends once they have started, with its
// resolved notice; one whose target they run waits for its probe.
func TestRestoredAlertOfAGoneTarget(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := &alert.Config{Route: alert.Route{Receiver: noReceiver}}
	cfg.SetDefaults()
	inv := &fleet.Inventory{}
	now := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	down := func(host string) alert.Alert {
		return alert.Alert{Labels: labels.Set{alert.LabelAlertname: alert.ProbeDown, alert.LabelHost: host, alert.LabelProbe: "ssh"}, StartsAt: now}
	}
	before := alert.New(cfg, inv)
	before.Receive(down("gone"))
	before.Receive(down("kept"))
	if ns := before.Flush(now); len(ns) != 0 {
		t.Fatalf("sent at once: %+v", ns)
	}
	if ns := before.Flush(now.Add(cfg.Route.GroupWait)); len(ns) != 1 || len(ns[0].Firing) != 2 {
		t.Fatalf("not told: %+v", ns)
	}
	data, err := json.Marshal(before.State())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAlertState(t.Context(), data); err != nil {
		t.Fatal(err)
	}

	clock := now.Add(time.Hour)
	al := newAlerting(cfg, func() *fleet.Inventory { return inv }, st, nil, slog.New(slog.DiscardHandler),
		func() time.Time { return clock }, func(string, string) {})
	if err := al.restore(t.Context(), func(id string) bool { return id == "ssh@kept" }); err != nil {
		t.Fatal(err)
	}
	al.resolveUnconfirmed(clock.Add(confirmRestored - time.Second))
	if ns := al.pipe.Flush(clock.Add(confirmRestored - time.Second)); len(ns) != 0 {
		t.Fatalf("sent before the probes had their time: %+v", ns)
	}
	clock = clock.Add(confirmRestored)
	al.resolveUnconfirmed(clock)
	// At the group's next look.
	ns := al.pipe.Flush(clock.Add(cfg.Route.GroupInterval))
	if len(ns) != 1 || len(ns[0].Resolved) != 1 || ns[0].Resolved[0].Labels[alert.LabelHost] != "gone" || len(ns[0].Firing) != 1 {
		t.Fatalf("after the probes started: %+v, want gone resolved and kept firing", ns)
	}
}
