package inventory

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/fleet"
)

// Encode writes inv as an inventory file in the documented format; paths under dir are
// written relative to dir. Parse(Encode(inv)) must give back an equal inventory.
//
// The SSH settings and commands most hosts share go under defaults; each host
// writes only where it differs, so that an imported fleet reads like one an
// operator would write.
func Encode(inv *fleet.Inventory, dir string) ([]byte, error) {
	e := encoder{dir: dir}
	base := commonSSH(inv.Hosts)
	commands := commonCommands(inv.Hosts)

	root := mapping(false)
	if len(inv.Datacenters) > 0 {
		dcs := mapping(false)
		for _, d := range inv.Datacenters {
			put(dcs, d.Name, pairs(true, "site", text(d.Site)))
		}
		put(root, "datacenters", dcs)
	}
	defaults := pairs(false, "ssh", e.ssh(base, nil))
	if c := commandsNode(commands, fleet.DefaultCommands); c != nil {
		put(defaults, "commands", c)
	}
	put(root, "defaults", defaults)
	if len(inv.LoadBalancers) > 0 {
		lbs := mapping(false)
		for _, l := range inv.LoadBalancers {
			m := mapping(true)
			if l.Socket != "" {
				put(m, "socket", text(e.rel(l.Socket)))
			}
			if l.Address != "" {
				put(m, "address", text(l.Address))
			}
			put(lbs, l.Name, m)
		}
		put(root, "load_balancers", lbs)
	}
	if len(inv.Groups) > 0 {
		groups := mapping(false)
		for _, g := range inv.Groups {
			put(groups, g.Name, groupNode(g))
		}
		put(root, "groups", groups)
	}
	hosts := mapping(false)
	for _, h := range inv.Hosts {
		n, err := e.host(inv, h, base, commands)
		if err != nil {
			return nil, err
		}
		put(hosts, h.Name, n)
	}
	put(root, "hosts", hosts)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	return buf.Bytes(), nil
}

type encoder struct{ dir string }

// rel writes p relative to the encoder's directory when it lies under it.
func (e encoder) rel(p string) string {
	if e.dir == "" || !filepath.IsAbs(p) {
		return p
	}
	r, err := filepath.Rel(e.dir, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return p
	}
	if strings.HasPrefix(r, "~") {
		r = "." + string(filepath.Separator) + r // not the home directory
	}
	return r
}

func (e encoder) host(inv *fleet.Inventory, h *fleet.Host, base fleet.SSH, commands fleet.Commands) (*yaml.Node, error) {
	port := 0
	if h.SSH.Port != base.Port {
		port = h.SSH.Port
	}
	m := pairs(false, "address", text(joinAddress(h.Address, port)))
	if h.SSH.User != base.User {
		put(m, "user", text(h.SSH.User))
	}
	put(m, "datacenter", text(h.Datacenter))
	if len(h.Groups) > 0 {
		put(m, "groups", texts(h.Groups))
	}
	if len(h.Labels) > 0 {
		labels := mapping(true)
		for _, k := range sortedKeys(h.Labels) {
			put(labels, k, text(h.Labels[k]))
		}
		put(m, "labels", labels)
	}
	server, err := lbServer(inv, h)
	if err != nil {
		return nil, err
	}
	if server != "" {
		put(m, "lb_server", text(server))
	}
	if ssh := e.ssh(h.SSH, &base); len(ssh.Content) > 0 {
		put(m, "ssh", ssh)
	}
	if c := commandsNode(h.Commands, commands); c != nil {
		put(m, "commands", c)
	}
	if len(h.Checks) > 0 {
		put(m, "checks", checksNode(h.Checks))
	}
	return m, nil
}

// lbServer is the one backend server name of h that differs from its name.
func lbServer(inv *fleet.Inventory, h *fleet.Host) (string, error) {
	server, from := "", ""
	for _, g := range inv.Groups {
		if g.Balancer == nil || !slices.Contains(g.Members, h.Name) {
			continue
		}
		s, ok := g.Balancer.Servers[h.Name]
		if !ok {
			continue
		}
		if server != "" && s != server {
			return "", fmt.Errorf("encode inventory: host %s is server %s in the backend of group %s but %s in that of group %s; an inventory file gives a host one lb_server", h.Name, server, from, s, g.Name)
		}
		server, from = s, g.Name
	}
	return server, nil
}

// ssh writes s: every setting for the defaults (base nil), else the settings
// that differ from base, except user and port, which a host writes beside
// its address.
func (e encoder) ssh(s fleet.SSH, base *fleet.SSH) *yaml.Node {
	all := base == nil
	m := mapping(!all)
	if all {
		base = &fleet.SSH{}
		put(m, "user", text(s.User))
		put(m, "port", number(s.Port))
	}
	if s.KnownHosts != base.KnownHosts {
		put(m, "known_hosts", text(e.rel(s.KnownHosts)))
	}
	if !slices.Equal(s.IdentityFiles, base.IdentityFiles) {
		files := make([]string, len(s.IdentityFiles))
		for i, f := range s.IdentityFiles {
			files[i] = e.rel(f)
		}
		put(m, "identity_files", texts(files))
	}
	if all || s.Agent != base.Agent {
		put(m, "agent", boolean(s.Agent))
	}
	if all || s.ConnectTimeout != base.ConnectTimeout {
		put(m, "connect_timeout", text(s.ConnectTimeout.String()))
	}
	if all || s.KeepaliveInterval != base.KeepaliveInterval {
		put(m, "keepalive_interval", text(s.KeepaliveInterval.String()))
	}
	if all || s.KeepaliveCount != base.KeepaliveCount {
		put(m, "keepalive_count", number(s.KeepaliveCount))
	}
	return m
}

