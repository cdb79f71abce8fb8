package server

import (
	"context"
	"fmt"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lb"
)

// balancerLook bounds how long a decision waits on a load balancer's
// runtime API.
const balancerLook = 3 * time.Second

// down is the rollout engine's Down: the hosts among hosts that are out of
// service for reasons of their own. The probes say which are down or not
// known up yet (monitor.Down); the load balancers say which servers get no
// traffic, whoever set them so: an operator's MAINT or DRAIN by hand, or
// DOWN by HAProxy's own checks. A load balancer that does not answer leaves
// its servers' state unknown, which for a budget is not up.
func (s *Server) down(ctx context.Context, hosts []*fleet.Host) map[string]string {
	out := s.monitor.Down(ctx, hosts)
	if out == nil {
		out = map[string]string{}
	}
	inv := s.inventory()
	type member struct{ host, backend, server string }
	per := map[string][]member{}
	for _, h := range hosts {
		for _, gname := range h.Groups {
			if g := inv.Group(gname); g != nil && g.Balancer != nil {
				per[g.Balancer.LoadBalancer] = append(per[g.Balancer.LoadBalancer], member{h.Name, g.Balancer.Backend, g.Balancer.Server(h.Name)})
			}
		}
	}
	for name, members := range per {
		l := inv.LoadBalancer(name)
		if l == nil {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, balancerLook)
		servers, err := s.balancers.For(l).Servers(lctx)
		cancel()
		if err != nil {
			for _, m := range members {
				if out[m.host] == "" {
					out[m.host] = fmt.Sprintf("not known to be in rotation: load balancer %s does not answer (%v)", name, err)
				}
			}
			continue
		}
		state := map[[2]string]lb.Server{}
		for _, sv := range servers {
			state[[2]string{sv.Backend, sv.Name}] = sv
		}
		for _, m := range members {
			sv, ok := state[[2]string{m.backend, m.server}]
			switch {
			case out[m.host] != "":
			case !ok:
				out[m.host] = fmt.Sprintf("not in load balancer %s's backend %s as server %s", name, m.backend, m.server)
			case !sv.Up():
				out[m.host] = fmt.Sprintf("out of rotation in load balancer %s (%s)", name, sv.Status)
			}
		}
	}
	return out
}
