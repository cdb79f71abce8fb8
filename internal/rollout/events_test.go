package rollout

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/plan"
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

func parsePlan(t testing.TB, src string) *fleet.Plan {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInMaintenance(t *testing.T) {
	p := parsePlan(t, patchPlan)
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

// TestStepMark walks a host through its steps and says what each move
// does to its maintenance.
func TestStepMark(t *testing.T) {
	p := parsePlan(t, patchPlan)
	type mark struct {
		m    Maintenance
		step fleet.StepKind
	}
	tests := []struct {
		name  string
		steps []fleet.Step
		want  []mark // from the start (finished -1), then after each step
	}{
		{"drains", p.Steps, []mark{
			{MaintenanceBegins, fleet.StepDrain},
			{MaintenanceGoesOn, fleet.StepRun},
			{MaintenanceGoesOn, fleet.StepReboot},
			{MaintenanceGoesOn, fleet.StepWaitHealthy},
			{MaintenanceGoesOn, fleet.StepUndrain},
			{MaintenanceEnds, ""}, // the undrain is through
			{MaintenanceNone, ""}, // host.done ends it, if still open
		}},
		{"reboots", p.Rollback, []mark{
			{MaintenanceNone, ""}, // the command runs in service
			{MaintenanceBegins, fleet.StepReboot},
			{MaintenanceGoesOn, fleet.StepWaitHealthy},
			{MaintenanceGoesOn, fleet.StepUndrain},
			{MaintenanceEnds, ""},
		}},
		{"drains twice", parsePlan(t, "name: twice\nsteps: [drain, undrain, drain, undrain]\n").Steps, []mark{
			{MaintenanceBegins, fleet.StepDrain},
			{MaintenanceGoesOn, fleet.StepUndrain},
			{MaintenanceBegins, fleet.StepDrain}, // the first ends, another begins
			{MaintenanceGoesOn, fleet.StepUndrain},
			{MaintenanceEnds, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.want {
				m, step := stepMark(tc.steps, i-1)
				if got := (mark{m, step}); got != want {
					t.Errorf("after step %d: %v, want %v", i-1, got, want)
				}
			}
		})
	}
}

// okRemote answers every command with exit code 0.
type okRemote struct{}

func (okRemote) Run(context.Context, *fleet.Host, string, io.Writer, io.Writer) (fleet.CommandResult, error) {
	return fleet.CommandResult{}, nil
}

// TestEventsTellTheMaintenance: a host's events carry its run and say
// when its maintenance begins and ends, and they are emitted with no lock
// of the engine held: a consumer may ask the engine about the rollout.
func TestEventsTellTheMaintenance(t *testing.T) {
	inv, _ := pairs(1)
	var mu sync.Mutex
	var got []Event
	db := openStore(t)
	var e *Engine
	e = NewEngine(Options{
		Store: db, Remote: okRemote{}, Inventory: func() *fleet.Inventory { return inv },
		Event: func(ctx context.Context, ev Event) {
			// Deadlocks if the run's lock is held.
			if _, err := e.Progress(ctx, ev.Rollout); err != nil {
				t.Errorf("progress from within an event: %v", err)
			}
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		},
		Poll: 10 * time.Millisecond, Tick: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	src := "name: quick\nsteps: [run: \"true\", drain, run: \"true\", undrain]\n"
	ro, err := e.Start(t.Context(), StartRequest{PlanFile: "quick.yaml", PlanSource: src, Selector: "web-gra-01"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitRollout(db, ro.ID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The store records the end before the engine tells it.
	waitFor(t, 5*time.Second, "the rollout's last event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		last := got[len(got)-1]
		return last.Kind == KindState && last.State.Ended()
	})
	type seen struct {
		kind EventKind
		step int // the run's step after the event
		m    Maintenance
		at   fleet.StepKind
	}
	want := []seen{
		{KindHostStarted, 0, MaintenanceNone, ""},
		{KindHostStep, 1, MaintenanceBegins, fleet.StepDrain},
		{KindHostStep, 2, MaintenanceGoesOn, fleet.StepRun},
		{KindHostStep, 3, MaintenanceGoesOn, fleet.StepUndrain},
		{KindHostStep, 4, MaintenanceEnds, ""},
		{KindHostDone, 4, MaintenanceEnds, ""},
	}
	mu.Lock()
	defer mu.Unlock()
	var host []seen
	for _, ev := range got {
		if ev.Host == "web-gra-01" && ev.Kind != KindHostWaiting {
			host = append(host, seen{ev.Kind, ev.Run.Step, ev.Maintenance, ev.Step})
		}
	}
	if !slices.Equal(host, want) {
		t.Errorf("events of web-gra-01:\n got %v\nwant %v", host, want)
	}
	if last := got[len(got)-1]; last.Kind != KindState || last.State != fleet.RolloutDone {
		t.Errorf("last event %+v, want the rollout done", last)
	}
}

// TestLoadTellsTheHostsInMaintenance: after a restart, Load says which
// hosts the unfinished rollouts hold inside their maintenance, for the
// alerts to mute them before the probes and the rollouts start again.
func TestLoadTellsTheHostsInMaintenance(t *testing.T) {
	db := openStore(t)
	now := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	r := &fleet.Rollout{ID: "r-1", PlanName: "patch", PlanFile: "patch.yaml", PlanSource: patchPlan, State: fleet.RolloutRunning, CreatedAt: now, UpdatedAt: now,
		Hosts: []fleet.HostRun{
			{Host: "draining", State: fleet.HostRunning, Step: 0},
			{Host: "rebooting", State: fleet.HostRunning, Step: 2},
			{Host: "undrained", State: fleet.HostRunning, Step: 5},
			{Host: "done", State: fleet.HostDone, Step: 6},
			{Host: "pending", State: fleet.HostPending},
			{Host: "rolling-back", State: fleet.HostRollingBack, Step: 1},
		}}
	broken := &fleet.Rollout{ID: "r-2", PlanFile: "broken.yaml", PlanSource: "steps: [", State: fleet.RolloutRunning, CreatedAt: now, UpdatedAt: now,
		Hosts: []fleet.HostRun{{Host: "other", State: fleet.HostRunning}}}
	for _, r := range []*fleet.Rollout{r, broken} {
		if err := db.CreateRollout(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	e := NewEngine(Options{Store: db})
	got, err := e.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Maintained{
		{Rollout: "r-1", Host: "draining", Step: fleet.StepDrain},
		{Rollout: "r-1", Host: "rebooting", Step: fleet.StepReboot},
		{Rollout: "r-1", Host: "rolling-back", Step: fleet.StepReboot},
	}
	if !slices.Equal(got, want) {
		t.Errorf("in maintenance:\n got %v\nwant %v", got, want)
	}
	if len(e.unfinished) != 1 || e.unfinished[0].Plan == nil || e.unfinished[0].Plan.Name != "patch" {
		t.Errorf("loaded %+v, want r-1 with its plan", e.unfinished)
	}
}
