package rollout

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// ledgerWorld is a random fleet with several rollouts and an operator
// sharing one ledger, as daemons share the store's: each rollout decides
// on its own hosts, seeing the others' leases as down; its starts are
// granted one at a time through admit, like the store's transaction.
type ledgerWorld struct {
	rng      *rand.Rand
	inv      *fleet.Inventory
	all      *Topology
	rollouts []*ledgerRollout
	leases   []fleet.Lease
	health   map[string]string
	admit    func(top *Topology, host string, held []fleet.Lease, down map[string]string) error
}

type ledgerRollout struct {
	id  string
	top *Topology
	in  Input
}

func newLedgerWorld(seed uint64, admit func(*Topology, string, []fleet.Lease, map[string]string) error) *ledgerWorld {
	base := randomWorld(seed)
	w := &ledgerWorld{rng: base.rng, inv: base.inv, health: map[string]string{}, admit: admit}
	var names []string
	for _, h := range base.inv.Hosts {
		names = append(names, h.Name)
	}
	w.all = NewTopology(base.inv, names)
	// Two or three rollouts split the fleet between them, as operators
	// split it by datacenter or by hand.
	n := 2 + w.rng.IntN(2)
	parts := make([][]string, n)
	for _, h := range names {
		i := w.rng.IntN(n)
		parts[i] = append(parts[i], h)
	}
	for i, hosts := range parts {
		if len(hosts) == 0 {
			continue
		}
		w.rollouts = append(w.rollouts, &ledgerRollout{
			id: fmt.Sprintf("r%d", i), top: NewTopology(base.inv, hosts),
			in: Input{State: fleet.RolloutRunning, Hosts: runs(hosts, 0), WindowOpen: true, MaxParallel: 1 + w.rng.IntN(4)},
		})
	}
	return w
}

func (w *ledgerWorld) leased(host string) *fleet.Lease {
	for i := range w.leases {
		if w.leases[i].Host == host {
			return &w.leases[i]
		}
	}
	return nil
}

// grant is the store's GrantLease: one at a time, with every lease held.
func (w *ledgerWorld) grant(l fleet.Lease) bool {
	if w.leased(l.Host) != nil {
		return false
	}
	if err := w.admit(w.all, l.Host, w.leases, w.health); err != nil {
		return false
	}
	w.leases = append(w.leases, l)
	return true
}

func (w *ledgerWorld) release(host string) {
	w.leases = slices.DeleteFunc(w.leases, func(l fleet.Lease) bool { return l.Host == host })
}

// violation says which group a new lease on host took over its budget,
// counting every member leased or down: "" when none.
func (w *ledgerWorld) violation(host string) string {
	for _, gi := range w.all.HostGroups[host] {
		g := w.all.Groups[gi]
		out := 0
		for _, m := range g.Members {
			if w.leased(m) != nil || w.health[m] != "" {
				out++
			}
		}
		if out > g.Allowed {
			return fmt.Sprintf("group %s: %d members out, allowed %d, after a lease on %s (leases %v)", g.Name, out, g.Allowed, host, w.leases)
		}
	}
	return ""
}

// step moves the world once, and returns a budget broken by a grant.
func (w *ledgerWorld) step() string {
	switch k := w.rng.IntN(10); {
	case k < 5: // a rollout decides and takes its hosts
		ro := w.rollouts[w.rng.IntN(len(w.rollouts))]
		ro.in.Down = othersOut(w.health, w.leases, ro.id)
		d := Decide(ro.top, ro.in)
		for _, h := range d.Start {
			if !w.grant(fleet.Lease{Host: h, Kind: fleet.LeaseRollout, Holder: ro.id, Since: time.Unix(0, 0)}) {
				continue
			}
			if v := w.violation(h); v != "" {
				return v
			}
			for i := range ro.in.Hosts {
				if ro.in.Hosts[i].Host == h {
					ro.in.Hosts[i].State = fleet.HostRunning
				}
			}
		}
	case k < 7: // a host in maintenance ends it
		ro := w.rollouts[w.rng.IntN(len(w.rollouts))]
		for i := range ro.in.Hosts {
			if h := &ro.in.Hosts[i]; h.State == fleet.HostRunning {
				h.State = fleet.HostDone
				w.release(h.Host)
				break
			}
		}
	case k < 8: // an operator drains a host, or puts one back
		h := w.inv.Hosts[w.rng.IntN(len(w.inv.Hosts))].Name
		if l := w.leased(h); l != nil && l.Kind == fleet.LeaseDrain {
			w.release(h)
		} else if w.grant(fleet.Lease{Host: h, Kind: fleet.LeaseDrain, Holder: "alice", Since: time.Unix(0, 0)}) {
			if v := w.violation(h); v != "" {
				return v
			}
		}
	default: // a host's health flaps
		h := w.inv.Hosts[w.rng.IntN(len(w.inv.Hosts))].Name
		if w.health[h] != "" {
			delete(w.health, h)
		} else if w.rng.IntN(3) == 0 {
			w.health[h] = "probe down"
		}
	}
	return ""
}

