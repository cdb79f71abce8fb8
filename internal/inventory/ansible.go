package inventory

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// AnsibleOptions say how to read what an Ansible inventory does not say in
// illico's terms: where each host stands, and how to reach it.
type AnsibleOptions struct {
	// DatacenterVar is a host variable (or one inherited from a group) that
	// names the host's datacenter.
	DatacenterVar string
	// SiteVar is a variable that names the site of the host's datacenter.
	SiteVar string
	// DatacenterGroupPrefix marks the groups that stand for datacenters: a
	// host in group PREFIX+NAME is in datacenter NAME. Such groups do not
	// become illico groups.
	DatacenterGroupPrefix string
	// KnownHosts is the known_hosts file every host is checked against;
	// empty means ~/.ssh/known_hosts.
	KnownHosts string
	// IdentityFiles are offered to every host, after the host's own
	// ansible_ssh_private_key_file. Without any, hosts use the SSH agent.
	IdentityFiles []string
	// Home is what ~/ stands for in paths.
	Home string
	// Groups are glob patterns of the Ansible groups that are redundancy
	// groups, with a disruption budget; the other groups become labels on
	// their hosts. Without them, see chooser for the default.
	Groups []string
	// Datacenter is the datacenter of the hosts that neither DatacenterVar
	// nor DatacenterGroupPrefix place: the one datacenter of a fleet that
	// Ansible does not say where it stands.
	Datacenter string
}

// The Ansible variables illico reads.
const (
	varMaxUnavailable = "illico_max_unavailable"
	varMinAvailable   = "illico_min_available"
	varComponent      = "illico_component"
	varComponentGroup = "illico_component_group"
	varGroupPriority  = "ansible_group_priority"
	varConnection     = "ansible_connection"
	varIllicoGroup    = "illico_group"
)

var (
	varHost    = []string{"ansible_host", "ansible_ssh_host"}
	varPort    = []string{"ansible_port", "ansible_ssh_port"}
	varUser    = []string{"ansible_user", "ansible_ssh_user"}
	varKeyFile = []string{"ansible_ssh_private_key_file", "ansible_private_key_file"}
)

// maxRangeHosts bounds what one host range may expand to, so that a typo
// like web[1:99999999] fails instead of filling the memory.
const maxRangeHosts = 100_000

// ImportAnsible reads an Ansible inventory, INI or YAML (told apart by the
// file's extension, else its content), with the group_vars/ and host_vars/
// directories next to file when they exist, and returns the illico
// inventory it describes. Variables are resolved with Ansible's precedence.
// What cannot be mapped (a host without a datacenter, a name illico does not
// accept) comes back as yamlx.Problems. The notes say what the import left
// out or decided that the operator should know (a host reached otherwise
// than over SSH, a vault-encrypted file), whether it succeeded or not.
func ImportAnsible(file string, data []byte, opts AnsibleOptions) (*fleet.Inventory, []yamlx.Problem, error) {
	a := readAnsible(file, data)
	if len(a.problems) > 0 {
		return nil, sortProblems(a.notes), sortProblems(a.problems)
	}
	inv := a.convert(opts)
	if len(a.problems) > 0 {
		return nil, sortProblems(a.notes), sortProblems(a.problems)
	}
	if err := recheck(inv, opts.Home); err != nil {
		return nil, sortProblems(a.notes), err
	}
	return inv, sortProblems(a.notes), nil
}

// readAnsible reads the inventory and its variable directories, as Ansible
// would before running anything.
func readAnsible(file string, data []byte) *ansible {
	a := newAnsible(file)
	if bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT")) {
		a.errorf(where{file: file}, "the inventory is encrypted with ansible-vault, which illico cannot read; import a decrypted copy (ansible-vault view %s > FILE)", file)
		return a
	}
	top, isYAML, err := yamlInventory(file, data)
	switch {
	case err != nil:
		a.problems = append(a.problems, syntaxProblem(file, err))
	case isYAML:
		a.parseYAML(top)
	default:
		a.parseINI(data)
	}
	if len(a.problems) > 0 {
		return a
	}
	a.finish()
	a.loadVarDirs(filepath.Dir(file))
	return a
}

// recheck passes the result through Parse, so that an import never writes a
// file that `illico inventory check` would refuse.
func recheck(inv *fleet.Inventory, home string) error {
	data, err := Encode(inv, "")
	if err != nil {
		return err
	}
	if _, err := parse("imported inventory", data, home); err != nil {
		return fmt.Errorf("the imported inventory does not pass inventory check (a bug in illico's import):\n%w", err)
	}
	return nil
}

// where is a position in one of the files an Ansible inventory spans.
type where struct {
	file string
	pos  yamlx.Pos
}

// value is an Ansible variable's value, as far as illico needs it: its
// kind, and the text of a scalar as Python's str() would write it (2222,
// True, 1.5), which is what Ansible hands a connection or a template.
type value struct {
	text  string
	kind  kind
	vault bool // encrypted with ansible-vault
	at    where
}

type vars map[string]value

type ansibleGroup struct {
	name     string
	at       where
	vars     vars // from the inventory file
	fileVars vars // from group_vars/
	parents  []*ansibleGroup
	children []*ansibleGroup
	hosts    []*ansibleHost
	depth    int
}

type ansibleHost struct {
	name     string
	at       where
	vars     vars
	fileVars vars
	groups   []*ansibleGroup // direct memberships
}

type ansible struct {
	file     string
	groups   []*ansibleGroup
	hosts    []*ansibleHost
	byGroup  map[string]*ansibleGroup
	byHost   map[string]*ansibleHost
	problems yamlx.Problems
	notes    []yamlx.Problem
	steps    int // group sections read, bounded
	// reading holds the YAML group bodies being read, to catch an alias
	// that makes a group its own descendant.
	reading map[*yaml.Node]bool
}

func newAnsible(file string) *ansible {
	a := &ansible{file: file, byGroup: map[string]*ansibleGroup{}, byHost: map[string]*ansibleHost{}, reading: map[*yaml.Node]bool{}}
	a.group("all", where{file: file})
	a.group("ungrouped", where{file: file})
	return a
}

// errorf records a problem, once: an alias can bring the same text back.
func (a *ansible) errorf(at where, format string, args ...any) {
	p := yamlx.Problem{File: at.file, Pos: at.pos, Msg: fmt.Sprintf(format, args...)}
	if !slices.Contains(a.problems, p) {
		a.problems = append(a.problems, p)
	}
}

// notef records a note, once.
func (a *ansible) notef(at where, format string, args ...any) {
	p := yamlx.Problem{File: at.file, Pos: at.pos, Msg: fmt.Sprintf(format, args...)}
	if !slices.Contains(a.notes, p) {
		a.notes = append(a.notes, p)
	}
}

// sortProblems puts problems or notes in file order.
func sortProblems(ps []yamlx.Problem) yamlx.Problems {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(x, y yamlx.Problem) int {
		return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Pos.Line, y.Pos.Line), cmp.Compare(x.Pos.Col, y.Pos.Col))
	})
	return ps
}

func (a *ansible) group(name string, at where) *ansibleGroup {
	if g, ok := a.byGroup[name]; ok {
		return g
	}
	g := &ansibleGroup{name: name, at: at, vars: vars{}, fileVars: vars{}}
	a.byGroup[name] = g
	a.groups = append(a.groups, g)
	return g
}

func (a *ansible) host(name string, at where) *ansibleHost {
	if h, ok := a.byHost[name]; ok {
		return h
	}
	h := &ansibleHost{name: name, at: at, vars: vars{}, fileVars: vars{}}
	a.byHost[name] = h
	a.hosts = append(a.hosts, h)
	return h
}

