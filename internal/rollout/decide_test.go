package rollout

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/fleet"
)

// pairs builds n groups of two hosts, one per datacenter, budget 1.
func pairs(n int) (*fleet.Inventory, []string) {
	inv := &fleet.Inventory{}
	one := fleet.Quantity{N: 1}
	var hosts []string
	for i := 1; i <= n; i++ {
		g := &fleet.Group{Name: fmt.Sprintf("web-%02d", i), Budget: fleet.Budget{MaxUnavailable: &one}}
		for _, dc := range []string{"gra", "sbg"} {
			name := fmt.Sprintf("web-%s-%02d", dc, i)
			inv.Hosts = append(inv.Hosts, &fleet.Host{Name: name, Datacenter: dc, Groups: []string{g.Name}})
			g.Members = append(g.Members, name)
			hosts = append(hosts, name)
		}
		inv.Groups = append(inv.Groups, g)
	}
	return inv, hosts
}

func runs(hosts []string, canaries int) []fleet.HostRun {
	out := make([]fleet.HostRun, len(hosts))
	for i, h := range hosts {
		out[i] = fleet.HostRun{Host: h, State: fleet.HostPending, Canary: i < canaries, Wave: 1}
	}
	return out
}

func TestDecide(t *testing.T) {
	inv, hosts := pairs(3)
	top := NewTopology(inv, hosts)
	base := func() Input {
		return Input{State: fleet.RolloutRunning, Hosts: runs(hosts, 0), WindowOpen: true, MaxParallel: 10}
	}
	tests := []struct {
		name        string
		edit        func(*Input)
		wantStart   []string
		wantState   fleet.RolloutState
		wantWaiting map[string]string
		wantBack    []string
	}{
		{
			name:      "one half of every pair",
			edit:      func(*Input) {},
			wantStart: []string{"web-gra-01", "web-gra-02", "web-gra-03"},
			wantState: fleet.RolloutRunning,
			wantWaiting: map[string]string{
				"web-sbg-01": "partner web-gra-01 is in maintenance",
			},
		},
		{
			name:        "max parallel",
			edit:        func(in *Input) { in.MaxParallel = 1 },
			wantStart:   []string{"web-gra-01"},
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-gra-02": "1 hosts are in maintenance, the most the plan allows at once"},
		},
		{
			name:        "width under max parallel",
			edit:        func(in *Input) { in.Width, in.WidthWhy = 2, "halved as backend web-01 answered 5xx" },
			wantStart:   []string{"web-gra-01", "web-gra-02"},
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-gra-03": "2 hosts are in maintenance, as many as the rollout takes at once now (max_parallel 10): halved as backend web-01 answered 5xx"},
		},
		{
			name:        "customers' errors hold",
			edit:        func(in *Input) { in.Hold = "backend web-01 answered 5xx" },
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-gra-01": "customers see errors: backend web-01 answered 5xx"},
		},
		{
			name:      "customers' errors halt",
			edit:      func(in *Input) { in.Halt = "customers see errors: too many" },
			wantState: fleet.RolloutHalted,
		},
		{
			name:        "partner unhealthy",
			edit:        func(in *Input) { in.Down = map[string]string{"web-gra-01": "unreachable"} },
			wantStart:   []string{"web-gra-02", "web-gra-03"},
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-gra-01": "it is down itself (unreachable)", "web-sbg-01": "partner web-gra-01 is unreachable"},
		},
		{
			name:        "canaries first",
			edit:        func(in *Input) { in.Hosts = runs(hosts, 1) },
			wantStart:   []string{"web-gra-01"},
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-gra-02": "the canaries go first"},
		},
		{
			name: "canary failed halts and rolls back",
			edit: func(in *Input) {
				in.Hosts = runs(hosts, 1)
				in.Hosts[0].State, in.Hosts[0].Failed = fleet.HostFailed, true
				in.MaxFailures = 5
			},
			wantState: fleet.RolloutHalting,
			wantBack:  []string{"web-gra-01"},
		},
		{
			name:        "window closed",
			edit:        func(in *Input) { in.WindowOpen = false },
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-gra-01": "outside the maintenance window"},
		},
		{
			name: "waves in order",
			edit: func(in *Input) {
				in.Ordered = true
				for i := range in.Hosts {
					if strings.Contains(in.Hosts[i].Host, "sbg") {
						in.Hosts[i].Wave = 2
					}
				}
				in.Hosts[0].State = fleet.HostDone
			},
			wantStart:   []string{"web-gra-02", "web-gra-03"},
			wantState:   fleet.RolloutRunning,
			wantWaiting: map[string]string{"web-sbg-01": "wave 1 must end first"},
		},
		{
			name: "all done",
			edit: func(in *Input) {
				for i := range in.Hosts {
					in.Hosts[i].State = fleet.HostDone
				}
			},
			wantState: fleet.RolloutDone,
		},
		{
			name: "rollback all respects budgets",
			edit: func(in *Input) {
				in.State, in.RollbackAll, in.MaxParallel = fleet.RolloutHalting, true, 10
				for i := range in.Hosts {
					in.Hosts[i].State = fleet.HostDone
				}
			},
			wantState: fleet.RolloutHalting,
			wantBack:  []string{"web-gra-01", "web-gra-02", "web-gra-03"},
		},
		{
			name: "halting ends when nothing is in maintenance",
			edit: func(in *Input) {
				in.State = fleet.RolloutHalting
				in.Hosts[0].State, in.Hosts[0].Failed = fleet.HostRolledBack, true
			},
			wantState: fleet.RolloutHalted,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			got := Decide(top, in)
			if !slices.Equal(got.Start, tt.wantStart) {
				t.Errorf("start %v, want %v", got.Start, tt.wantStart)
			}
			if !slices.Equal(got.Rollback, tt.wantBack) {
				t.Errorf("rollback %v, want %v", got.Rollback, tt.wantBack)
			}
			if got.State != tt.wantState {
				t.Errorf("state %s (%s), want %s", got.State, got.Reason, tt.wantState)
			}
			for h, want := range tt.wantWaiting {
				if got.Waiting[h] != want {
					t.Errorf("%s waits %q, want %q", h, got.Waiting[h], want)
				}
			}
		})
	}
}

