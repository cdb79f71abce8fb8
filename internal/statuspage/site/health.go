package site

import (
	"context"
	"maps"

	"github.com/illico-dev/illico/internal/fleet"
)

// syncHealth sets each component host's health to what the probes say,
// except for a host in maintenance: the rollout that put it there says
// when it leaves. A host the probes have no word on yet is left as it was.
// It looks at the status in memory first, so that nothing is written while
// nothing changes.
func (s *Site) syncHealth(ctx context.Context, health map[string]fleet.HostHealth) error {
	st, err := s.status.Status(ctx)
	if err != nil {
		return err
	}
	if !applyHealth(&st, health) {
		return nil
	}
	return s.status.Update(ctx, func(st *fleet.Status) error {
		applyHealth(st, health)
		return nil
	})
}

// applyHealth sets the health of st's component hosts from health, and
// reports whether it changed any.
func applyHealth(st *fleet.Status, health map[string]fleet.HostHealth) bool {
	if st.Hosts == nil {
		st.Hosts = map[string]fleet.HostHealth{}
	}
	before := maps.Clone(st.Hosts)
	for _, c := range st.Components {
		for _, h := range c.Hosts {
			if hh, ok := health[h]; ok && st.Hosts[h] != fleet.HostInMaintenance {
				st.Hosts[h] = hh
			}
		}
	}
	return !maps.Equal(before, st.Hosts)
}
