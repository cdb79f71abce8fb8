package inventory

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
)

// convert maps the read Ansible inventory to illico's types, reporting what
// cannot be mapped.
func (a *ansible) convert(opts AnsibleOptions) *fleet.Inventory {
	base := builtinSSH()
	knownHosts := orDefault(opts.KnownHosts, "~/.ssh/known_hosts")
	base.KnownHosts = a.flagPath("--known-hosts", knownHosts, opts.Home)
	for _, f := range opts.IdentityFiles {
		base.IdentityFiles = append(base.IdentityFiles, a.flagPath("--identity-file", f, opts.Home))
	}
	base.Agent = len(base.IdentityFiles) == 0

	if opts.Datacenter != "" && !validName(opts.Datacenter) {
		a.errorf(where{file: a.file}, "--datacenter: datacenter name %q %s", opts.Datacenter, nameRule)
	}
	all, ungrouped := a.byGroup["all"], a.byGroup["ungrouped"]
	dcGroups := a.datacenterGroups(opts.DatacenterGroupPrefix)
	dcOf := func(g *ansibleGroup) (string, bool) {
		name, ok := dcGroups[g]
		return name, ok
	}

	in := map[*ansibleHost][]*ansibleGroup{}
	for _, h := range a.hosts {
		in[h] = h.groupsOf()
	}

	inv := &fleet.Inventory{}
	var noDatacenter []string
	siteOf, siteFrom := map[string]string{}, map[string]string{}
	var dcOrder []string
	addresses := map[string]string{}
	hostByName := map[string]*ansibleHost{}
	skipped := map[*ansibleHost]bool{}
	for _, h := range a.hosts {
		hostByName[h.name] = h
		v := a.hostVars(h)
		owner := "host " + h.name
		if conn, at, ok := a.text(v, owner, varConnection); ok && !sshConnection(conn) {
			// Rebooting what Ansible reaches locally or through a container
			// runtime would reboot something else: the machine illico runs on.
			a.notef(at, "host %s is not imported: its ansible_connection is %s, not SSH, and illico reaches hosts over SSH only", h.name, conn)
			skipped[h] = true
			continue
		}
		if !validName(h.name) {
			a.errorf(h.at, "host name %q %s in illico; rename the host in the Ansible inventory", h.name, nameRule)
		}
		ssh := base
		host, addrOK := a.hostAddress(h, v, owner)
		if t, at, ok := a.text(v, owner, varPort...); ok {
			if n, err := parsePort(t); err != nil {
				a.errorf(at, "ansible_port of host %s: %v", h.name, err)
			} else {
				ssh.Port = n
			}
		}
		if t, _, ok := a.text(v, owner, varUser...); ok && t != "" {
			ssh.User = t
		}
		if t, at, ok := a.text(v, owner, varKeyFile...); ok && t != "" {
			keyFile, err := absPath(t, opts.Home)
			if err != nil {
				a.errorf(at, "private key file of host %s: %v", h.name, err)
			}
			others := slices.DeleteFunc(slices.Clone(base.IdentityFiles), func(f string) bool { return f == keyFile })
			ssh.IdentityFiles = append([]string{keyFile}, others...)
		}
		key := joinAddress(host, ssh.Port)
		if first, ok := addresses[key]; ok && addrOK {
			a.errorf(h.at, "hosts %s and %s both have address %s; illico needs one entry per server (drop one, or give each its own ansible_host)", first, h.name, key)
		}
		addresses[key] = h.name

		dc, dcAt := "", h.at
		if opts.DatacenterVar != "" {
			if t, at, ok := a.text(v, owner, opts.DatacenterVar); ok {
				dc, dcAt = t, at
			}
		}
		var named []string
		for _, g := range in[h] {
			if name, ok := dcOf(g); ok && !slices.Contains(named, name) {
				named = append(named, name)
			}
		}
		switch {
		case len(named) > 1:
			a.errorf(h.at, "host %s is in %d datacenter groups (%s%s); a host stands in one datacenter", h.name, len(named), opts.DatacenterGroupPrefix, strings.Join(named, ", "+opts.DatacenterGroupPrefix))
			dc = named[0] // said; not also "no datacenter"
		case len(named) == 1 && dc == "":
			dc = named[0]
		case len(named) == 1 && dc != named[0]:
			a.errorf(dcAt, "host %s: %s says datacenter %s, but the host is in group %s%s", h.name, opts.DatacenterVar, dc, opts.DatacenterGroupPrefix, named[0])
		}
		if dc == "" && opts.Datacenter != "" {
			dc, dcAt = opts.Datacenter, where{file: a.file}
		}
		if dc == "" {
			noDatacenter = append(noDatacenter, h.name)
			continue
		}
		if !validName(dc) && dc != opts.Datacenter {
			a.errorf(dcAt, "host %s: datacenter name %q %s", h.name, dc, nameRule)
		}
		if !slices.Contains(dcOrder, dc) {
			dcOrder = append(dcOrder, dc)
		}
		if opts.SiteVar != "" {
			if t, at, ok := a.text(v, owner, opts.SiteVar); ok {
				switch prev, seen := siteOf[dc]; {
				case !validName(t):
					a.errorf(at, "host %s: site name %q %s", h.name, t, nameRule)
				case seen && prev != t:
					a.errorf(at, "host %s puts datacenter %s on site %s, but host %s puts it on site %s", h.name, dc, t, siteFrom[dc], prev)
				default:
					siteOf[dc], siteFrom[dc] = t, h.name
				}
			}
		}
		inv.Hosts = append(inv.Hosts, &fleet.Host{
			Name:       h.name,
			Address:    host,
			Datacenter: dc,
			SSH:        ssh,
			Commands:   fleet.DefaultCommands,
		})
	}
	if len(noDatacenter) > 0 {
		a.errorf(where{file: a.file}, "%s", noDatacenterMessage(noDatacenter, len(a.hosts), opts))
	}

	for _, dc := range dcOrder {
		site := orDefault(siteOf[dc], dc)
		inv.Datacenters = append(inv.Datacenters, &fleet.Datacenter{Name: dc, Site: site})
		if !slices.ContainsFunc(inv.Sites, func(s *fleet.Site) bool { return s.Name == site }) {
			inv.Sites = append(inv.Sites, &fleet.Site{Name: site})
		}
	}
	for _, h := range inv.Hosts {
		h.Site = orDefault(siteOf[h.Datacenter], h.Datacenter)
	}

	topology := map[*ansibleGroup]bool{}
	var onlyDatacenters func(g *ansibleGroup) bool
	onlyDatacenters = func(g *ansibleGroup) bool {
		if v, ok := topology[g]; ok {
			return v
		}
		ok := len(g.hosts) == 0 && len(g.children) > 0
		for _, c := range g.children {
			_, isDC := dcOf(c)
			ok = ok && (isDC || onlyDatacenters(c))
		}
		topology[g] = ok
		return ok
	}
	byName := map[string]*fleet.Host{}
	for _, h := range inv.Hosts {
		byName[h.Name] = h
	}
	imported := len(a.hosts) - len(skipped)
	choose := a.chooser(opts.Groups)
	var scopes, labels []string
	for _, g := range a.groups {
		if _, isDC := dcOf(g); g == all || g == ungrouped || isDC || onlyDatacenters(g) {
			continue
		}
		var members []string
		for _, h := range a.hosts {
			if slices.Contains(in[h], g) && !skipped[h] {
				members = append(members, h.name)
			}
		}
		if len(members) == 0 {
			continue
		}
		if !validName(g.name) {
			a.errorf(g.at, "group name %q %s in illico; rename the group in the Ansible inventory", g.name, nameRule)
		}
		spansAll := len(g.children) > 0 && len(members) == imported && imported > 1
		redundant, scope := choose(g, spansAll)
		if !redundant {
			if scope {
				scopes = append(scopes, g.name)
			}
			labels = append(labels, g.name)
			for _, m := range members {
				if h := byName[m]; h != nil {
					if h.Labels == nil {
						h.Labels = map[string]string{}
					}
					h.Labels[groupLabel+g.name] = "true"
				}
			}
			continue
		}
		fg := a.illicoGroup(g, members)
		if h, ok := hostByName[g.name]; ok {
			a.errorf(h.at, "host %s has the name of a group: in illico a selector could not tell them apart; rename one", h.name)
		}
		for _, m := range members {
			if h := byName[m]; h != nil {
				h.Groups = append(h.Groups, g.name)
			}
		}
		inv.Groups = append(inv.Groups, fg)
	}
	if len(scopes) > 0 {
		a.notef(where{file: a.file}, "%s: such a group scopes variables, and as a redundancy group it would let one host of the whole fleet down at a time, so it became the label %sNAME on its hosts; say which groups are redundancy groups with --groups PATTERN,... or illico_group: true (docs/inventory.md)",
			listNames(scopes, "group ", "groups ", " holds every host through its children", " hold every host through their children"), groupLabel)
	}
	if len(labels) > len(scopes) {
		a.notef(where{file: a.file}, "%s", listNames(labels, "Ansible group ", "Ansible groups ",
			fmt.Sprintf(" became a label (%sNAME: \"true\"), not a redundancy group", groupLabel),
			fmt.Sprintf(" became labels (%sNAME: \"true\"), not redundancy groups", groupLabel)))
	}
	return inv
}

