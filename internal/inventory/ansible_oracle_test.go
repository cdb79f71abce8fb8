package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// corpusInventory is an Ansible inventory of the corpus and the options
// it is imported with.
type corpusInventory struct {
	name string // its directory
	file string // the inventory, in the directory
	opts AnsibleOptions
}

// ansibleCorpus is the inventories of testdata/ansible-corpus (each with a
// LICENSE or NOTICE naming where it comes from) and illico's fixtures.
func ansibleCorpus() []corpusInventory {
	corpus := []corpusInventory{
		{"ansible-for-devops", "inventory", AnsibleOptions{Datacenter: "vagrant"}},
		{"ceph-ansible-all-daemons", "hosts", AnsibleOptions{Datacenter: "lab"}},
		{"freifunk-hannover", "hosts", AnsibleOptions{Datacenter: "hannover"}},
		{"illico-crlf-comments", "hosts", AnsibleOptions{DatacenterVar: "datacenter"}},
		{"illico-merge-keys", "inventory.yml", AnsibleOptions{DatacenterVar: "datacenter"}},
		{"k3s-ansible", "inventory.yml", AnsibleOptions{Datacenter: "home"}},
		{"kolla-ansible-multinode", "multinode", AnsibleOptions{Datacenter: "dc1", Groups: []string{"control", "network", "compute", "storage", "monitoring"}}},
		{"openshift-ansible-hosts-example", "hosts.example", AnsibleOptions{Datacenter: "dc1"}},
	}
	for i := range corpus {
		corpus[i].name = filepath.Join("testdata/ansible-corpus", corpus[i].name)
	}
	for _, fx := range ansibleFixtures() {
		corpus = append(corpus, corpusInventory{filepath.Dir(fx.file), filepath.Base(fx.file), fx.opts})
	}
	for i := range corpus {
		corpus[i].opts.KnownHosts = orDefault(corpus[i].opts.KnownHosts, "/etc/illico/known_hosts")
		corpus[i].opts.Home = orDefault(corpus[i].opts.Home, "/home/operator")
	}
	return corpus
}

// TestAnsibleCorpusMatchesAnsible reads every inventory of the corpus with
// the real ansible-inventory, the oracle, and checks that illico reads the
// same hosts, variables and group memberships, and imports every host Ansible
// reaches over SSH with the address, port and user Ansible would use.
func TestAnsibleCorpusMatchesAnsible(t *testing.T) {
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ansible-inventory is not installed (scripts/deps installs ansible-core): %v", err)
		}
		t.Skipf("ansible-inventory is not installed (scripts/deps installs ansible-core), so illico's Ansible import is not checked against Ansible: %v", err)
	}
	corpus := ansibleCorpus()
	var mu sync.Mutex
	rows := map[string]string{}
	t.Run("corpus", func(t *testing.T) {
		for _, c := range corpus {
			t.Run(filepath.Base(c.name), func(t *testing.T) {
				t.Parallel()
				hosts, groups := matchAnsible(t, bin, c)
				row := fmt.Sprintf("%d hosts, %d groups matched", hosts, groups)
				t.Log(row)
				mu.Lock()
				rows[c.name] = row
				mu.Unlock()
			})
		}
	})
	var table strings.Builder
	for _, name := range slices.Sorted(maps.Keys(rows)) {
		fmt.Fprintf(&table, "\n  %-56s %s", name, rows[name])
	}
	t.Logf("ansible-inventory and illico agree on:%s", table.String())
}

// matchAnsible checks one inventory and returns how many hosts and groups
// illico and Ansible agree on.
func matchAnsible(t *testing.T, bin string, c corpusInventory) (hosts, groups int) {
	file := filepath.Join(c.name, c.file)
	want := ansibleList(t, bin, file, filepath.Join(c.name, "vault-password"))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	// What illico reads: the hosts and every host's variables.
	a := readAnsible(file, data)
	if len(a.problems) > 0 {
		t.Fatalf("read:\n%v", a.problems)
	}
	var read []string
	for _, h := range a.hosts {
		read = append(read, h.name)
		got := a.hostVars(h)
		w := want.hostVars[h.name]
		for _, k := range slices.Sorted(maps.Keys(w)) {
			v, ok := got[k]
			switch {
			case !ok && strings.HasPrefix(k, "vault_"):
				// Set in a vault-encrypted file, which illico names in a note.
			case !ok:
				t.Errorf("host %s: illico lacks %s, which Ansible has (%v)", h.name, k, w[k])
			case !sameValue(v, w[k]):
				t.Errorf("host %s: %s is %v %q for illico, %#v for Ansible", h.name, k, v.kind, v.text, w[k])
			}
		}
		for k, v := range got {
			if _, ok := w[k]; !ok {
				t.Errorf("host %s: illico has %s (%q), which Ansible has not", h.name, k, v.text)
			}
		}
	}
	if !sameSet(read, slices.Collect(maps.Keys(want.hostVars))) {
		t.Errorf("hosts: illico reads %v, Ansible %v", read, slices.Sorted(maps.Keys(want.hostVars)))
	}

	// What illico imports: the hosts Ansible reaches over SSH, as it does.
	inv, _, err := ImportAnsible(file, data, c.opts)
	if err != nil {
		t.Fatalf("import:\n%v", err)
	}
	var reached []string
	for _, name := range slices.Sorted(maps.Keys(want.hostVars)) {
		vars := want.hostVars[name]
		conn, _ := first(vars, "ansible_connection").(string)
		if !slices.Contains([]string{"", "ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh"}, conn) {
			continue
		}
		reached = append(reached, name)
		h := inv.Host(name)
		if h == nil {
			t.Errorf("host %s: not imported, but Ansible reaches it over %s", name, orDefault(conn, "ssh"))
			continue
		}
		address, port, user := name, "22", "root"
		if v, ok := first(vars, "ansible_host", "ansible_ssh_host").(string); ok {
			address = v
		}
		if v := first(vars, "ansible_port", "ansible_ssh_port"); v != nil {
			port = fmt.Sprint(v)
		}
		if v, ok := first(vars, "ansible_user", "ansible_ssh_user").(string); ok {
			user = v
		}
		if h.Address != address || strconv.Itoa(h.SSH.Port) != port || h.SSH.User != user {
			t.Errorf("host %s: illico reaches %s@%s:%d, Ansible %s@%s:%s", name, h.SSH.User, h.Address, h.SSH.Port, user, address, port)
			continue
		}
		hosts++
	}
	if len(inv.Hosts) != len(reached) {
		t.Errorf("illico imports %d hosts, Ansible reaches %d over SSH", len(inv.Hosts), len(reached))
	}

	// Every Ansible group, as an illico group, a label or a datacenter.
	for _, g := range inv.Groups {
		if _, ok := want.groups[g.Name]; !ok {
			t.Errorf("illico has group %s, which Ansible has not", g.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want.groups)) {
		if name == "all" || name == "ungrouped" {
			continue
		}
		var members []string
		for _, m := range want.members(name) {
			if inv.Host(m) != nil {
				members = append(members, m)
			}
		}
		if len(members) == 0 {
			continue // illico has no use for a group without hosts it imports
		}
		got, as := illicoMembers(inv, name, c.opts.DatacenterGroupPrefix)
		if as == "topology" {
			// A group of datacenter groups: its hosts are those of its
			// datacenters.
			got = nil
			for _, h := range inv.Hosts {
				if slices.Contains(want.groups[name].Children, c.opts.DatacenterGroupPrefix+h.Datacenter) {
					got = append(got, h.Name)
				}
			}
		}
		if !sameSet(got, members) {
			t.Errorf("group %s: illico's %s holds %v, Ansible's %v", name, as, got, members)
			continue
		}
		groups++
	}
	return hosts, groups
}

// illicoMembers is what stands for Ansible group name in the import: an
// illico group, the label it leaves, or a datacenter.
func illicoMembers(inv *fleet.Inventory, name, dcPrefix string) ([]string, string) {
	if g := inv.Group(name); g != nil {
		return g.Members, "group"
	}
	var labelled, inDC []string
	for _, h := range inv.Hosts {
		if h.Labels[groupLabel+name] == "true" {
			labelled = append(labelled, h.Name)
		}
		if dcPrefix != "" && dcPrefix+h.Datacenter == name {
			inDC = append(inDC, h.Name)
		}
	}
	switch {
	case len(labelled) > 0:
		return labelled, "label"
	case len(inDC) > 0:
		return inDC, "datacenter"
	case dcPrefix != "":
		return nil, "topology"
	}
	return nil, "nothing"
}

// first is the value of the first of names that vars set.
func first(vars map[string]any, names ...string) any {
	for _, n := range names {
		if v, ok := vars[n]; ok && v != nil {
			return v
		}
	}
	return nil
}

// sameValue compares what illico reads with what ansible-inventory prints,
// which is Python's json.dumps of the value: the same text for strings,
// integers and floats, true for True.
func sameValue(got value, want any) bool {
	if got.vault {
		return true // illico keeps it encrypted; Ansible, given the password, does not
	}
	switch w := want.(type) {
	case nil:
		return got.kind == kindNull
	case bool:
		return got.kind == kindBool && got.text == map[bool]string{true: "True", false: "False"}[w]
	case json.Number:
		return (got.kind == kindInt || got.kind == kindFloat) && got.text == w.String()
	case string:
		return got.kind == kindText && got.text == w
	case []any:
		return got.kind == kindList
	case map[string]any:
		return got.kind == kindMap
	}
	return false
}

type ansibleView struct {
	hostVars map[string]map[string]any
	groups   map[string]struct{ Hosts, Children []string }
}

// members is every host of group, through its children.
func (v ansibleView) members(group string) []string {
	var out []string
	var walk func(g string, seen map[string]bool)
	walk = func(g string, seen map[string]bool) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, h := range v.groups[g].Hosts {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
		for _, c := range v.groups[g].Children {
			walk(c, seen)
		}
	}
	walk(group, map[string]bool{})
	return out
}

// ansibleList runs ansible-inventory --list on file, with a home and no
// configuration of its own, and the vault password file when there is one.
func ansibleList(t *testing.T, bin, file, vaultPassword string) ansibleView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	args := []string{"-i", file, "--list"}
	if _, err := os.Stat(vaultPassword); err == nil {
		args = append(args, "--vault-password-file", vaultPassword)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "tmp"),
		"ANSIBLE_CONFIG="+filepath.Join(home, "none.cfg"), "ANSIBLE_INVENTORY_UNPARSED_FAILED=true", "ANSIBLE_NOCOLOR=1")
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("ansible-inventory: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("ansible-inventory: %v", err)
	}
	t.Logf("ansible-inventory -i %s --list: %v", file, time.Since(start).Round(10*time.Millisecond))
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("ansible-inventory output: %v\n%s", err, out)
	}
	var meta struct {
		HostVars map[string]map[string]any `json:"hostvars"`
	}
	dec = json.NewDecoder(bytes.NewReader(raw["_meta"]))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		t.Fatal(err)
	}
	res := ansibleView{hostVars: meta.HostVars, groups: map[string]struct{ Hosts, Children []string }{}}
	if res.hostVars == nil {
		res.hostVars = map[string]map[string]any{}
	}
	for name, body := range raw {
		if name == "_meta" {
			continue
		}
		var g struct{ Hosts, Children []string }
		if err := json.Unmarshal(body, &g); err != nil {
			t.Fatal(err)
		}
		res.groups[name] = g
		// ansible-inventory leaves the hosts without variables out of hostvars.
		for _, h := range g.Hosts {
			if res.hostVars[h] == nil {
				res.hostVars[h] = map[string]any{}
			}
		}
	}
	return res
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
