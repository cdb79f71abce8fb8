// Package fleet holds illico's domain types: the sites, datacenters, hosts and
// groups of a hosting fleet, their disruption budgets, and the error kinds every
// other package speaks; with them the records that cross from the store to its
// users (tokens and their roles, the status page's subscribers and their queue)
// and how a command on a host ended. It imports only the standard library and
// does no I/O, so that the scheduler, the store and the API can all agree on one
// vocabulary.
package fleet

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Inventory is the fleet as the operator described it: every failure domain,
// host, group and load balancer, with the defaults already applied.
type Inventory struct {
	Sites         []*Site
	Datacenters   []*Datacenter
	Hosts         []*Host
	Groups        []*Group
	LoadBalancers []*LoadBalancer
}

// Site is a failure domain that holds one or more datacenters: buildings on
// one campus share power, fibre and fire.
type Site struct {
	Name string
}

// Datacenter is a failure domain inside a site.
type Datacenter struct {
	Name string
	Site string
}

// Host is one server, physical or virtual, reached over SSH.
type Host struct {
	Name string
	// Address is a DNS name or IP address, without the port.
	Address    string
	Datacenter string
	// Site is derived from the datacenter.
	Site   string
	Groups []string
	Labels map[string]string
	SSH    SSH
	// Commands say how to ask this host for its boot id, to reboot it, and
	// whether a reboot is pending; they differ between Debian and the lab.
	Commands Commands
	// Checks are the host's own health checks, without its groups'.
	Checks []Check
}

// SSHAddress is the host:port to dial.
func (h *Host) SSHAddress() string {
	return URLHost(h.Address) + ":" + strconv.Itoa(h.SSH.Port)
}

// URLHost is address as it stands in a URL or before a :port: an IPv6
// literal in brackets (RFC 3986), a name or an IPv4 address as it is.
func URLHost(address string) string {
	if strings.Contains(address, ":") {
		return "[" + address + "]"
	}
	return address
}

// InGroup reports whether the host is a member of group.
func (h *Host) InGroup(group string) bool { return slices.Contains(h.Groups, group) }

// SSH says how to reach a host. Zero values mean "not set" while merging
// defaults with per-host overrides; a loaded Inventory has them filled in.
type SSH struct {
	User              string
	Port              int
	KnownHosts        string
	IdentityFiles     []string
	Agent             bool
	ConnectTimeout    time.Duration
	KeepaliveInterval time.Duration
	KeepaliveCount    int
}

// Commands are the shell commands illico runs on a host for the few things
// every maintenance needs to know or do.
type Commands struct {
	BootID         string
	Reboot         string
	RebootRequired string
}

// DefaultCommands are the commands of a Debian or Ubuntu server.
var DefaultCommands = Commands{
	BootID:         "cat /proc/sys/kernel/random/boot_id",
	Reboot:         "systemctl reboot",
	RebootRequired: "test -f /var/run/reboot-required",
}

// Group is a set of hosts that serve the same thing redundantly.
type Group struct {
	Name   string
	Budget Budget
	// Component is the status-page component this group serves, and
	// ComponentGroup the heading it is listed under on the page, if any.
	Component      string
	ComponentGroup string
	// Balancer places the group's members behind a load balancer, if any.
	Balancer *Membership
	Checks   []Check
	// Members are host names, in inventory order.
	Members []string
}

// Membership says where a group's members sit in a load balancer.
type Membership struct {
	LoadBalancer string
	Backend      string
	// Servers maps a host name to its server name in the backend when they
	// differ; by default the server is named like the host.
	Servers map[string]string
}

// Server is the backend server name of host.
func (m *Membership) Server(host string) string {
	if s, ok := m.Servers[host]; ok {
		return s
	}
	return host
}

// LoadBalancer is an HAProxy reached through its runtime API.
type LoadBalancer struct {
	Name string
	// Socket is a unix socket path; Address a TCP host:port. One is set.
	Socket  string
	Address string
}

// CheckKind is the kind of a health check.
type CheckKind string

const (
	CheckHTTP    CheckKind = "http"
	CheckTCP     CheckKind = "tcp"
	CheckSSH     CheckKind = "ssh"
	CheckCommand CheckKind = "command"
)

// Check is a health check as the inventory declares it, on a group (for
// every member) or on a host: data only, so that the fleet's vocabulary
// does not depend on how probes run. The probe package compiles it into a
// probe; zero values are "not set" and take the defaults there, the
// interval being the daemon's. Target may hold Placeholders, filled in per
// host by Host.Expand.
type Check struct {
	Name   string
	Kind   CheckKind
	Target string
	// Method, Headers and FollowRedirects are for http checks.
	Method          string
	Headers         map[string]string
	FollowRedirects bool
	Interval        time.Duration
	Timeout         time.Duration
	// Conditions are kept as written ("[STATUS] == 200"); the probe
	// package parses them.
	Conditions []string
	// FailureThreshold is how many failures in a row take a host's check
	// down; SuccessThreshold how many successes in a row bring it back.
	FailureThreshold int
	SuccessThreshold int
}

