package lab

import (
	"fmt"
	"net/netip"
)

// hostSpec is where one simulated host stands in the topology.
type hostSpec struct {
	Name       string
	Address    string
	Datacenter string
	Site       string
	Group      string
}

// groupSpec is one redundancy group: one member per datacenter.
type groupSpec struct {
	Name      string
	Component string
	Members   []string
}

// addressBase is the first of the lab's host addresses; the whole of
// 127.0.0.0/8 reaches lo on Linux, so every host gets an address of its own.
var addressBase = netip.MustParseAddr("127.77.0.0")

// layout spreads the hosts over the datacenters in pairs (one member of each
// group per datacenter), in group order; the last group is smaller when the
// hosts do not divide evenly.
func layout(o Options) ([]hostSpec, []groupSpec) {
	dcs := len(o.Datacenters)
	ngroups := (o.Hosts + dcs - 1) / dcs
	width := 2
	if ngroups > 99 {
		width = 3
	}
	if ngroups > 999 {
		width = 4
	}
	var hosts []hostSpec
	var groups []groupSpec
	addr := addressBase
	for g := 1; g <= ngroups; g++ {
		num := fmt.Sprintf("%0*d", width, g)
		group := groupSpec{Name: "web-" + num, Component: "Web cluster " + num}
		for _, dc := range o.Datacenters {
			if len(hosts) == o.Hosts {
				break
			}
			addr = nextAddress(addr)
			h := hostSpec{
				Name:       "web-" + dc + "-" + num,
				Address:    addr.String(),
				Datacenter: dc,
				Site:       o.Sites[dc],
				Group:      group.Name,
			}
			hosts = append(hosts, h)
			group.Members = append(group.Members, h.Name)
		}
		groups = append(groups, group)
	}
	return hosts, groups
}

// nextAddress skips the .0 and .255 of each /24, which read like network
// and broadcast addresses to a human even on loopback.
func nextAddress(a netip.Addr) netip.Addr {
	for {
		a = a.Next()
		last := a.As4()[3]
		if last != 0 && last != 255 {
			return a
		}
	}
}