// addHosts puts the hosts a pattern stands for into g with their variables.
// A port in the pattern is the host's ansible_port, as Ansible has it.
func (a *ansible) addHosts(g *ansibleGroup, pattern string, at where, hostVars vars) {
	names, port, err := expandHostPattern(pattern)
	if err != nil {
		a.errorf(at, "host pattern %q: %v", pattern, err)
		return
	}
	for _, name := range names {
		_, existed := a.byHost[name]
		h := a.host(name, at)
		if !existed && port != "" {
			h.vars["ansible_port"] = value{text: port, kind: kindInt, at: at}
		}
		if !slices.Contains(h.groups, g) {
			h.groups = append(h.groups, g)
			g.hosts = append(g.hosts, h)
		}
		for k, v := range hostVars {
			h.vars[k] = v
		}
	}
}

// addChild makes child a child of parent, refusing cycles.
func (a *ansible) addChild(parent, child *ansibleGroup, at where) {
	if parent == child || child.isAncestorOf(parent) {
		a.errorf(at, "group %s cannot be a child of %s: %s is already among its children", child.name, parent.name, parent.name)
		return
	}
	if !slices.Contains(parent.children, child) {
		parent.children = append(parent.children, child)
		child.parents = append(child.parents, parent)
	}
}

func (g *ansibleGroup) isAncestorOf(other *ansibleGroup) bool {
	for _, p := range other.parents {
		if p == g || g.isAncestorOf(p) {
			return true
		}
	}
	return false
}

// finish does what Ansible does once a source is read: groups without a
// parent are children of all, hosts in no group are in ungrouped, and
// every group gets its depth (the longest path from all), by which the
// variables of nested groups are ordered.
func (a *ansible) finish() {
	all, ungrouped := a.byGroup["all"], a.byGroup["ungrouped"]
	for _, g := range a.groups {
		if g != all && len(g.parents) == 0 {
			a.addChild(all, g, g.at)
		}
	}
	for _, h := range a.hosts {
		grouped := slices.ContainsFunc(h.groups, func(g *ansibleGroup) bool { return g != all && g != ungrouped })
		in := slices.Contains(h.groups, ungrouped)
		switch {
		case grouped && in: // listed before any section, then in a group
			h.groups = slices.DeleteFunc(h.groups, func(g *ansibleGroup) bool { return g == ungrouped })
			ungrouped.hosts = slices.DeleteFunc(ungrouped.hosts, func(x *ansibleHost) bool { return x == h })
		case !grouped && !in:
			h.groups = append(h.groups, ungrouped)
			ungrouped.hosts = append(ungrouped.hosts, h)
		}
	}
	var deepen func(g *ansibleGroup, depth int)
	deepen = func(g *ansibleGroup, depth int) {
		if depth <= g.depth && g != all {
			return
		}
		g.depth = depth
		for _, c := range g.children {
			deepen(c, depth+1)
		}
	}
	deepen(all, 0)
}

// ancestors lists the groups g sits in, itself excluded, through any
// number of children sections.
func (g *ansibleGroup) ancestors(into []*ansibleGroup) []*ansibleGroup {
	for _, p := range g.parents {
		if !slices.Contains(into, p) {
			into = p.ancestors(append(into, p))
		}
	}
	return into
}

// groupsOf is every group h is in, directly or through children.
func (h *ansibleHost) groupsOf() []*ansibleGroup {
	var out []*ansibleGroup
	for _, g := range h.groups {
		if !slices.Contains(out, g) {
			out = g.ancestors(append(out, g))
		}
	}
	return out
}

// priority is ansible_group_priority, 1 by default.
func (g *ansibleGroup) priority() int {
	if v, ok := g.vars[varGroupPriority]; ok {
		if n, err := strconv.Atoi(v.text); err == nil {
			return n
		}
	}
	return 1
}

