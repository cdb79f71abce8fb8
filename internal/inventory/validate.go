package inventory

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// validate reports everything wrong with the filled-in document. It never
// stops at the first problem: the operator fixes the whole file in one go.
func (c *checker) validate(doc *document) {
	if len(doc.Hosts) == 0 {
		c.add(orStart(doc.Meta.At("hosts")), "the inventory declares no host (list them under hosts)")
	}
	dcs := map[string]*datacenterDoc{}
	for _, d := range doc.Datacenters {
		dcs[d.Name] = d
		c.name(d.Meta.Pos(), "datacenter", d.Name)
		if d.Meta.Has("site") {
			c.name(d.Meta.At("site"), "site", d.Site)
		}
	}
	for _, l := range doc.LoadBalancers {
		c.loadBalancer(l)
	}
	c.ssh(&doc.Defaults.SSH, "defaults.ssh")
	c.commands(&doc.Defaults.Commands)

	groups := map[string]*groupDoc{}
	for _, g := range doc.Groups {
		groups[g.Name] = g
	}
	size := map[string]int{}
	for _, h := range doc.Hosts {
		for _, g := range unique(h.Groups) {
			size[g]++
		}
	}
	lbNames := keys(doc.LoadBalancers, func(l *loadBalancerDoc) string { return l.Name })
	for _, g := range doc.Groups {
		c.group(g, size[g.Name], lbNames)
	}

	c.hosts(doc, dcs, groups)
}

func orStart(p yamlx.Pos) yamlx.Pos {
	if p.Line == 0 {
		return yamlx.Pos{Line: 1, Col: 1}
	}
	return p
}

func keys[T any](items []T, key func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = key(it)
	}
	return out
}

