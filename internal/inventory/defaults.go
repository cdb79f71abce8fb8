package inventory

import (
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// The built-in defaults: what illico uses where neither a host nor the
// file's defaults say otherwise. docs/inventory.md lists them; keep the two
// in step.
const (
	defaultUser              = "root"
	defaultPort              = 22
	defaultConnectTimeout    = 10 * time.Second
	defaultKeepaliveInterval = 5 * time.Second
	defaultKeepaliveCount    = 3
)

// defaultBudget is the budget of a group that sets none: one member down at
// a time.
func defaultBudget() fleet.Budget {
	return fleet.Budget{MaxUnavailable: &fleet.Quantity{N: 1}}
}

func builtinSSH() fleet.SSH {
	return fleet.SSH{
		User:              defaultUser,
		Port:              defaultPort,
		ConnectTimeout:    defaultConnectTimeout,
		KeepaliveInterval: defaultKeepaliveInterval,
		KeepaliveCount:    defaultKeepaliveCount,
	}
}

// fill applies every default to the decoded file: built-in values under the
// file's defaults under each host's own settings, a datacenter's site, a
// group's budget and backend, and each check's name. It is the only place
// the inventory's defaults are decided; validation and build read the
// filled-in values and use Meta to tell what was written. A check's other
// defaults depend on the daemon's probe interval: the probe package applies
// them when it compiles the check.
func fill(doc *document) {
	base := doc.Defaults.SSH.over(builtinSSH())
	commands := doc.Defaults.Commands.over(fleet.DefaultCommands)
	for _, d := range doc.Datacenters {
		if !d.Meta.Has("site") {
			d.Site = d.Name // a datacenter without a site is a site of its own
		}
	}
	for _, g := range doc.Groups {
		if !g.Meta.Has("max_unavailable") && !g.Meta.Has("min_available") {
			g.MaxUnavailable = defaultBudget().MaxUnavailable.String()
		}
		if g.LoadBalancer != nil && !g.LoadBalancer.Meta.Has("backend") {
			g.LoadBalancer.Backend = g.Name
		}
		fillChecks(g.Checks)
	}
	for _, h := range doc.Hosts {
		h.ssh = h.SSH.over(base)
		host, port, err := splitAddress(h.Address)
		if err == nil {
			h.host = host
			if port != 0 {
				h.ssh.Port = port
			}
		}
		if h.Meta.Has("user") {
			h.ssh.User = h.User
		}
		h.commands = h.Commands.over(commands)
		fillChecks(h.Checks)
	}
}

func fillChecks(checks []checkDoc) {
	for i := range checks {
		if c := &checks[i]; !c.Meta.Has("name") {
			c.Name = c.Kind
		}
	}
}

// over returns base with what s sets written over it.
func (s *sshDoc) over(base fleet.SSH) fleet.SSH {
	m := s.Meta
	if m.Has("user") {
		base.User = s.User
	}
	if m.Has("port") {
		base.Port = s.Port
	}
	if m.Has("known_hosts") {
		base.KnownHosts = s.KnownHosts
	}
	if m.Has("identity_files") {
		base.IdentityFiles = s.IdentityFiles
	}
	if m.Has("agent") {
		base.Agent = s.Agent
	}
	if m.Has("connect_timeout") {
		base.ConnectTimeout = s.ConnectTimeout
	}
	if m.Has("keepalive_interval") {
		base.KeepaliveInterval = s.KeepaliveInterval
	}
	if m.Has("keepalive_count") {
		base.KeepaliveCount = s.KeepaliveCount
	}
	return base
}

// over returns base with what c sets written over it.
func (c *commandsDoc) over(base fleet.Commands) fleet.Commands {
	if c.Meta.Has("boot_id") {
		base.BootID = c.BootID
	}
	if c.Meta.Has("reboot") {
		base.Reboot = c.Reboot
	}
	if c.Meta.Has("reboot_required") {
		base.RebootRequired = c.RebootRequired
	}
	return base
}