// groupLabel starts the label an Ansible group that is not a redundancy
// group leaves on its hosts: label.ansible.baremetal=true selects them.
const groupLabel = "ansible."

// chooser returns what decides whether an Ansible group is a redundancy
// group (an illico group, with a budget) or only labels its hosts. The
// group's own variables decide first: illico_group, then an illico budget
// or component, which only a redundancy group has. Then the patterns of
// --groups. Without them, and when no group says illico_group: true, every
// group is a redundancy group but those that hold every host through their
// children (kolla-ansible's baremetal, openshift's OSEv3): those are scopes
// for variables, and the second result says so. The variables are the
// group's own, not inherited: illico_group: false on baremetal does not make
// its children labels.
func (a *ansible) chooser(patterns []string) func(g *ansibleGroup, spansAll bool) (redundant, scope bool) {
	own := func(g *ansibleGroup) vars { return resolve([]*ansibleGroup{g}) }
	explicit := len(patterns) > 0
	for _, g := range a.groups {
		if val, ok := own(g)[varIllicoGroup]; ok {
			if b, ok := ansibleBool(val); ok && b {
				explicit = true
			}
		}
	}
	for _, p := range patterns {
		if err := checkGlob(p); err != nil {
			a.errorf(where{file: a.file}, "--groups: %v", err)
			continue
		}
		var names []string
		found := false
		for _, g := range a.groups {
			names = append(names, g.name)
			found = found || glob(p, g.name)
		}
		if !found {
			a.errorf(where{file: a.file}, "--groups: %s", unknownName("Ansible group", p, names, "the inventory"))
		}
	}
	return func(g *ansibleGroup, spansAll bool) (bool, bool) {
		v := own(g)
		if val, ok := v[varIllicoGroup]; ok && val.kind != kindNull {
			b, ok := ansibleBool(val)
			if !ok {
				a.errorf(val.at, "%s of group %s is %q; it is true or false", varIllicoGroup, g.name, val.text)
			}
			return b, false
		}
		for _, name := range []string{varMaxUnavailable, varMinAvailable, varComponent} {
			if val, ok := v[name]; ok && val.kind != kindNull {
				return true, false
			}
		}
		if explicit {
			return slices.ContainsFunc(patterns, func(p string) bool { return glob(p, g.name) }), false
		}
		return !spansAll, spansAll
	}
}