// world is a random fleet and rollout for the property test.
type world struct {
	inv  *fleet.Inventory
	top  *Topology
	in   Input
	rng  *rand.Rand
	fail float64 // chance that a host's steps fail
}

func randomWorld(seed uint64) *world {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	inv := &fleet.Inventory{}
	ngroups := 1 + rng.IntN(8)
	for gi := range ngroups {
		size := 1 + rng.IntN(4)
		var b fleet.Budget
		switch rng.IntN(3) {
		case 0:
			q := fleet.Quantity{N: rng.IntN(size + 1)}
			b.MaxUnavailable = &q
		case 1:
			q := fleet.Quantity{N: 25 * rng.IntN(5), Percent: true}
			b.MaxUnavailable = &q
		default:
			q := fleet.Quantity{N: rng.IntN(size + 1)}
			b.MinAvailable = &q
		}
		g := &fleet.Group{Name: fmt.Sprintf("g%d", gi), Budget: b}
		for m := range size {
			name := fmt.Sprintf("h%d-%d", gi, m)
			h := &fleet.Host{Name: name, Datacenter: []string{"a", "b", "c"}[m%3], Groups: []string{g.Name}}
			inv.Hosts = append(inv.Hosts, h)
			g.Members = append(g.Members, name)
		}
		inv.Groups = append(inv.Groups, g)
	}
	// Some hosts serve two groups.
	for range rng.IntN(3) {
		h := inv.Hosts[rng.IntN(len(inv.Hosts))]
		g := inv.Groups[rng.IntN(len(inv.Groups))]
		if !h.InGroup(g.Name) {
			h.Groups = append(h.Groups, g.Name)
			g.Members = append(g.Members, h.Name)
		}
	}
	var hosts []string
	for _, h := range inv.Hosts {
		if rng.IntN(10) > 0 { // most hosts are in the rollout
			hosts = append(hosts, h.Name)
		}
	}
	rs := runs(hosts, rng.IntN(3))
	ordered := rng.IntN(2) == 0
	for i := range rs {
		if !rs[i].Canary {
			rs[i].Wave = 2 + int(inv.Host(rs[i].Host).Datacenter[0]-'a')
		}
	}
	if ordered {
		slices.SortStableFunc(rs, func(a, b fleet.HostRun) int { return a.Wave - b.Wave })
	}
	return &world{
		inv: inv, top: NewTopology(inv, hosts), rng: rng,
		fail: []float64{0, 0.05, 0.3}[rng.IntN(3)],
		in: Input{
			State: fleet.RolloutRunning, Hosts: rs, Down: map[string]string{}, WindowOpen: true,
			Ordered: ordered, MaxParallel: 1 + rng.IntN(5), MaxFailures: rng.IntN(3), RollbackAll: rng.IntN(2) == 0,
		},
	}
}

