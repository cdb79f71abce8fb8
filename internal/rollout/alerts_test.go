package rollout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// told renders a decision in words, in its order, for comparison.
func told(d alertDecision) []string {
	var out []string
	for _, p := range d.pause {
		out = append(out, "pause "+p.Rollout+" by "+p.Labels["alertname"])
	}
	for _, r := range d.resolved {
		out = append(out, fmt.Sprintf("%s resolved for %s, %d still firing, resume %v", r.Labels["alertname"], r.Rollout, r.StillFiring, r.Resumed))
	}
	for _, id := range slices.Sorted(maps.Keys(d.firing)) {
		var names []string
		for _, l := range d.firing[id] {
			names = append(names, l["alertname"])
		}
		slices.Sort(names)
		out = append(out, id+" firing ["+strings.Join(names, " ")+"]")
	}
	return out
}

func TestDecideAlerts(t *testing.T) {
	t0 := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	nodeDown := labels.Set{"alertname": "NodeDown", "datacenter": "gra"}
	highLoad := labels.Set{"alertname": "HighLoad", "datacenter": "sbg"}
	diskFull := labels.Set{"alertname": "DiskFull", "datacenter": "gra"}
	type opt func(*alertView)
	firing := func(ls ...labels.Set) opt {
		return func(v *alertView) {
			v.firing = map[string]labels.Set{}
			for _, l := range ls {
				v.firing[l.Fingerprint()] = l
			}
		}
	}
	byAlerts := func(v *alertView) { v.byAlerts = true }
	resumes := func(v *alertView) { v.r.Plan.Strategy.ResumeWhenResolved = true }
	view := func(id string, state fleet.RolloutState, created int, matchers []string, opts ...opt) alertView {
		p := &fleet.Plan{Name: "patch"}
		p.Strategy.PauseOnAlerts = matchers
		v := alertView{r: &fleet.Rollout{ID: id, Plan: p, State: state, CreatedAt: t0.Add(time.Duration(created) * time.Minute)}}
		for _, o := range opts {
			o(&v)
		}
		return v
	}
	running, paused := fleet.RolloutRunning, fleet.RolloutPaused
	every := []string{"alertname=~.+"}
	tests := []struct {
		name   string
		views  []alertView
		notice AlertNotice
		want   []string
	}{
		{"all matchers match", []alertView{view("r1", running, 0, []string{"alertname=NodeDown", "datacenter=~gra|rbx"})},
			AlertNotice{Firing: []labels.Set{highLoad, nodeDown}}, []string{"pause r1 by NodeDown", "r1 firing [NodeDown]"}},
		{"one matcher does not", []alertView{view("r1", running, 0, []string{"alertname=NodeDown", "datacenter=sbg"})},
			AlertNotice{Firing: []labels.Set{nodeDown}}, nil},
		{"the first alert that matches pauses, all are kept", []alertView{view("r1", running, 0, every)},
			AlertNotice{Firing: []labels.Set{highLoad, nodeDown}}, []string{"pause r1 by HighLoad", "r1 firing [HighLoad NodeDown]"}},
		{"no matchers, no pause", []alertView{view("r1", running, 0, nil)}, AlertNotice{Firing: []labels.Set{nodeDown}}, nil},
		{"a paused rollout keeps its alerts, without another pause", []alertView{view("r1", paused, 0, every, firing(nodeDown))},
			AlertNotice{Firing: []labels.Set{nodeDown, highLoad}}, []string{"r1 firing [HighLoad NodeDown]"}},
		{"an alert told again changes nothing", []alertView{view("r1", paused, 0, every, firing(nodeDown))},
			AlertNotice{Firing: []labels.Set{nodeDown}}, nil},
		{"a rollout that halts is left alone", []alertView{view("halting", fleet.RolloutHalting, 0, every)},
			AlertNotice{Firing: []labels.Set{nodeDown}}, nil},
		{"a bad matcher pauses nothing", []alertView{view("r1", running, 0, []string{"alertname=~("})}, AlertNotice{Firing: []labels.Set{nodeDown}}, nil},
		{"most recent first", []alertView{
			view("old", running, 0, []string{"alertname=NodeDown"}),
			view("new", running, 5, []string{"datacenter=gra"}),
		}, AlertNotice{Firing: []labels.Set{nodeDown}}, []string{"pause new by NodeDown", "pause old by NodeDown", "new firing [NodeDown]", "old firing [NodeDown]"}},

		{"the last alert resolved resumes a rollout the alerts paused", []alertView{view("r1", paused, 0, every, firing(nodeDown), byAlerts, resumes)},
			AlertNotice{Resolved: []labels.Set{nodeDown}}, []string{"NodeDown resolved for r1, 0 still firing, resume true", "r1 firing []"}},
		{"without resume_when_resolved, it is told only", []alertView{view("r1", paused, 0, every, firing(nodeDown), byAlerts)},
			AlertNotice{Resolved: []labels.Set{nodeDown}}, []string{"NodeDown resolved for r1, 0 still firing, resume false", "r1 firing []"}},
		{"one paused by an operator stays paused", []alertView{view("r1", paused, 0, every, firing(nodeDown), resumes)},
			AlertNotice{Resolved: []labels.Set{nodeDown}}, []string{"NodeDown resolved for r1, 0 still firing, resume false", "r1 firing []"}},
		{"another alert still fires", []alertView{view("r1", paused, 0, every, firing(nodeDown, highLoad), byAlerts, resumes)},
			AlertNotice{Resolved: []labels.Set{nodeDown}}, []string{"NodeDown resolved for r1, 1 still firing, resume false", "r1 firing [HighLoad]"}},
		{"an alert that fires as another resolves", []alertView{view("r1", paused, 0, every, firing(nodeDown), byAlerts, resumes)},
			AlertNotice{Firing: []labels.Set{diskFull}, Resolved: []labels.Set{nodeDown}}, []string{"NodeDown resolved for r1, 1 still firing, resume false", "r1 firing [DiskFull]"}},
		{"two resolved at once: the last resumes", []alertView{view("r1", paused, 0, every, firing(nodeDown, highLoad), byAlerts, resumes)},
			AlertNotice{Resolved: []labels.Set{nodeDown, highLoad}}, []string{
				"NodeDown resolved for r1, 0 still firing, resume false", "HighLoad resolved for r1, 0 still firing, resume true", "r1 firing []"}},
		{"an alert the rollout never saw fire is not told", []alertView{view("r1", paused, 0, every, byAlerts, resumes)},
			AlertNotice{Resolved: []labels.Set{nodeDown}}, nil},
		{"a resolved alert on a running rollout is told, and resumes nothing", []alertView{view("r1", running, 0, every, firing(nodeDown), resumes)},
			AlertNotice{Resolved: []labels.Set{nodeDown}}, []string{"NodeDown resolved for r1, 0 still firing, resume false", "r1 firing []"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := map[string]int{}
			for _, v := range tc.views {
				before[v.r.ID] = len(v.firing)
			}
			got := told(decideAlerts(tc.views, tc.notice))
			if !slices.Equal(got, tc.want) {
				t.Errorf("decided\n %q\nwant\n %q", got, tc.want)
			}
			for _, v := range tc.views {
				if len(v.firing) != before[v.r.ID] {
					t.Errorf("the view of %s was changed: %v", v.r.ID, v.firing)
				}
			}
		})
	}
}

