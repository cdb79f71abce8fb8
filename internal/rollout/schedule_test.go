package rollout

import (
	"fmt"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func twoDatacenters(n int) *fleet.Inventory {
	inv, _ := pairs(n)
	inv.Datacenters = []*fleet.Datacenter{{Name: "gra", Site: "gra"}, {Name: "sbg", Site: "sbg"}}
	return inv
}

func describe(runs []fleet.HostRun) string {
	s := ""
	for _, r := range runs {
		c := ""
		if r.Canary {
			c = "*"
		}
		s += fmt.Sprintf("%s%s:%d ", r.Host, c, r.Wave)
	}
	return s
}

func TestSchedule(t *testing.T) {
	inv := twoDatacenters(3)
	tests := []struct {
		name string
		s    fleet.Strategy
		want string
	}{
		{"spread", fleet.Strategy{Canary: 1, MaxParallel: fleet.Quantity{N: 2}, Order: fleet.OrderSpread},
			"web-gra-01*:1 web-sbg-01:2 web-gra-02:2 web-sbg-02:3 web-gra-03:3 web-sbg-03:4 "},
		{"datacenter by datacenter", fleet.Strategy{Canary: 1, MaxParallel: fleet.Quantity{N: 2}, Order: fleet.OrderDatacenter},
			"web-gra-01*:1 web-gra-02:2 web-gra-03:2 web-sbg-01:3 web-sbg-02:3 web-sbg-03:3 "},
		{"no canary, percentage", fleet.Strategy{MaxParallel: fleet.Quantity{N: 50, Percent: true}, Order: fleet.OrderSpread},
			"web-gra-01:2 web-sbg-01:2 web-gra-02:2 web-sbg-02:3 web-gra-03:3 web-sbg-03:3 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(Schedule(inv, tt.s, inv.Hosts, nil)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	named := Schedule(inv, fleet.Strategy{MaxParallel: fleet.Quantity{N: 1}}, inv.Hosts, []*fleet.Host{inv.Host("web-sbg-02")})
	if named[0].Host != "web-sbg-02" || !named[0].Canary || named[1].Canary {
		t.Errorf("named canary: %s", describe(named))
	}
}

func TestEstimate(t *testing.T) {
	inv := twoDatacenters(4) // 4 pairs: at most one half of each pair at once
	var hosts []string
	for _, h := range inv.Hosts {
		hosts = append(hosts, h.Name)
	}
	top := NewTopology(inv, hosts)
	runs := Schedule(inv, fleet.Strategy{Canary: 1, MaxParallel: fleet.Quantity{N: 10}}, inv.Hosts, nil)
	in := Input{State: fleet.RolloutRunning, Hosts: runs, WindowOpen: true, MaxParallel: 10}
	// Canary alone (1 min), then its partner with the three other gra hosts
	// (1 min), then the last three sbg hosts (1 min).
	eta, ok := Estimate(top, in, time.Minute, nil)
	if !ok || eta != 3*time.Minute {
		t.Fatalf("eta %s ok %v, want 3m", eta, ok)
	}
	in.MaxParallel = 1
	if eta, _ := Estimate(top, in, time.Minute, nil); eta != 8*time.Minute {
		t.Fatalf("serial eta %s, want 8m", eta)
	}
	// A host already half-way through counts half.
	in.Hosts[0].State = fleet.HostRunning
	if eta, _ := Estimate(top, in, time.Minute, map[string]time.Duration{in.Hosts[0].Host: 30 * time.Second}); eta != 7*time.Minute+30*time.Second {
		t.Fatalf("eta %s, want 7m30s", eta)
	}
	// A host down because the rollout rebooted it comes back in the
	// estimate.
	in.Hosts[0].State = fleet.HostRunning
	in.Down = map[string]string{in.Hosts[0].Host: "failing its checks"}
	if _, ok := Estimate(top, in, time.Minute, nil); !ok {
		t.Fatal("a host in maintenance must not block the estimate")
	}
	in.Down = nil
	// A partner down for good: its pair can never finish.
	in.Hosts[0].State = fleet.HostPending
	in.Down = map[string]string{"web-gra-02": "unreachable"}
	if _, ok := Estimate(top, in, time.Minute, nil); ok {
		t.Fatal("want not ok while a pair is blocked")
	}
}

func TestGuessPerHost(t *testing.T) {
	steps := []fleet.Step{{Kind: fleet.StepDrain}, {Kind: fleet.StepRun}, {Kind: fleet.StepReboot}, {Kind: fleet.StepWaitHealthy, MinHealthy: 10 * time.Second}, {Kind: fleet.StepUndrain}}
	if got := GuessPerHost(steps); got != 5*time.Second+30*time.Second+90*time.Second+15*time.Second+5*time.Second {
		t.Fatalf("got %s", got)
	}
}
