package rollout

import (
	"context"
	"maps"

	"github.com/illico-dev/illico/internal/fleet"
)

// Admit is the disruption ledger's rule for a new lease on host, which the
// store applies inside the grant's transaction: in every group of host (in
// top), the members out of service (leased to anyone, or down by the health
// observed) leave room for one more. The refusal says who is out, and why.
func Admit(top *Topology, host string, held []fleet.Lease, down map[string]string) error {
	leased := map[string]string{}
	for _, l := range held {
		leased[l.Host] = l.String()
	}
	for _, gi := range top.HostGroups[host] {
		g := top.Groups[gi]
		out := map[string]string{}
		for _, m := range g.Members {
			if reason, ok := leased[m]; ok {
				out[m] = reason
			} else if reason, ok := down[m]; ok {
				out[m] = reason
			}
		}
		if reason := over(g, host, out); reason != "" {
			return fleet.Errorf(fleet.KindConflict, "%s", reason)
		}
	}
	return nil
}

// othersOut adds to down the hosts that leases of other holders than
// rollout id keep out of service: another rollout's host in maintenance,
// an operator's drain. The rollout's own leases are its host runs, which
// the scheduler counts already.
func othersOut(down map[string]string, held []fleet.Lease, id string) map[string]string {
	out := maps.Clone(down)
	if out == nil {
		out = map[string]string{}
	}
	for _, l := range held {
		if !l.Held(fleet.LeaseRollout, id) {
			out[l.Host] = l.String()
		}
	}
	return out
}

// releaseStale ends the rollout's leases on hosts back in service (or no
// longer in the rollout): a lease lives from a host's start until it is
// done or rolled back, and on while it is stuck.
func releaseStale(ctx context.Context, s Store, r *fleet.Rollout, held []fleet.Lease) error {
	state := map[string]fleet.HostState{}
	for _, h := range r.Hosts {
		state[h.Host] = h.State
	}
	for _, l := range held {
		if l.Held(fleet.LeaseRollout, r.ID) && !state[l.Host].Leased() {
			if err := s.ReleaseLease(ctx, l.Host, l.Kind, l.Holder); err != nil {
				return err
			}
		}
	}
	return nil
}
