package rollout

import (
	"cmp"
	"slices"

	"github.com/illico-dev/illico/internal/fleet"
)

// Schedule orders the hosts of a rollout and places them in waves: the
// canaries first (wave 1), then datacenter by datacenter (one wave each) or
// spread across datacenters (waves of max_parallel hosts, which overlap as the
// window slides). canaries names the hosts a canary selector picked; when it
// is empty, the first strategy.Canary hosts of the spread order are the
// canaries.
func Schedule(inv *fleet.Inventory, s fleet.Strategy, hosts []*fleet.Host, canaries []*fleet.Host) []fleet.HostRun {
	dcIndex := map[string]int{}
	for i, dc := range inv.Datacenters {
		dcIndex[dc.Name] = i
	}
	// Position of each host within its datacenter, in inventory order.
	seen := map[string]int{}
	pos := map[string]int{}
	for _, h := range hosts {
		pos[h.Name] = seen[h.Datacenter]
		seen[h.Datacenter]++
	}
	spread := slices.Clone(hosts)
	slices.SortStableFunc(spread, func(a, b *fleet.Host) int {
		return cmp.Or(cmp.Compare(pos[a.Name], pos[b.Name]), cmp.Compare(dcIndex[a.Datacenter], dcIndex[b.Datacenter]))
	})
	isCanary := map[string]bool{}
	for _, h := range canaries {
		isCanary[h.Name] = true
	}
	if len(canaries) == 0 {
		for _, h := range spread[:min(s.Canary, len(spread))] {
			isCanary[h.Name] = true
		}
	}

	order := spread
	if s.Order == fleet.OrderDatacenter {
		order = slices.Clone(hosts)
		slices.SortStableFunc(order, func(a, b *fleet.Host) int {
			return cmp.Compare(dcIndex[a.Datacenter], dcIndex[b.Datacenter])
		})
	}
	parallel := MaxParallel(s, len(hosts))
	var runs []fleet.HostRun
	for _, h := range order {
		if isCanary[h.Name] {
			runs = append(runs, fleet.HostRun{Host: h.Name, State: fleet.HostPending, Canary: true, Wave: 1})
		}
	}
	// Waves of datacenters are numbered in the order they appear.
	dcWave := map[string]int{}
	n := 0
	for _, h := range order {
		if isCanary[h.Name] {
			continue
		}
		wave := 2 + n/parallel
		if s.Order == fleet.OrderDatacenter {
			if _, ok := dcWave[h.Datacenter]; !ok {
				dcWave[h.Datacenter] = 2 + len(dcWave)
			}
			wave = dcWave[h.Datacenter]
		}
		runs = append(runs, fleet.HostRun{Host: h.Name, State: fleet.HostPending, Wave: wave})
		n++
	}
	return runs
}

// MaxParallel resolves the strategy's max_parallel for a rollout of n hosts;
// a percentage never rounds down to zero.
func MaxParallel(s fleet.Strategy, n int) int {
	return max(1, s.MaxParallel.Of(n))
}

// MaxFailures resolves the strategy's max_failures for n hosts.
func MaxFailures(s fleet.Strategy, n int) int {
	return s.MaxFailures.Of(n)
}