// resolve merges variables as Ansible does: the inventory file's group
// variables (all first, then by depth, priority and name), then those of
// group_vars/ in the same order, then the host's own from the file and from
// host_vars/.
func resolve(groups []*ansibleGroup, own ...vars) vars {
	var all *ansibleGroup
	var rest []*ansibleGroup
	for _, g := range groups {
		if g.name == "all" {
			all = g
		} else {
			rest = append(rest, g)
		}
	}
	slices.SortStableFunc(rest, func(x, y *ansibleGroup) int {
		return cmp.Or(cmp.Compare(x.depth, y.depth), cmp.Compare(x.priority(), y.priority()), cmp.Compare(x.name, y.name))
	})
	out := vars{}
	merge := func(v vars) {
		for k, val := range v {
			out[k] = val
		}
	}
	if all != nil {
		merge(all.vars)
	}
	for _, g := range rest {
		merge(g.vars)
	}
	if all != nil {
		merge(all.fileVars)
	}
	for _, g := range rest {
		merge(g.fileVars)
	}
	for _, v := range own {
		merge(v)
	}
	return out
}

func (a *ansible) hostVars(h *ansibleHost) vars {
	return resolve(h.groupsOf(), h.vars, h.fileVars)
}

func (a *ansible) groupVars(g *ansibleGroup) vars {
	return resolve(append(g.ancestors(nil), g))
}

// text returns the first of names that vars set, as text.
func (a *ansible) text(v vars, owner string, names ...string) (string, where, bool) {
	for _, name := range names {
		val, ok := v[name]
		if !ok || val.kind == kindNull {
			continue
		}
		switch {
		case val.vault:
			a.errorf(val.at, "%s of %s is encrypted with ansible-vault, which illico cannot read", name, owner)
		case val.kind == kindList || val.kind == kindMap:
			a.errorf(val.at, "%s of %s is a list or a mapping; illico needs a single value", name, owner)
		case strings.Contains(val.text, "{{"):
			a.errorf(val.at, "%s of %s is a Jinja template (%s), which illico cannot evaluate; give the value itself", name, owner, val.text)
		default:
			return val.text, val.at, true
		}
		return "", val.at, false
	}
	return "", where{}, false
}

// loadVarDirs reads group_vars/ and host_vars/ next to the inventory.
func (a *ansible) loadVarDirs(dir string) {
	for _, g := range a.groups {
		a.loadVars(filepath.Join(dir, "group_vars"), g.name, g.fileVars)
	}
	for _, h := range a.hosts {
		a.loadVars(filepath.Join(dir, "host_vars"), h.name, h.fileVars)
	}
}

// loadVars reads the variables of name from base as Ansible finds them:
// the first of NAME, NAME.yml, NAME.yaml and NAME.json, and a directory
// NAME/ stands for every file in it, in name order.
func (a *ansible) loadVars(base, name string, into vars) {
	if strings.ContainsAny(name, `/\`) {
		return
	}
	for _, ext := range []string{"", ".yml", ".yaml", ".json"} {
		p := filepath.Join(base, name+ext)
		info, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			a.loadVarsFile(p, into)
			return
		}
		for _, f := range varFiles(p) {
			a.loadVarsFile(f, into)
		}
		return
	}
}

func varFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, "~") {
			continue
		}
		ext := filepath.Ext(n)
		p := filepath.Join(dir, n)
		switch {
		case e.IsDir() && ext == "":
			out = append(out, varFiles(p)...)
		case !e.IsDir() && slices.Contains([]string{"", ".yml", ".yaml", ".json"}, ext):
			out = append(out, p)
		}
	}
	return out
}

func (a *ansible) loadVarsFile(p string, into vars) {
	data, err := os.ReadFile(p)
	if err != nil {
		a.errorf(where{file: p}, "cannot read: %v", err)
		return
	}
	if bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT")) {
		// Usually secrets, not topology; but a port or an illico_* variable
		// kept there would be missed, so say which file it is.
		a.notef(where{file: p}, "encrypted with ansible-vault, which illico cannot read: its variables are left out of the import")
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		a.problems = append(a.problems, syntaxProblem(p, err))
		return
	}
	if len(doc.Content) == 0 {
		return
	}
	n := deref(doc.Content[0])
	if isNullNode(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		a.errorf(where{file: p, pos: nodePos(n)}, "expected a mapping of variables, got %s", yamlx.Describe(n))
		return
	}
	a.yamlVars(p, n, into)
}

// expandHostPattern expands Ansible host ranges (web[01:20].example.com,
// db-[a:c], with an optional :step) and splits off a port.
func expandHostPattern(pattern string) (names []string, port string, err error) {
	host, port := splitPatternPort(pattern)
	if port == "" && strings.HasSuffix(strings.TrimSpace(pattern), ":") {
		return nil, "", errors.New("a pattern may not end with ':', which introduces a port")
	}
	if host == "" {
		return nil, "", errors.New("the host name is empty")
	}
	names, err = expandRanges(host, nil)
	return names, port, err
}

// splitPatternPort splits "host:port"; an IPv6 address keeps its colons.
func splitPatternPort(p string) (host, port string) {
	if strings.HasPrefix(p, "[") {
		if end := strings.IndexByte(p, ']'); end > 0 && strings.Count(p[1:end], ":") >= 2 {
			host, rest := p[1:end], p[end+1:]
			if after, ok := strings.CutPrefix(rest, ":"); ok && isDigits(after) {
				return host, after
			}
			return host, ""
		}
	}
	depth, colons, at := 0, 0, -1
	for i, r := range p {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 {
				colons++
				at = i
			}
		}
	}
	if colons == 1 && isDigits(p[at+1:]) {
		return p[:at], p[at+1:]
	}
	return p, ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// expandRanges expands the first [begin:end(:step)] of s, then the rest,
// as Ansible's expand_hostname_range does.
func expandRanges(s string, into []string) ([]string, error) {
	open := strings.IndexByte(s, '[')
	if open < 0 {
		return append(into, s), nil
	}
	closing := strings.IndexByte(s, ']')
	if closing < open {
		return nil, errors.New("a range is written [begin:end] or [begin:end:step]")
	}
	head, spec, tail := s[:open], s[open+1:closing], s[closing+1:]
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, errors.New("a range is written [begin:end] or [begin:end:step]")
	}
	beg, end, step := bounds[0], bounds[1], 1
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, errors.New("the range has no end")
	}
	if len(bounds) == 3 {
		n, err := strconv.Atoi(bounds[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("the step %q of the range is not a whole number above 0", bounds[2])
		}
		step = n
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		width = len(beg)
		if len(end) != width {
			return nil, fmt.Errorf("range [%s]: begin and end must have the same width", spec)
		}
	}
	var items []string
	bi, ei := strings.Index(letters, beg), strings.Index(letters, end)
	if len(beg) == 1 && len(end) == 1 && bi >= 0 && ei >= 0 {
		if bi > ei {
			return nil, fmt.Errorf("range [%s] ends before it begins", spec)
		}
		for i := bi; i <= ei; i += step {
			items = append(items, letters[i:i+1])
		}
	} else {
		b, errB := strconv.Atoi(beg)
		e, errE := strconv.Atoi(end)
		if errB != nil || errE != nil || b < 0 {
			return nil, fmt.Errorf("range [%s] is neither numbers nor single letters", spec)
		}
		if e >= b && (e-b)/step >= maxRangeHosts {
			return nil, fmt.Errorf("range [%s] stands for more than %d hosts", spec, maxRangeHosts)
		}
		for i := b; i <= e; i += step {
			items = append(items, fmt.Sprintf("%0*d", width, i))
		}
	}
	var err error
	for _, it := range items {
		if into, err = expandRanges(head+it+tail, into); err != nil {
			return nil, err
		}
		if len(into) > maxRangeHosts {
			return nil, fmt.Errorf("the pattern stands for more than %d hosts", maxRangeHosts)
		}
	}
	return into, nil
}