// Placeholders are the names a check's target may use as ${name}.
var Placeholders = []string{"address", "address_bare", "name"}

// Expand fills in the placeholders of s for h, one rule for every target:
// ${address} is the address ready for a URL or a host:port, an IPv6
// literal in brackets ([2001:db8::10]), so that http://${address}:8080/
// and ${address}:5432 hold for every host; ${address_bare} is the address
// as the inventory gives it, for a command that takes an address alone
// (ping, dig); ${name} is the host's name. Brackets written around
// ${address} are its own, not doubled: [${address}] is ${address}, which
// for a name or an IPv4 address has none. An unknown placeholder is left
// as it is; the inventory refuses it.
func (h *Host) Expand(s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		pre, name, rest := s[:i], s[i+2:i+j], s[i+j+1:]
		var v string
		switch name {
		case "address":
			v = URLHost(h.Address)
			if strings.HasSuffix(pre, "[") && strings.HasPrefix(rest, "]") {
				pre, rest = pre[:len(pre)-1], rest[1:]
			}
		case "address_bare":
			v = h.Address
		case "name":
			v = h.Name
		default:
			v = s[i : i+j+1]
		}
		b.WriteString(pre)
		b.WriteString(v)
		s = rest
	}
}

// Quantity is a count of hosts or a percentage of a group.
type Quantity struct {
	N       int
	Percent bool
}

// ParseQuantity reads "2" or "25%".
func ParseQuantity(s string) (Quantity, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil || n < 0 {
		return Quantity{}, fmt.Errorf("%q is not a count or a percentage (like 2 or 25%%)", s)
	}
	if pct && n > 100 {
		return Quantity{}, fmt.Errorf("%q is more than 100%%", s)
	}
	return Quantity{N: n, Percent: pct}, nil
}

// UnmarshalText reads a quantity from a config file.
func (q *Quantity) UnmarshalText(b []byte) error {
	v, err := ParseQuantity(string(b))
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// Of resolves the quantity against a total. Percentages round down, as a
// budget must never allow more than it says.
func (q Quantity) Of(total int) int {
	if !q.Percent {
		return q.N
	}
	return total * q.N / 100
}

func (q Quantity) String() string {
	if q.Percent {
		return strconv.Itoa(q.N) + "%"
	}
	return strconv.Itoa(q.N)
}

// Budget is a group's disruption budget: how many members may be down at once.
// Exactly one of MaxUnavailable and MinAvailable is set.
type Budget struct {
	MaxUnavailable *Quantity
	MinAvailable   *Quantity
}

// Allowed is how many of size members may be down at once, never below zero.
func (b Budget) Allowed(size int) int {
	n := 0
	switch {
	case b.MaxUnavailable != nil:
		n = b.MaxUnavailable.Of(size)
	case b.MinAvailable != nil:
		// The members that must stay up round up, for the budget never to
		// allow more than it says: min_available 50% of 3 keeps 2 up.
		need := b.MinAvailable.N
		if b.MinAvailable.Percent {
			need = (size*b.MinAvailable.N + 99) / 100
		}
		n = size - need
	}
	return max(0, min(n, size))
}

func (b Budget) String() string {
	switch {
	case b.MaxUnavailable != nil:
		return "max_unavailable " + b.MaxUnavailable.String()
	case b.MinAvailable != nil:
		return "min_available " + b.MinAvailable.String()
	}
	return "no budget"
}

// Host returns the host named name, or nil.
func (inv *Inventory) Host(name string) *Host {
	return find(inv.Hosts, name, func(h *Host) string { return h.Name })
}

// Group returns the group named name, or nil.
func (inv *Inventory) Group(name string) *Group {
	return find(inv.Groups, name, func(g *Group) string { return g.Name })
}

// Datacenter returns the datacenter named name, or nil.
func (inv *Inventory) Datacenter(name string) *Datacenter {
	return find(inv.Datacenters, name, func(d *Datacenter) string { return d.Name })
}

// LoadBalancer returns the load balancer named name, or nil.
func (inv *Inventory) LoadBalancer(name string) *LoadBalancer {
	return find(inv.LoadBalancers, name, func(l *LoadBalancer) string { return l.Name })
}

func find[T any](items []T, name string, key func(T) string) T {
	for _, it := range items {
		if key(it) == name {
			return it
		}
	}
	var zero T
	return zero
}

// Secret is a value that must never reach a log, an error or an API answer.
type Secret string

func (Secret) String() string                 { return "<secret>" }
func (Secret) GoString() string               { return "<secret>" }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret itself, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }
