package inventory

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
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
	c.componentGroups(doc.Groups)

	c.hosts(doc, dcs, groups)
}

// componentGroups checks that the groups naming one component list it
// under one heading: the page shows a component once.
func (c *checker) componentGroups(groups []*groupDoc) {
	first := map[string]*groupDoc{}
	for _, g := range groups {
		if strings.TrimSpace(g.Component) == "" {
			continue
		}
		f, ok := first[g.Component]
		if !ok {
			first[g.Component] = g
			continue
		}
		if g.ComponentGroup != f.ComponentGroup {
			at := g.Meta.At("component_group")
			if !g.Meta.Has("component_group") {
				at = g.Meta.At("component")
			}
			c.add(at, "groups %s and %s serve component %q under different component_groups (%q and %q): give them the same",
				f.Name, g.Name, g.Component, f.ComponentGroup, g.ComponentGroup)
		}
	}
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
	if err != nil && strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return "", "", fmt.Errorf("%q is not a host:port: an IPv6 address takes brackets before its port, like [2001:db8::1]:9999", s)
	}
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
	switch {
	case !m.Has("component_group"):
	case strings.TrimSpace(g.ComponentGroup) == "":
		c.add(m.At("component_group"), "the component_group of group %s is empty", g.Name)
	case strings.TrimSpace(g.Component) == "":
		c.add(m.At("component_group"), "group %s has a component_group but no component to list under it", g.Name)
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
	saidChecks := map[string]bool{}
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
		c.hostChecks(h, groups, saidChecks)
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

// checks validates the checks of a group or host (owner), each compiled
// by the probe package as the daemon will compile it.
func (c *checker) checks(checks []checkDoc, owner string) {
	seen := map[string]yamlx.Pos{}
	for i := range checks {
		k := &checks[i]
		m := k.Meta
		label := "check " + k.Name + " of " + owner
		if k.Name == "" {
			label = "a check of " + owner
		}
		switch {
		case m.Has("name") && !validName(k.Name):
			c.add(m.At("name"), "check name %q of %s %s", k.Name, owner, nameRule)
		case k.Name == probe.SSHProbe && m.Has("kind") && k.Kind != string(fleet.CheckSSH):
			c.add(m.At("name"), "%s: ssh names the probe every host gets; call this %s check otherwise", label, k.Kind)
		}
		if first, ok := seen[k.Name]; ok && k.Name != "" {
			c.add(m.At("name"), "%s has two checks named %s (first on line %d); tell them apart with name", owner, k.Name, first.Line)
		} else {
			seen[k.Name] = m.Pos()
		}
		if c.retired(k) && !m.Has("kind") {
			continue // the retired keys say what to write
		}
		// Zero reads as "not set" once compiled: say here that it was written.
		for _, z := range []struct {
			key, msg string
			zero     bool
		}{
			{"interval", "interval 0s is shorter than 1s", k.Interval == 0},
			{"timeout", "timeout must be more than 0s", k.Timeout == 0},
			{"failure_threshold", "failure_threshold must be 1 or more", k.FailureThreshold == 0},
			{"success_threshold", "success_threshold must be 1 or more", k.SuccessThreshold == 0},
		} {
			if z.zero && m.Has(z.key) {
				c.add(m.At(z.key), "%s: %s", label, z.msg)
			}
		}
		_, err := probe.Compile(k.check(), probe.DefaultInterval)
		var ps probe.CheckProblems
		errors.As(err, &ps)
		for _, p := range ps {
			at := m.At(p.Key)
			if p.Index >= 0 {
				at = c.loc.item(at, p.Index)
			}
			c.add(at, "%s: %s", label, p.Msg)
		}
	}
}

// retiredKey says what to write instead of key when it is one of the first
// form of checks, which files written then may still hold; value is what
// the key was given.
func retiredKey(key, value string) (string, bool) {
	switch key {
	case "http":
		return `"http" is not a check key: write kind: http and target: URL`, true
	case "tcp":
		return `"tcp" is not a check key: write kind: tcp and target: HOST:PORT`, true
	case "status":
		if value == "" {
			value = "CODE"
		}
		return fmt.Sprintf(`"status" is not a check key: write conditions: ["[STATUS] == %s"]`, value), true
	}
	return "", false
}

// retired turns the decoder's "unknown key" for a retired key of check k
// into what to write instead, and reports whether k has any.
func (c *checker) retired(k *checkDoc) bool {
	if !slices.ContainsFunc(c.decoded, isRetired) {
		return false // no need to read the file again
	}
	n := c.loc.node(k.Meta.Pos(), yaml.MappingNode)
	if n == nil {
		return false
	}
	found := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		say, ok := retiredKey(key.Value, n.Content[i+1].Value)
		if !ok {
			continue
		}
		found = true
		at := yamlx.Pos{Line: key.Line, Col: key.Column}
		for j := range c.decoded {
			if c.decoded[j].Pos == at && isRetired(c.decoded[j]) {
				c.decoded[j].Msg = say
			}
		}
	}
	return found
}

func isRetired(p yamlx.Problem) bool {
	key, _, _ := strings.Cut(strings.TrimPrefix(p.Msg, "unknown key "), " ")
	k, err := strconv.Unquote(key)
	_, retired := retiredKey(k, "")
	return err == nil && retired && strings.HasPrefix(p.Msg, "unknown key ")
}

// hostChecks reports checks of two of a host's groups, or of a group and
// the host, that share a name but not their settings: on the host they
// would be one probe. (The same check shared through a YAML anchor is one
// probe.) Each pair of groups is said once, however many hosts it concerns.
func (c *checker) hostChecks(h *hostDoc, groups map[string]*groupDoc, said map[string]bool) {
	type owned struct {
		owner string
		check fleet.Check
	}
	first := map[string]owned{}
	for _, name := range unique(h.Groups) {
		g := groups[name]
		if g == nil {
			continue
		}
		for i := range g.Checks {
			k := &g.Checks[i]
			o, ok := first[k.Name]
			switch {
			case !ok:
				first[k.Name] = owned{"group " + g.Name, k.check()}
			case o.owner != "group "+g.Name && !reflect.DeepEqual(o.check, k.check()) && !said[o.owner+"|"+g.Name+"|"+k.Name]:
				said[o.owner+"|"+g.Name+"|"+k.Name] = true
				c.add(k.Meta.At("name"), "%s and group %s have different checks named %s, and host %s is in both: rename one", o.owner, g.Name, k.Name, h.Name)
			}
		}
	}
	for i := range h.Checks {
		k := &h.Checks[i]
		if o, ok := first[k.Name]; ok && !reflect.DeepEqual(o.check, k.check()) {
			c.add(k.Meta.At("name"), "host %s has a check named %s, as its %s does: rename one", h.Name, k.Name, o.owner)
		}
	}
}