// check verifies the scheduler's invariants for one decision.
func (w *world) check(t *testing.T, d Decision) {
	t.Helper()
	in := w.in
	byHost := map[string]fleet.HostRun{}
	failures, canaryFailed, canariesDone := 0, false, true
	active := 0
	for _, r := range in.Hosts {
		byHost[r.Host] = r
		if r.Failed {
			failures++
			canaryFailed = canaryFailed || r.Canary
		}
		if r.Canary && r.State != fleet.HostDone {
			canariesDone = false
		}
		if r.State.Active() || r.State == fleet.HostFailed {
			active++
		}
	}
	if len(d.Start) > 0 {
		if in.State != fleet.RolloutRunning || !in.WindowOpen {
			t.Fatalf("started %v while %s, window open %v", d.Start, in.State, in.WindowOpen)
		}
		if failures > in.MaxFailures || canaryFailed {
			t.Fatalf("started %v after %d failures (max %d, canary failed %v)", d.Start, failures, in.MaxFailures, canaryFailed)
		}
	}
	wave := 0
	for _, r := range in.Hosts {
		if (r.State == fleet.HostPending || r.State.Active() || r.State == fleet.HostFailed) && (wave == 0 || r.Wave < wave) {
			wave = r.Wave
		}
	}
	for _, h := range d.Start {
		r := byHost[h]
		if r.State != fleet.HostPending {
			t.Fatalf("started %s in state %s", h, r.State)
		}
		if !r.Canary && !canariesDone {
			t.Fatalf("started %s before the canaries were done", h)
		}
		if in.Ordered && r.Wave != wave {
			t.Fatalf("started %s of wave %d while wave %d runs", h, r.Wave, wave)
		}
		if _, down := in.Down[h]; down {
			t.Fatalf("started %s, which is down", h)
		}
	}
	newlyDown := map[string]bool{}
	for _, h := range d.Start {
		newlyDown[h] = true
	}
	for _, h := range d.Rollback {
		if byHost[h].State == fleet.HostDone {
			newlyDown[h] = true
		}
	}
	if n := active + len(newlyDown); len(newlyDown) > 0 && n > in.MaxParallel {
		t.Fatalf("%d hosts in maintenance, max %d", n, in.MaxParallel)
	}
	for _, g := range w.top.Groups {
		touched, down := false, 0
		for _, m := range g.Members {
			r, in := byHost[m]
			isDown := newlyDown[m] || w.in.Down[m] != "" || (in && (r.State.Active() || r.State == fleet.HostFailed || r.State == fleet.HostStuck))
			if _, ext := w.in.Down[m]; ext {
				isDown = true
			}
			if isDown {
				down++
			}
			touched = touched || newlyDown[m]
		}
		if touched && down > g.Allowed {
			t.Fatalf("group %s: %d members down, allowed %d", g.Name, down, g.Allowed)
		}
		if touched && len(g.Members) == 2 && down == 2 {
			t.Fatalf("both halves of pair %s down", g.Name)
		}
	}
}