// listNames writes "group a holds" or "groups a, b and 3 more hold".
func listNames(names []string, one, many, verbOne, verbMany string) string {
	const shown = 8
	if len(names) == 1 {
		return one + names[0] + verbOne
	}
	list := strings.Join(names[:min(len(names), shown)], ", ")
	if len(names) > shown {
		list += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return many + list + verbMany
}

// datacenterGroups maps the groups that stand for datacenters to their
// datacenter: those named prefix+NAME, but for a group that holds such
// groups (datacenters over datacenter_gra and datacenter_rbx), which is a
// group of datacenters. A note says what the prefix matched, since a
// prefix one character short matches more than meant.
func (a *ansible) datacenterGroups(prefix string) map[*ansibleGroup]string {
	out := map[*ansibleGroup]string{}
	if prefix == "" {
		return out
	}
	var matched []*ansibleGroup
	for _, g := range a.groups {
		if g.name != "all" && g.name != "ungrouped" && strings.HasPrefix(g.name, prefix) && len(g.name) > len(prefix) {
			matched = append(matched, g)
		}
	}
	var said []string
	first := map[byte]bool{} // the first characters of the datacenter names
	for _, g := range matched {
		var held []string
		for _, c := range matched {
			if g.isAncestorOf(c) {
				held = append(held, c.name)
			}
		}
		if len(held) > 0 {
			a.notef(g.at, "group %s matches --datacenter-group-prefix %s but holds the datacenter groups %s: it is read as a group of datacenters, not as datacenter %q", g.name, prefix, strings.Join(held, ", "), g.name[len(prefix):])
			continue
		}
		name := g.name[len(prefix):]
		out[g] = name
		first[name[0]] = true
		said = append(said, g.name+" is datacenter "+name)
	}
	if len(said) == 0 {
		return out
	}
	msg := fmt.Sprintf("--datacenter-group-prefix %s: %s", prefix, strings.Join(said, ", "))
	for _, sep := range []byte("_-.") {
		if len(first) == 1 && first[sep] {
			msg += fmt.Sprintf(" (did you mean --datacenter-group-prefix %s%c?)", prefix, sep)
		}
	}
	a.notef(where{file: a.file}, "%s", msg)
	return out
}

// hostAddress is the address illico dials for h: its ansible_host, else its
// name. Ansible hands ansible_host to ssh as it is, so brackets or a port
// in it make a name ssh cannot resolve; illico says so rather than
// guessing what was meant.
func (a *ansible) hostAddress(h *ansibleHost, v vars, owner string) (string, bool) {
	name := ""
	for _, n := range varHost {
		if val, ok := v[n]; ok && val.kind != kindNull {
			name = n
			if val.kind == kindList && net.ParseIP(val.text) != nil {
				a.errorf(val.at, "%s of host %s is a list: unquoted, [%s] is YAML for a list that holds the address; write the address without brackets (%s: %s)", name, h.name, val.text, name, val.text)
				return "", false
			}
			break
		}
	}
	t, at, ok := a.text(v, owner, varHost...)
	if !ok {
		if at.file != "" {
			return "", false // said
		}
		host, port, err := splitAddress(h.name)
		if err != nil || port != 0 {
			a.errorf(h.at, "host %s: address %q is not a host name or IP address", h.name, h.name)
			return "", false
		}
		return host, true
	}
	if inner, ok := strings.CutPrefix(t, "["); ok && strings.HasSuffix(inner, "]") && net.ParseIP(inner[:len(inner)-1]) != nil {
		addr := inner[:len(inner)-1]
		a.errorf(at, "%s of host %s is %s: Ansible hands it to ssh brackets and all, and ssh cannot resolve that name; write the address without brackets (%s)", name, h.name, t, addr)
		return "", false
	}
	host, port, err := splitAddress(t)
	switch {
	case err != nil:
		a.errorf(at, "%s of host %s: %q is not a host name or IP address", name, h.name, t)
		return "", false
	case port != 0:
		a.errorf(at, "%s of host %s is %s, with a port: Ansible hands it to ssh as a host name, which ssh cannot resolve; give the address alone (%s) and the port in ansible_port", name, h.name, t, host)
		return "", false
	}
	return host, true
}

// illicoGroup maps an Ansible group that holds members to an illico group, its
// budget and component coming from the illico_* variables.
func (a *ansible) illicoGroup(g *ansibleGroup, members []string) *fleet.Group {
	v := a.groupVars(g)
	owner := "group " + g.name
	fg := &fleet.Group{Name: g.name, Members: members}
	maxT, maxAt, hasMax := a.text(v, owner, varMaxUnavailable)
	minT, minAt, hasMin := a.text(v, owner, varMinAvailable)
	switch {
	case hasMax && hasMin:
		a.errorf(minAt, "group %s has both %s (%s) and %s; keep one", g.name, varMaxUnavailable, maxT, varMinAvailable)
	case hasMax:
		q, err := fleet.ParseQuantity(maxT)
		if err != nil {
			a.errorf(maxAt, "%s of group %s: %v", varMaxUnavailable, g.name, err)
		}
		fg.Budget.MaxUnavailable = &q
	case hasMin:
		q, err := fleet.ParseQuantity(minT)
		switch {
		case err != nil:
			a.errorf(minAt, "%s of group %s: %v", varMinAvailable, g.name, err)
		case !q.Percent && q.N > len(members):
			a.errorf(minAt, "%s %d of group %s is more than its %s: the budget could never be met", varMinAvailable, q.N, g.name, plural(len(members), "member"))
		}
		fg.Budget.MinAvailable = &q
	default:
		fg.Budget = defaultBudget()
	}
	if t, _, ok := a.text(v, owner, varComponent); ok {
		fg.Component = strings.TrimSpace(t)
	}
	if t, _, ok := a.text(v, owner, varComponentGroup); ok && fg.Component != "" {
		fg.ComponentGroup = strings.TrimSpace(t)
	}
	return fg
}

func noDatacenterMessage(hosts []string, total int, opts AnsibleOptions) string {
	const shown = 10
	list := strings.Join(hosts[:min(len(hosts), shown)], ", ")
	if len(hosts) > shown {
		list += fmt.Sprintf(" and %d more", len(hosts)-shown)
	}
	how := "tell illico where to find it with --datacenter-var VAR (a host or group variable that names the datacenter) or --datacenter-group-prefix PREFIX (groups named PREFIX+NAME hold the hosts of datacenter NAME), or put them all in one with --datacenter NAME"
	switch {
	case opts.DatacenterVar != "" && opts.DatacenterGroupPrefix != "":
		how = fmt.Sprintf("set %s for them, or put them in a group named %sNAME", opts.DatacenterVar, opts.DatacenterGroupPrefix)
	case opts.DatacenterVar != "":
		how = fmt.Sprintf("set %s for them (on the hosts or a group of theirs), or use --datacenter-group-prefix PREFIX if groups stand for datacenters", opts.DatacenterVar)
	case opts.DatacenterGroupPrefix != "":
		how = fmt.Sprintf("put them in a group named %sNAME, or use --datacenter-var VAR if a variable names the datacenter", opts.DatacenterGroupPrefix)
	}
	if len(hosts) == total {
		return fmt.Sprintf("no host has a datacenter (%s): %s", list, how)
	}
	verb := "have"
	if len(hosts) == 1 {
		verb = "has"
	}
	return fmt.Sprintf("%s of %d %s no datacenter (%s): %s", plural(len(hosts), "host"), total, verb, list, how)
}

// absPath makes a path given on the command line or in a variable
// absolute: ~/ is the home directory, a relative path is relative to the
// working directory, as for Ansible.
func absPath(p, home string) (string, error) {
	abs, err := resolvePath(p, "", home)
	if err != nil {
		return "", err
	}
	return filepath.Abs(abs)
}

// flagPath is absPath for a flag, reporting what is wrong with it.
func (a *ansible) flagPath(flag, p, home string) string {
	abs, err := absPath(p, home)
	if err != nil {
		a.errorf(where{file: a.file}, "%s: %v", flag, err)
	}
	return abs
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sshConnection reports whether an ansible_connection reaches the host over
// SSH: ssh and paramiko, under their short and collection names, and smart,
// which picks between them.
func sshConnection(conn string) bool {
	name := conn
	for _, prefix := range []string{"ansible.builtin.", "ansible.legacy."} {
		name = strings.TrimPrefix(name, prefix)
	}
	switch name {
	case "ssh", "paramiko", "paramiko_ssh", "smart":
		return true
	}
	return false
}