func runLedger(seed uint64, admit func(*Topology, string, []fleet.Lease, map[string]string) error) string {
	w := newLedgerWorld(seed, admit)
	for range 300 {
		if v := w.step(); v != "" {
			return v
		}
	}
	return ""
}

// Several rollouts and an operator on one ledger: however they
// interleave, no grant takes a group over its budget.
func TestLedgerHoldsEveryBudget(t *testing.T) {
	for seed := range uint64(500) {
		if v := runLedger(seed, Admit); v != "" {
			t.Fatalf("seed %d: %s", seed, v)
		}
	}
}

// The property test catches a ledger that checks too little: one that
// sees only the health, or only the holder's own leases.
func TestLedgerPropertyCatchesInjectedBugs(t *testing.T) {
	bugs := map[string]func(*Topology, string, []fleet.Lease, map[string]string) error{
		"no check": func(*Topology, string, []fleet.Lease, map[string]string) error { return nil },
		"health only": func(top *Topology, host string, _ []fleet.Lease, down map[string]string) error {
			return Admit(top, host, nil, down)
		},
		"rollouts' leases only": func(top *Topology, host string, held []fleet.Lease, down map[string]string) error {
			return Admit(top, host, slices.DeleteFunc(slices.Clone(held), func(l fleet.Lease) bool { return l.Kind == fleet.LeaseDrain }), down)
		},
	}
	for name, bug := range bugs {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(500) {
				if runLedger(seed, bug) != "" {
					return
				}
			}
			t.Fatal("500 random worlds and no broken budget found")
		})
	}
}

// One decision of a rollout on one datacenter of a 10,000-host fleet in
// pairs, with another rollout holding the leases of 100 groups' members:
// the other's leases merged into what is down, then the scheduler.
func BenchmarkDecideWithLeases(b *testing.B) {
	inv, hosts := pairs(5000)
	var gra []string
	var held []fleet.Lease
	for i, h := range hosts {
		switch {
		case i%2 == 0:
			gra = append(gra, h)
		case len(held) < 100 && i%50 == 1:
			held = append(held, fleet.Lease{Host: h, Kind: fleet.LeaseRollout, Holder: "sbg", Since: time.Unix(0, 0)})
		}
	}
	top := NewTopology(inv, gra)
	in := Input{State: fleet.RolloutRunning, Hosts: runs(gra, 0), WindowOpen: true, MaxParallel: 250}
	b.ReportAllocs()
	for b.Loop() {
		in.Down = othersOut(nil, held, "gra")
		Decide(top, in)
	}
}

// The ledger's rule for one grant in a 10,000-host fleet, 100 leases held.
func BenchmarkAdmit(b *testing.B) {
	inv, hosts := pairs(5000)
	var held []fleet.Lease
	for i := 1; i < 200; i += 2 {
		held = append(held, fleet.Lease{Host: hosts[i*50], Kind: fleet.LeaseRollout, Holder: "sbg"})
	}
	top := NewTopology(inv, hosts)
	b.ReportAllocs()
	for b.Loop() {
		_ = Admit(top, hosts[4242], held, nil)
	}
}
