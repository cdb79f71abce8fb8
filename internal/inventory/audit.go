package inventory

import (
	"fmt"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
)

// Finding is a single point of failure in the fleet's topology.
type Finding struct {
	// Kind is one of single-member, single-datacenter, single-site and
	// budget-allows-all.
	Kind   string   `json:"kind"`
	Group  string   `json:"group"`
	Hosts  []string `json:"hosts"`
	Reason string   `json:"reason"`
}

func (f Finding) String() string { return f.Kind + " " + f.Group + ": " + f.Reason }

// Audit finds the groups that one failure takes down entirely: a lone
// member, members that share a datacenter or a site, and a budget that
// lets a rollout take every member down at once. Findings come in group
// order.
func Audit(inv *fleet.Inventory) []Finding {
	byName := make(map[string]*fleet.Host, len(inv.Hosts))
	for _, h := range inv.Hosts {
		byName[h.Name] = h
	}
	var found []Finding
	for _, g := range inv.Groups {
		members := g.Members
		size := len(members)
		if size == 0 {
			continue
		}
		list := strings.Join(members, ", ")
		if size == 1 {
			found = append(found, Finding{
				Kind: "single-member", Group: g.Name, Hosts: members,
				Reason: fmt.Sprintf("group %s has one member, %s: when %s is down, so is %s.", g.Name, members[0], members[0], g.Name),
			})
			// The topology findings below only say the same again.
			continue
		}
		dcs, sites := domains(byName, members)
		switch {
		case len(dcs) == 1:
			found = append(found, Finding{
				Kind: "single-datacenter", Group: g.Name, Hosts: members,
				Reason: fmt.Sprintf("all %d members of group %s (%s) are in datacenter %s: losing %s takes %s down.", size, g.Name, list, dcs[0], dcs[0], g.Name),
			})
		case len(sites) == 1:
			found = append(found, Finding{
				Kind: "single-site", Group: g.Name, Hosts: members,
				Reason: fmt.Sprintf("all %d members of group %s (%s) are on site %s, in datacenters %s: losing site %s takes %s down.", size, g.Name, list, sites[0], strings.Join(dcs, " and "), sites[0], g.Name),
			})
		}
		if g.Budget.Allowed(size) >= size {
			found = append(found, Finding{
				Kind: "budget-allows-all", Group: g.Name, Hosts: members,
				Reason: fmt.Sprintf("the budget of group %s, %s, allows all %d members (%s) down at once: a rollout may take %s down entirely.", g.Name, g.Budget, size, list, g.Name),
			})
		}
	}
	return found
}

// domains lists the datacenters and sites the hosts stand in, in inventory
// order.
func domains(byName map[string]*fleet.Host, hosts []string) (dcs, sites []string) {
	for _, name := range hosts {
		h := byName[name]
		if h == nil {
			continue
		}
		if !slices.Contains(dcs, h.Datacenter) {
			dcs = append(dcs, h.Datacenter)
		}
		if !slices.Contains(sites, h.Site) {
			sites = append(sites, h.Site)
		}
	}
	return dcs, sites
}