// closedPlan is a plan whose window opens in three days: its rollout runs,
// its hosts waiting, for as long as a test needs.
func closedPlan(strategy string) string {
	day := strings.ToLower(time.Now().UTC().AddDate(0, 0, 3).Weekday().String()[:3])
	return "name: later\nsteps: [run: \"true\"]\nstrategy:\n" + strategy + "window: {days: [" + day + "], hours: 09:00-10:00}\n"
}

// An engine's rollout paused by an alert resumes when the alert resolves,
// if its plan says so, and never when an operator paused it since.
func TestOnAlerts(t *testing.T) {
	inv, _ := pairs(2)
	db := openStore(t)
	e := NewEngine(Options{Store: db, Remote: okRemote{}, Inventory: func() *fleet.Inventory { return inv },
		Poll: 10 * time.Millisecond, Tick: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	state := func(id string) fleet.RolloutState {
		t.Helper()
		pr, err := e.Progress(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return pr.State
	}
	// An operator's order is taken at the rollout's pace.
	await := func(id string, want fleet.RolloutState) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); state(id) != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("rollout %s is %s, want %s", id, state(id), want)
			}
		}
	}
	nodeDown := labels.Set{"alertname": "NodeDown", "datacenter": "gra"}
	highLoad := labels.Set{"alertname": "HighLoad", "datacenter": "gra"}
	start := func(selector, strategy string) string {
		t.Helper()
		ro, err := e.Start(t.Context(), StartRequest{PlanFile: "later.yaml", PlanSource: closedPlan(strategy), Selector: selector})
		if err != nil {
			t.Fatal(err)
		}
		return ro.ID
	}
	resuming := start("web-gra-01", "  pause_on_alerts: ['datacenter=gra']\n  resume_when_resolved: true\n")
	staying := start("web-gra-02", "  pause_on_alerts: ['alertname=NodeDown']\n")

	out := e.OnAlerts(AlertNotice{Firing: []labels.Set{nodeDown}})
	if len(out.Paused) != 2 || state(resuming) != fleet.RolloutPaused || state(staying) != fleet.RolloutPaused {
		t.Fatalf("NodeDown paused %+v; rollouts %s and %s", out.Paused, state(resuming), state(staying))
	}
	e.OnAlerts(AlertNotice{Firing: []labels.Set{highLoad}})
	out = e.OnAlerts(AlertNotice{Resolved: []labels.Set{nodeDown}})
	if len(out.Resolved) != 2 || state(resuming) != fleet.RolloutPaused {
		t.Fatalf("NodeDown resolved, HighLoad firing: told %+v, %s is %s", out.Resolved, resuming, state(resuming))
	}
	out = e.OnAlerts(AlertNotice{Resolved: []labels.Set{highLoad}})
	if len(out.Resolved) != 1 || !out.Resolved[0].Resumed || state(resuming) != fleet.RolloutRunning {
		t.Fatalf("every alert resolved: told %+v, %s is %s", out.Resolved, resuming, state(resuming))
	}
	if state(staying) != fleet.RolloutPaused {
		t.Errorf("a plan without resume_when_resolved resumed")
	}

	// Paused by an alert, resumed and paused again by an operator: the
	// alert's end leaves it paused.
	e.OnAlerts(AlertNotice{Firing: []labels.Set{nodeDown}})
	for _, c := range []Command{Resume, Pause} {
		if err := e.Order(t.Context(), resuming, c, "an operator"); err != nil {
			t.Fatal(err)
		}
		await(resuming, map[Command]fleet.RolloutState{Resume: fleet.RolloutRunning, Pause: fleet.RolloutPaused}[c])
	}
	out = e.OnAlerts(AlertNotice{Resolved: []labels.Set{nodeDown}})
	if len(out.Resolved) != 2 || slices.ContainsFunc(out.Resolved, func(r ResolvedAlert) bool { return r.Resumed }) || state(resuming) != fleet.RolloutPaused {
		t.Errorf("an alert resolved on a rollout an operator paused: told %+v, it is %s", out.Resolved, state(resuming))
	}
}
