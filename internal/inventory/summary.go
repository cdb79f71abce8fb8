package inventory

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/illico-dev/illico/internal/fleet"
)

// Summary writes the one-screen overview `illico inventory check` prints:
// where the hosts stand, and each group with its size, resolved budget,
// component, load balancer and checks.
func Summary(w io.Writer, inv *fleet.Inventory) {
	fmt.Fprintf(w, "%s in %s on %s, %s, %s\n",
		plural(len(inv.Hosts), "host"), plural(len(inv.Datacenters), "datacenter"),
		plural(len(inv.Sites), "site"), plural(len(inv.Groups), "group"),
		plural(len(inv.LoadBalancers), "load balancer"))

	count := map[string]int{}
	for _, h := range inv.Hosts {
		count[h.Datacenter]++
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSITE\tDATACENTER\tHOSTS")
	for _, s := range inv.Sites {
		site := s.Name
		for _, d := range inv.Datacenters {
			if d.Site == s.Name {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", site, d.Name, count[d.Name])
				site = "" // said once per site
			}
		}
	}
	if len(inv.Groups) > 0 {
		fmt.Fprintln(tw, "\nGROUP\tSIZE\tBUDGET\tCOMPONENT\tLOAD BALANCER\tCHECKS")
		for _, g := range inv.Groups {
			size := len(g.Members)
			component, balancer := "-", "-"
			if g.Component != "" {
				component = g.Component
			}
			if b := g.Balancer; b != nil {
				balancer = b.LoadBalancer + " backend " + b.Backend
			}
			fmt.Fprintf(tw, "%s\t%d\t%s (%d of %d)\t%s\t%s\t%s\n",
				g.Name, size, g.Budget, g.Budget.Allowed(size), size, component, balancer, checkList(g.Checks))
		}
	}
	tw.Flush()

	var alone []string
	for _, h := range inv.Hosts {
		if len(h.Groups) == 0 {
			alone = append(alone, h.Name)
		}
	}
	if len(alone) > 0 {
		fmt.Fprintf(w, "\nIn no group: %s\n", strings.Join(alone, ", "))
	}
}

// checkList names checks briefly, with their kind where the name does not
// say it: "site (http), tcp".
func checkList(checks []fleet.Check) string {
	if len(checks) == 0 {
		return "-"
	}
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.Name
		if c.Name != string(c.Kind) {
			names[i] += " (" + string(c.Kind) + ")"
		}
	}
	return strings.Join(names, ", ")
}