// commandsNode writes the commands that differ from base, or nil.
func commandsNode(c, base fleet.Commands) *yaml.Node {
	m := mapping(false)
	if c.BootID != base.BootID {
		put(m, "boot_id", text(c.BootID))
	}
	if c.Reboot != base.Reboot {
		put(m, "reboot", text(c.Reboot))
	}
	if c.RebootRequired != base.RebootRequired {
		put(m, "reboot_required", text(c.RebootRequired))
	}
	if len(m.Content) == 0 {
		return nil
	}
	return m
}

func groupNode(g *fleet.Group) *yaml.Node {
	m := mapping(false)
	switch {
	case g.Budget.MaxUnavailable != nil:
		put(m, "max_unavailable", quantity(*g.Budget.MaxUnavailable))
	case g.Budget.MinAvailable != nil:
		put(m, "min_available", quantity(*g.Budget.MinAvailable))
	}
	if g.Component != "" {
		put(m, "component", text(g.Component))
	}
	if g.ComponentGroup != "" {
		put(m, "component_group", text(g.ComponentGroup))
	}
	if b := g.Balancer; b != nil {
		lb := pairs(true, "name", text(b.LoadBalancer))
		put(lb, "backend", text(b.Backend))
		put(m, "load_balancer", lb)
	}
	if len(g.Checks) > 0 {
		put(m, "checks", checksNode(g.Checks))
	}
	return m
}

// checksNode writes each check's keys that are set, in the order of
// docs/probes.md.
func checksNode(checks []fleet.Check) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range checks {
		m := pairs(false, "name", text(c.Name))
		put(m, "kind", text(string(c.Kind)))
		if c.Target != "" {
			put(m, "target", text(c.Target))
		}
		if c.Method != "" {
			put(m, "method", text(c.Method))
		}
		if len(c.Headers) > 0 {
			h := mapping(true)
			for _, k := range sortedKeys(c.Headers) {
				put(h, k, text(c.Headers[k]))
			}
			put(m, "headers", h)
		}
		if c.FollowRedirects {
			put(m, "follow_redirects", boolean(true))
		}
		if c.Interval != 0 {
			put(m, "interval", text(c.Interval.String()))
		}
		if c.Timeout != 0 {
			put(m, "timeout", text(c.Timeout.String()))
		}
		if len(c.Conditions) > 0 {
			conds := &yaml.Node{Kind: yaml.SequenceNode}
			for _, s := range c.Conditions {
				conds.Content = append(conds.Content, text(s))
			}
			put(m, "conditions", conds)
		}
		if c.FailureThreshold != 0 {
			put(m, "failure_threshold", number(c.FailureThreshold))
		}
		if c.SuccessThreshold != 0 {
			put(m, "success_threshold", number(c.SuccessThreshold))
		}
		list.Content = append(list.Content, m)
	}
	return list
}

func quantity(q fleet.Quantity) *yaml.Node {
	if q.Percent {
		return text(q.String())
	}
	return number(q.N)
}

// commonSSH is, setting by setting, what most hosts use: the defaults that
// leave the fewest overrides.
func commonSSH(hosts []*fleet.Host) fleet.SSH {
	if len(hosts) == 0 {
		return builtinSSH()
	}
	return fleet.SSH{
		User:              mode(hosts, func(h *fleet.Host) string { return h.SSH.User }),
		Port:              mode(hosts, func(h *fleet.Host) int { return h.SSH.Port }),
		KnownHosts:        mode(hosts, func(h *fleet.Host) string { return h.SSH.KnownHosts }),
		IdentityFiles:     mode(hosts, func(h *fleet.Host) []string { return h.SSH.IdentityFiles }),
		Agent:             mode(hosts, func(h *fleet.Host) bool { return h.SSH.Agent }),
		ConnectTimeout:    mode(hosts, func(h *fleet.Host) time.Duration { return h.SSH.ConnectTimeout }),
		KeepaliveInterval: mode(hosts, func(h *fleet.Host) time.Duration { return h.SSH.KeepaliveInterval }),
		KeepaliveCount:    mode(hosts, func(h *fleet.Host) int { return h.SSH.KeepaliveCount }),
	}
}

func commonCommands(hosts []*fleet.Host) fleet.Commands {
	if len(hosts) == 0 {
		return fleet.DefaultCommands
	}
	return fleet.Commands{
		BootID:         mode(hosts, func(h *fleet.Host) string { return h.Commands.BootID }),
		Reboot:         mode(hosts, func(h *fleet.Host) string { return h.Commands.Reboot }),
		RebootRequired: mode(hosts, func(h *fleet.Host) string { return h.Commands.RebootRequired }),
	}
}

// mode is the most common value of get over hosts; the first to get there
// wins a tie.
func mode[T any](hosts []*fleet.Host, get func(*fleet.Host) T) T {
	counts := map[string]int{}
	var best T
	bestN := 0
	for _, h := range hosts {
		v := get(h)
		k := fmt.Sprintf("%#v", v)
		counts[k]++
		if counts[k] > bestN {
			best, bestN = v, counts[k]
		}
	}
	return best
}

func mapping(flow bool) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		m.Style = yaml.FlowStyle
	}
	return m
}

// pairs is a mapping that starts with key: v.
func pairs(flow bool, key string, v *yaml.Node) *yaml.Node {
	m := mapping(flow)
	put(m, key, v)
	return m
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, text(key), v)
}

func text(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func number(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func texts(items []string) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		list.Content = append(list.Content, text(s))
	}
	return list
}
