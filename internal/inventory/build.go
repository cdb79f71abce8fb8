package inventory

import (
	"maps"
	"slices"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// build turns the filled-in document into the fleet types, resolving paths
// against dir and home. Paths it cannot resolve are reported to c.
func build(doc *document, c *checker, dir, home string) *fleet.Inventory {
	inv := &fleet.Inventory{}
	sites := map[string]string{} // datacenter → site
	for _, d := range doc.Datacenters {
		if !slices.ContainsFunc(inv.Sites, func(s *fleet.Site) bool { return s.Name == d.Site }) {
			inv.Sites = append(inv.Sites, &fleet.Site{Name: d.Site})
		}
		inv.Datacenters = append(inv.Datacenters, &fleet.Datacenter{Name: d.Name, Site: d.Site})
		sites[d.Name] = d.Site
	}
	for _, l := range doc.LoadBalancers {
		lb := &fleet.LoadBalancer{Name: l.Name, Address: l.Address}
		if l.Socket != "" {
			lb.Socket = c.path(func() yamlx.Pos { return l.Meta.At("socket") }, l.Socket, dir, home)
		}
		inv.LoadBalancers = append(inv.LoadBalancers, lb)
	}
	groups := map[string]*fleet.Group{}
	for _, g := range doc.Groups {
		fg := &fleet.Group{
			Name:           g.Name,
			Budget:         budget(g),
			Component:      g.Component,
			ComponentGroup: g.ComponentGroup,
			Checks:         checks(g.Checks),
		}
		if lb := g.LoadBalancer; lb != nil {
			fg.Balancer = &fleet.Membership{LoadBalancer: lb.Name, Backend: lb.Backend}
		}
		groups[g.Name] = fg
		inv.Groups = append(inv.Groups, fg)
	}
	for _, h := range doc.Hosts {
		fh := &fleet.Host{
			Name:       h.Name,
			Address:    h.host,
			Datacenter: h.Datacenter,
			Site:       sites[h.Datacenter],
			Groups:     nilIfEmpty(slices.Clone(h.Groups)),
			SSH:        h.ssh,
			Commands:   h.commands,
			Checks:     checks(h.Checks),
		}
		if len(h.Labels) > 0 {
			fh.Labels = maps.Clone(h.Labels)
		}
		sshAt := func(key string) yamlx.Pos {
			if h.SSH.Meta.Has(key) {
				return h.SSH.Meta.At(key)
			}
			return doc.Defaults.SSH.Meta.At(key)
		}
		if fh.SSH.KnownHosts != "" {
			fh.SSH.KnownHosts = c.path(func() yamlx.Pos { return sshAt("known_hosts") }, fh.SSH.KnownHosts, dir, home)
		}
		files := make([]string, 0, len(fh.SSH.IdentityFiles))
		for i, f := range fh.SSH.IdentityFiles {
			if f != "" {
				at := func() yamlx.Pos { return c.loc.item(sshAt("identity_files"), i) }
				files = append(files, c.path(at, f, dir, home))
			}
		}
		fh.SSH.IdentityFiles = nilIfEmpty(files)
		for _, name := range fh.Groups {
			g := groups[name]
			if g == nil {
				continue
			}
			g.Members = append(g.Members, h.Name)
			if g.Balancer != nil && h.LBServer != "" && h.LBServer != h.Name {
				if g.Balancer.Servers == nil {
					g.Balancer.Servers = map[string]string{}
				}
				g.Balancer.Servers[h.Name] = h.LBServer
			}
		}
		inv.Hosts = append(inv.Hosts, fh)
	}
	return inv
}

// path resolves p, reporting at(), which may have to read the file again,
// when it cannot.
func (c *checker) path(at func() yamlx.Pos, p, dir, home string) string {
	abs, err := resolvePath(p, dir, home)
	if err != nil {
		c.add(at(), "%v", err)
		return p
	}
	return abs
}

func budget(g *groupDoc) fleet.Budget {
	var b fleet.Budget
	if q, err := fleet.ParseQuantity(g.MaxUnavailable); g.MaxUnavailable != "" && err == nil {
		b.MaxUnavailable = &q
	}
	if q, err := fleet.ParseQuantity(g.MinAvailable); g.MinAvailable != "" && err == nil && b.MaxUnavailable == nil {
		b.MinAvailable = &q
	}
	return b
}

func checks(docs []checkDoc) []fleet.Check {
	var out []fleet.Check
	for i := range docs {
		out = append(out, docs[i].check())
	}
	return out
}

func (d *checkDoc) check() fleet.Check {
	c := fleet.Check{
		Name: d.Name, Kind: fleet.CheckKind(d.Kind), Target: d.Target, Method: d.Method,
		FollowRedirects: d.FollowRedirects, Interval: d.Interval, Timeout: d.Timeout,
		Conditions:       nilIfEmpty(slices.Clone(d.Conditions)),
		FailureThreshold: d.FailureThreshold, SuccessThreshold: d.SuccessThreshold,
	}
	if len(d.Headers) > 0 {
		c.Headers = maps.Clone(d.Headers)
	}
	return c
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
