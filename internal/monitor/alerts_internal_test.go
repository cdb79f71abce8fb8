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
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

// TestRestoreMaintenance: after a restart, the hosts an unfinished
// rollout holds inside its maintenance are muted before the engine resumes
// them, so that a host rebooting on plan does not page.
func TestRestoreMaintenance(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	now := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	// As rollout.Engine.Load tells them.
	in := []rollout.Maintained{
		{Rollout: "r-1", Host: "draining", Step: fleet.StepDrain},
		{Rollout: "r-1", Host: "rebooting", Step: fleet.StepReboot},
		{Rollout: "r-1", Host: "rolling-back", Step: fleet.StepReboot},
	}
	cfg := &alert.Config{Route: alert.Route{Receiver: noReceiver}}
	cfg.SetDefaults()
	inv := &fleet.Inventory{}
	al := newAlerting(cfg, func() *fleet.Inventory { return inv }, st, nil, slog.New(slog.DiscardHandler),
		func() time.Time { return now }, func(string, string) {})
	if err := al.restore(ctx, func(string) bool { return true }, in); err != nil {
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
	ns := before.Flush(now.Add(cfg.Route.GroupWait))
	if len(ns) != 1 || len(ns[0].Firing) != 2 {
		t.Fatalf("not told: %+v", ns)
	}
	before.Sent(ns[0])
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
	if err := al.restore(t.Context(), func(id string) bool { return id == "ssh@kept" }, nil); err != nil {
		t.Fatal(err)
	}
	al.resolveUnconfirmed(clock.Add(confirmRestored - time.Second))
	if ns := al.pipe.Flush(clock.Add(confirmRestored - time.Second)); len(ns) != 0 {
		t.Fatalf("sent before the probes had their time: %+v", ns)
	}
	clock = clock.Add(confirmRestored)
	al.resolveUnconfirmed(clock)
	// At the group's next look.
	ns = al.pipe.Flush(clock.Add(cfg.Route.GroupInterval))
	if len(ns) != 1 || len(ns[0].Resolved) != 1 || ns[0].Resolved[0].Labels[alert.LabelHost] != "gone" || len(ns[0].Firing) != 1 {
		t.Fatalf("after the probes started: %+v, want gone resolved and kept firing", ns)
	}
}

// TestRolloutEventsMaintain: the rollouts' events open, move and close
// their hosts' maintenances as they say, with no read of the store.
func TestRolloutEventsMaintain(t *testing.T) {
	cfg := &alert.Config{Route: alert.Route{Receiver: noReceiver}}
	cfg.SetDefaults()
	inv := &fleet.Inventory{}
	now := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	al := newAlerting(cfg, func() *fleet.Inventory { return inv }, nil, nil, slog.New(slog.DiscardHandler),
		func() time.Time { return now }, func(string, string) {})
	host := func(kind rollout.EventKind, m rollout.Maintenance, step fleet.StepKind) rollout.Event {
		return rollout.Event{Rollout: "r-1", Host: "web-01", Kind: kind, Maintenance: m, Step: step}
	}
	tests := []struct {
		name string
		ev   rollout.Event
		open bool
		step string
	}{
		{"a command in service", host(rollout.KindHostStarted, rollout.MaintenanceNone, ""), false, ""},
		{"the drain begins it", host(rollout.KindHostStep, rollout.MaintenanceBegins, fleet.StepDrain), true, "drain"},
		{"the reboot goes on in it", host(rollout.KindHostStep, rollout.MaintenanceGoesOn, fleet.StepReboot), true, "reboot"},
		{"the undrain through ends it", host(rollout.KindHostStep, rollout.MaintenanceEnds, ""), false, "reboot"},
		{"a rollback's reboot begins another", host(rollout.KindHostStep, rollout.MaintenanceBegins, fleet.StepReboot), true, "reboot"},
		{"the rollout's end ends it", rollout.Event{Rollout: "r-1", Kind: rollout.KindState, State: fleet.RolloutHalted}, false, "reboot"},
		{"a missed beginning", host(rollout.KindHostStep, rollout.MaintenanceGoesOn, fleet.StepWaitHealthy), true, "wait_healthy"},
		{"another rollout's end leaves it", rollout.Event{Rollout: "r-2", Kind: rollout.KindState, State: fleet.RolloutDone}, true, "wait_healthy"},
		{"the host done", host(rollout.KindHostDone, rollout.MaintenanceEnds, ""), false, "wait_healthy"},
	}
	for _, tc := range tests {
		now = now.Add(time.Minute)
		al.rolloutEvent(tc.ev)
		m, ok := al.maint["web-01"]
		if open := ok && m.End.IsZero(); open != tc.open || m.Step != tc.step {
			t.Errorf("%s: open %v at %q, want open %v at %q", tc.name, open, m.Step, tc.open, tc.step)
		}
	}
}

// openStore opens a store of its own in a new SQLite file, closed with the
// test.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