func unique(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func (c *checker) name(p yamlx.Pos, what, name string) {
	if !validName(name) {
		c.add(p, "%s name %q %s", what, name, nameRule)
	}
}

func (c *checker) loadBalancer(l *loadBalancerDoc) {
	c.name(l.Meta.Pos(), "load balancer", l.Name)
	socket, address := l.Meta.Has("socket"), l.Meta.Has("address")
	switch {
	case !socket && !address:
		c.add(l.Meta.Pos(), "load balancer %s needs socket (a unix socket path) or address (host:port) to reach its runtime API", l.Name)
	case socket && address:
		c.add(l.Meta.At("address"), "load balancer %s has both socket and address; keep one", l.Name)
	case socket && l.Socket == "":
		c.add(l.Meta.At("socket"), "the socket of load balancer %s is empty", l.Name)
	case address:
		if _, _, err := hostPort(l.Address); err != nil {
			c.add(l.Meta.At("address"), "address of load balancer %s: %v", l.Name, err)
		}
	}
}

// hostPort checks an address that must carry its port.
func hostPort(s string) (string, string, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil || h == "" {
		return "", "", fmt.Errorf("%q is not a host:port", s)
	}
	if _, err := parsePort(p); err != nil {
		return "", "", fmt.Errorf("%q: %w", s, err)
	}
	return h, p, nil
}

func (c *checker) group(g *groupDoc, size int, lbNames []string) {
	m := g.Meta
	c.name(m.Pos(), "group", g.Name)
	if m.Has("max_unavailable") && m.Has("min_available") {
		c.add(m.At("min_available"), "group %s sets both max_unavailable and min_available; keep one", g.Name)
	}
	if m.Has("max_unavailable") {
		if _, err := fleet.ParseQuantity(g.MaxUnavailable); err != nil {
			c.add(m.At("max_unavailable"), "max_unavailable of group %s: %v", g.Name, err)
		}
	}
	if m.Has("min_available") {
		q, err := fleet.ParseQuantity(g.MinAvailable)
		switch {
		case err != nil:
			c.add(m.At("min_available"), "min_available of group %s: %v", g.Name, err)
		case size > 0 && !q.Percent && q.N > size:
			c.add(m.At("min_available"), "min_available %d of group %s is more than its %s: the budget could never be met", q.N, g.Name, plural(size, "member"))
		}
	}
	if m.Has("component") && strings.TrimSpace(g.Component) == "" {
		c.add(m.At("component"), "the component of group %s is empty", g.Name)
	}
	if lb := g.LoadBalancer; lb != nil {
		switch {
		case !lb.Meta.Has("name"):
			c.add(lb.Meta.Pos(), "the load_balancer of group %s needs a name (one declared under load_balancers)", g.Name)
		case !slices.Contains(lbNames, lb.Name):
			c.add(lb.Meta.At("name"), "%s", unknownName("load balancer", lb.Name, lbNames, "load_balancers"))
		}
		if lb.Meta.Has("backend") && !validName(lb.Backend) {
			c.add(lb.Meta.At("backend"), "backend name %q %s", lb.Backend, nameRule)
		}
	} else if m.Has("load_balancer") {
		c.add(m.At("load_balancer"), "the load_balancer of group %s is empty: give its name and backend", g.Name)
	}
	c.checks(g.Checks, "group "+g.Name)
	if size == 0 {
		c.add(m.Pos(), "group %s has no member: no host lists it under groups", g.Name)
	}
}

func (c *checker) hosts(doc *document, dcs map[string]*datacenterDoc, groups map[string]*groupDoc) {
	dcNames := keys(doc.Datacenters, func(d *datacenterDoc) string { return d.Name })
	groupNames := keys(doc.Groups, func(g *groupDoc) string { return g.Name })
	addresses := map[string]*hostDoc{}
	var noKnownHosts, noAuth []*hostDoc
	auth := []string{"known_hosts", "identity_files", "agent"}
	defaultsBroken := c.broken(doc.Defaults.SSH.Meta, auth...)
	for _, h := range doc.Hosts {
		m := h.Meta
		c.name(m.Pos(), "host", h.Name)
		if g, ok := groups[h.Name]; ok {
			c.add(m.Pos(), "host %s has the name of a group (line %d): a selector could not tell them apart", h.Name, g.Meta.Pos().Line)
		}
		// A host that is not a mapping lacks everything; the decoder said
		// so, and the rest would be noise. Reading the file again to know
		// is only worth it when something is missing.
		notMapping := func() bool {
			v := c.loc.value(doc.Meta.At("hosts"), h.Name)
			return v != nil && v.Kind != yaml.MappingNode && v.Tag != "!!null"
		}
		switch {
		case !m.Has("address"):
			if notMapping() {
				continue
			}
			c.add(m.Pos(), "host %s has no address", h.Name)
		default:
			if _, _, err := splitAddress(h.Address); err != nil {
				c.add(m.At("address"), "address of host %s: %v", h.Name, err)
				break
			}
			key := joinAddress(h.host, h.ssh.Port)
			if first, ok := addresses[key]; ok {
				c.add(m.At("address"), "host %s has the same address as host %s (line %d)", h.Name, first.Name, first.Meta.Pos().Line)
			} else {
				addresses[key] = h
			}
		}
		switch {
		case !m.Has("datacenter") && len(dcNames) == 0:
			c.add(m.Pos(), "host %s has no datacenter, and none is declared under datacenters", h.Name)
		case !m.Has("datacenter"):
			c.add(m.Pos(), "host %s has no datacenter (declared under datacenters: %s)", h.Name, strings.Join(dcNames, ", "))
		case dcs[h.Datacenter] == nil:
			c.add(m.At("datacenter"), "%s", unknownName("datacenter", h.Datacenter, dcNames, "datacenters"))
		}
		if m.Has("user") && h.User == "" {
			c.add(m.At("user"), "the user of host %s is empty", h.Name)
		}
		hasBalancer := false
		for i, g := range h.Groups {
			switch {
			case slices.Contains(h.Groups[:i], g):
				c.add(c.loc.item(m.At("groups"), i), "host %s lists group %s twice", h.Name, g)
			case groups[g] == nil:
				c.add(c.loc.item(m.At("groups"), i), "%s", unknownName("group", g, groupNames, "groups"))
			case groups[g].LoadBalancer != nil:
				hasBalancer = true
			}
		}
		for _, k := range sortedKeys(h.Labels) {
			if !validName(k) {
				c.add(c.loc.key(m.At("labels"), k), "label name %q %s", k, nameRule)
			}
		}
		if m.Has("lb_server") {
			switch {
			case !validName(h.LBServer):
				c.add(m.At("lb_server"), "lb_server %q %s", h.LBServer, nameRule)
			case !hasBalancer:
				c.add(m.At("lb_server"), "host %s sets lb_server but none of its groups has a load_balancer", h.Name)
			}
		}
		if h.SSH.Meta.Has("user") {
			c.add(h.SSH.Meta.At("user"), "set the user of host %s beside its address (user: %s), not under ssh", h.Name, h.SSH.User)
		}
		if h.SSH.Meta.Has("port") {
			c.add(h.SSH.Meta.At("port"), "set the port of host %s in its address (%s), not under ssh", h.Name, joinAddress(h.host, h.SSH.Port))
		}
		c.ssh(&h.SSH, "ssh of host "+h.Name)
		c.commands(&h.Commands)
		c.checks(h.Checks, "host "+h.Name)
		if defaultsBroken || c.broken(h.SSH.Meta, auth...) {
			continue
		}
		if h.ssh.KnownHosts == "" {
			noKnownHosts = append(noKnownHosts, h)
		}
		if len(h.ssh.IdentityFiles) == 0 && !h.ssh.Agent {
			noAuth = append(noAuth, h)
		}
	}
	defaultsAt := doc.Meta.At("defaults")
	if doc.Defaults.Meta.Has("ssh") {
		defaultsAt = doc.Defaults.Meta.At("ssh")
	}
	c.missing(noKnownHosts, len(doc.Hosts), orStart(defaultsAt),
		"known_hosts is not set: illico verifies every host key and never accepts an unknown one; set defaults.ssh.known_hosts",
		"host %s has no known_hosts: illico verifies every host key; set defaults.ssh.known_hosts or the host's ssh.known_hosts")
	c.missing(noAuth, len(doc.Hosts), orStart(defaultsAt),
		"no way to log in: set defaults.ssh.identity_files or defaults.ssh.agent: true",
		"host %s has no way to log in: set identity_files or agent: true in defaults.ssh or the host's ssh")
}

// missing reports a setting that some hosts lack: once for the file when
// none has it, else once per host.
func (c *checker) missing(hosts []*hostDoc, total int, fileAt yamlx.Pos, whole, each string) {
	if len(hosts) == 0 {
		return
	}
	if len(hosts) == total {
		c.add(fileAt, "%s", whole)
		return
	}
	for _, h := range hosts {
		c.add(h.Meta.Pos(), each, h.Name)
	}
}

func (c *checker) ssh(s *sshDoc, where string) {
	m := s.Meta
	if m.Has("user") && s.User == "" {
		c.add(m.At("user"), "%s: user is empty", where)
	}
	if m.Has("port") && (s.Port < 1 || s.Port > 65535) {
		c.add(m.At("port"), "%s: port %d is not a TCP port (1-65535)", where, s.Port)
	}
	if m.Has("known_hosts") && s.KnownHosts == "" {
		c.add(m.At("known_hosts"), "%s: known_hosts is empty", where)
	}
	for i, f := range s.IdentityFiles {
		if f == "" {
			c.add(c.loc.item(m.At("identity_files"), i), "%s: an identity file is empty", where)
		}
	}
	for key, d := range map[string]bool{
		"connect_timeout":    s.ConnectTimeout > 0,
		"keepalive_interval": s.KeepaliveInterval > 0,
	} {
		if m.Has(key) && !d {
			c.add(m.At(key), "%s: %s must be more than 0s", where, key)
		}
	}
	if m.Has("keepalive_count") && s.KeepaliveCount < 1 {
		c.add(m.At("keepalive_count"), "%s: keepalive_count must be at least 1", where)
	}
}

func (c *checker) commands(cmds *commandsDoc) {
	for key, v := range map[string]string{
		"boot_id":         cmds.BootID,
		"reboot":          cmds.Reboot,
		"reboot_required": cmds.RebootRequired,
	} {
		if cmds.Meta.Has(key) && strings.TrimSpace(v) == "" {
			c.add(cmds.Meta.At(key), "the %s command is empty", key)
		}
	}
}

func (c *checker) checks(checks []checkDoc, owner string) {
	seen := map[string]yamlx.Pos{}
	for i := range checks {
		k := &checks[i]
		m := k.Meta
		switch {
		case !m.Has("http") && !m.Has("tcp") && m.Has("name"):
			c.add(m.Pos(), "check %s of %s needs http: URL or tcp: HOST:PORT", k.Name, owner)
		case !m.Has("http") && !m.Has("tcp"):
			c.add(m.Pos(), "a check of %s needs http: URL or tcp: HOST:PORT", owner)
		case m.Has("http") && m.Has("tcp"):
			c.add(m.At("tcp"), "check %s of %s has both http and tcp; a check is one or the other", k.Name, owner)
		case m.Has("http"):
			if err := checkURL(k.HTTP); err != nil {
				c.add(m.At("http"), "check %s of %s: %v", k.Name, owner, err)
			}
		default:
			if err := checkTCP(k.TCP); err != nil {
				c.add(m.At("tcp"), "check %s of %s: %v", k.Name, owner, err)
			}
		}
		if m.Has("status") {
			switch {
			case k.kind() == fleet.CheckTCP:
				c.add(m.At("status"), "check %s of %s: status applies to http checks only", k.Name, owner)
			case k.Status < 100 || k.Status > 599:
				c.add(m.At("status"), "check %s of %s: %d is not an HTTP status code", k.Name, owner, k.Status)
			}
		}
		if m.Has("timeout") && k.Timeout <= 0 {
			c.add(m.At("timeout"), "check %s of %s: timeout must be more than 0s", k.Name, owner)
		}
		if m.Has("name") && strings.TrimSpace(k.Name) == "" {
			c.add(m.At("name"), "a check of %s has an empty name", owner)
		}
		if first, ok := seen[k.Name]; ok && k.Name != "" {
			c.add(m.At("name"), "%s has two checks named %s (first on line %d); tell them apart with name", owner, k.Name, first.Line)
		} else {
			seen[k.Name] = m.Pos()
		}
	}
}

func checkURL(raw string) error {
	s, err := expandSample(raw)
	if err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", raw)
	}
	return nil
}

func checkTCP(raw string) error {
	s, err := expandSample(raw)
	if err != nil {
		return err
	}
	if _, _, err := hostPort(s); err != nil {
		return fmt.Errorf("%q is not a host:port", raw)
	}
	return nil
}

// expandSample fills the placeholders of a check with sample values, so that
// the result can be checked like a real URL or address.
func expandSample(s string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("placeholder %q has no closing }", s[i:])
		}
		name := s[i+2 : i+j]
		if !slices.Contains(fleet.Placeholders, name) {
			return "", unknownPlaceholder(name)
		}
		b.WriteString("placeholder")
		s = s[i+j+1:]
	}
}

func unknownPlaceholder(name string) error {
	if guess := yamlx.Closest(name, fleet.Placeholders); guess != "" {
		return fmt.Errorf("unknown placeholder ${%s} (did you mean ${%s}?)", name, guess)
	}
	known := make([]string, len(fleet.Placeholders))
	for i, p := range fleet.Placeholders {
		known[i] = "${" + p + "}"
	}
	return errors.New("unknown placeholder ${" + name + "} (known: " + strings.Join(known, ", ") + ")")
}