// apply moves the world one tick: the decision, then random step endings,
// flaps and operator actions.
func (w *world) apply(d Decision, chaos bool) {
	in := &w.in
	idx := map[string]int{}
	for i, r := range in.Hosts {
		idx[r.Host] = i
	}
	for _, h := range d.Start {
		in.Hosts[idx[h]].State = fleet.HostRunning
	}
	for _, h := range d.Rollback {
		in.Hosts[idx[h]].State = fleet.HostRollingBack
	}
	in.State = d.State
	for i := range in.Hosts {
		r := &in.Hosts[i]
		if w.rng.IntN(3) != 0 {
			continue
		}
		switch r.State {
		case fleet.HostRunning:
			if w.rng.Float64() < w.fail {
				r.State, r.Failed = fleet.HostFailed, true
			} else {
				r.State = fleet.HostDone
			}
		case fleet.HostRollingBack:
			r.State = fleet.HostRolledBack
			if chaos && w.rng.IntN(10) == 0 {
				r.State = fleet.HostStuck
			}
		}
	}
	if !chaos {
		return
	}
	for _, h := range w.inv.Hosts {
		if w.rng.IntN(20) == 0 {
			if _, down := in.Down[h.Name]; down {
				delete(in.Down, h.Name)
			} else {
				in.Down[h.Name] = "unreachable"
			}
		}
	}
	in.WindowOpen = w.rng.IntN(10) != 0
	switch w.rng.IntN(40) {
	case 0:
		if in.State == fleet.RolloutRunning {
			in.State = fleet.RolloutPaused
		}
	case 1:
		if in.State == fleet.RolloutPaused {
			in.State = fleet.RolloutRunning
		}
	case 2:
		if !in.State.Ended() {
			in.State = fleet.RolloutAborting
		}
	}
}

func TestDecideInvariants(t *testing.T) {
	for seed := range uint64(3000) {
		w := randomWorld(seed)
		for range 500 {
			d := Decide(w.top, w.in)
			w.check(t, d)
			if d.State.Ended() {
				break
			}
			w.apply(d, true)
		}
		if t.Failed() {
			t.Logf("seed %d", seed)
			return
		}
	}
}

// TestDecideFinishes checks liveness: with no failure, no flap and budgets
// that allow one member down, every rollout ends with every host done.
func TestDecideFinishes(t *testing.T) {
	for seed := range uint64(2000) {
		w := randomWorld(seed)
		w.fail = 0
		for i := range w.top.Groups {
			w.top.Groups[i].Allowed = max(w.top.Groups[i].Allowed, 1)
		}
		var d Decision
		for range 2000 {
			d = Decide(w.top, w.in)
			w.check(t, d)
			if d.State.Ended() {
				break
			}
			w.apply(d, false)
		}
		if d.State != fleet.RolloutDone {
			t.Fatalf("seed %d: ended %s (%s), waiting %v", seed, d.State, d.Reason, d.Waiting)
		}
		for _, r := range w.in.Hosts {
			if r.State != fleet.HostDone {
				t.Fatalf("seed %d: %s is %s", seed, r.Host, r.State)
			}
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	inv, hosts := pairs(500)
	top := NewTopology(inv, hosts)
	in := Input{State: fleet.RolloutRunning, Hosts: runs(hosts, 0), WindowOpen: true, MaxParallel: 50}
	for i := range in.Hosts[:300] {
		in.Hosts[i].State = fleet.HostDone
	}
	b.ReportAllocs()
	for b.Loop() {
		Decide(top, in)
	}
}

// A rollout that customers' errors hold is not blocked: the fleet does not
// stand in its way, and blocked_timeout does not halt it (halt_after does).
func TestDecideHoldIsNotBlocked(t *testing.T) {
	inv, hosts := pairs(2)
	in := Input{State: fleet.RolloutRunning, Hosts: runs(hosts, 0), WindowOpen: true, MaxParallel: 2, Hold: "backend web-01 answered 5xx"}
	if d := Decide(NewTopology(inv, hosts), in); d.Blocked || len(d.Start) != 0 || d.State != fleet.RolloutRunning {
		t.Fatalf("held: %+v", d)
	}
}
