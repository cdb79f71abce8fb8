package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/illico-dev/illico/internal/yamlx"
)

// ansibleFixture is an Ansible inventory and the options it is imported
// with.
type ansibleFixture struct {
	file string
	opts AnsibleOptions
}

func ansibleFixtures() []ansibleFixture {
	return []ansibleFixture{
		{"testdata/ansible/ini/hosts", AnsibleOptions{
			DatacenterGroupPrefix: "dc_", SiteVar: "site",
			KnownHosts: "/etc/illico/known_hosts", IdentityFiles: []string{"/etc/illico/id_ed25519"},
		}},
		{"testdata/ansible/yaml/inventory.yml", AnsibleOptions{
			DatacenterVar: "datacenter", SiteVar: "site", Home: "/home/operator",
		}},
	}
}

func importFile(t testing.TB, file string, opts AnsibleOptions) ([]byte, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := ImportAnsible(file, data, opts)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	return Encode(inv, dir)
}

func TestImportAnsibleFixtures(t *testing.T) {
	for _, fx := range ansibleFixtures() {
		t.Run(fx.file, func(t *testing.T) {
			got, err := importFile(t, fx.file, fx.opts)
			if err != nil {
				t.Fatalf("import:\n%v", err)
			}
			want, err := os.ReadFile(filepath.Join(filepath.Dir(fx.file), "expected.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("imported inventory:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestAnsiblePrecedence(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hosts", `
[parent:children]
child

[child]
h1 v=host
h2
h3

[parent]
h3

[child:vars]
v=child

[parent:vars]
v=parent
w=parent

[all:vars]
v=all
w=all
x=all
`)
	write(t, dir, "group_vars/all.yml", "x: group_vars-all\n")
	write(t, dir, "host_vars/h2.yml", "v: host_vars\n")
	data, err := os.ReadFile(filepath.Join(dir, "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	a := readAnsible(filepath.Join(dir, "hosts"), data)
	if len(a.problems) > 0 {
		t.Fatal(a.problems)
	}
	tests := []struct{ host, v, w, x string }{
		{"h1", "host", "parent", "group_vars-all"},
		{"h2", "host_vars", "parent", "group_vars-all"},
		{"h3", "child", "parent", "group_vars-all"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			v := a.hostVars(a.byHost[tt.host])
			if v["v"].text != tt.v || v["w"].text != tt.w || v["x"].text != tt.x {
				t.Errorf("v=%s w=%s x=%s, want v=%s w=%s x=%s", v["v"].text, v["w"].text, v["x"].text, tt.v, tt.w, tt.x)
			}
		})
	}
}

func write(t testing.TB, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExpandHostPattern(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
		port    string
		err     string
	}{
		{pattern: "web.example.com", want: "web.example.com"},
		{pattern: "web.example.com:2222", want: "web.example.com", port: "2222"},
		{pattern: "web[01:03].example.com", want: "web01.example.com web02.example.com web03.example.com"},
		{pattern: "web[1:3]", want: "web1 web2 web3"},
		{pattern: "web[:2]", want: "web0 web1 web2"},
		{pattern: "web[01:10:4]", want: "web01 web05 web09"},
		{pattern: "db-[a:c]", want: "db-a db-b db-c"},
		{pattern: "db-[y:B]", want: "db-y db-z db-A db-B"},
		{pattern: "r[1:2]-h[a:b]:22", want: "r1-ha r1-hb r2-ha r2-hb", port: "22"},
		{pattern: "10.0.0.[1:3]", want: "10.0.0.1 10.0.0.2 10.0.0.3"},
		{pattern: "2001:db8::1", want: "2001:db8::1"},
		{pattern: "[2001:db8::1]:2222", want: "2001:db8::1", port: "2222"},
		{pattern: "web[01:3]", err: "range [01:3]: begin and end must have the same width"},
		{pattern: "web[1:]", err: "the range has no end"},
		{pattern: "web[1:2:0]", err: `the step "0" of the range is not a whole number above 0`},
		{pattern: "web[3:1]x", want: ""},
		{pattern: "web[c:a]", err: "range [c:a] ends before it begins"},
		{pattern: "web[1]", err: "a range is written [begin:end] or [begin:end:step]"},
		{pattern: "web[1:2", err: "a range is written [begin:end] or [begin:end:step]"},
		{pattern: "web[x:10]", err: "range [x:10] is neither numbers nor single letters"},
		{pattern: "web[0:99999999]", err: "range [0:99999999] stands for more than 100000 hosts"},
		{pattern: "web:", err: "a pattern may not end with ':', which introduces a port"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			names, port, err := expandHostPattern(tt.pattern)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names, " "); got != tt.want || port != tt.port {
				t.Errorf("got %q port %q, want %q port %q", got, port, tt.want, tt.port)
			}
		})
	}
}

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  string
	}{
		{line: `h a=1 b=2`, want: []string{"h", "a=1", "b=2"}},
		{line: `h a="x y" b='p q'`, want: []string{"h", "a=x y", "b=p q"}},
		{line: `h a=x\ y`, want: []string{"h", "a=x y"}},
		{line: `h a="say \"hi\"" b="c:\d"`, want: []string{"h", `a=say "hi"`, `b=c:\d`}},
		{line: `h a=1 # comment b=2`, want: []string{"h", "a=1"}},
		{line: `h a=1#2`, want: []string{"h", "a=1"}},
		{line: `h a="1#2"`, want: []string{"h", "a=1#2"}},
		{line: `h a=''`, want: []string{"h", "a="}},
		{line: `h a="x`, err: `a " quote is not closed`},
		{line: `h a=x\`, err: "a backslash ends the line"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			tokens, err := shlexSplit(tt.line)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tok := range tokens {
				got = append(got, tok.text)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImportAnsibleProblems(t *testing.T) {
	dcVar := AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"}
	tests := []struct {
		name string
		file string // inventory file name
		text string
		opts AnsibleOptions
		want string // the problems, one a line
	}{
		{
			name: "no datacenter option",
			text: "a\nb\n",
			opts: AnsibleOptions{KnownHosts: "/k"},
			want: "hosts: no host has a datacenter (a, b): tell illico where to find it with --datacenter-var VAR (a host or group variable that names the datacenter) or --datacenter-group-prefix PREFIX (groups named PREFIX+NAME hold the hosts of datacenter NAME), or put them all in one with --datacenter NAME",
		},
		{
			name: "some hosts without datacenter",
			text: "a dc=gra\nb\n",
			opts: dcVar,
			want: "hosts: 1 host of 2 has no datacenter (b): set dc for them (on the hosts or a group of theirs), or use --datacenter-group-prefix PREFIX if groups stand for datacenters",
		},
		{
			name: "syntax",
			text: "[web]\nweb[01:3] a=1\nweb4 novalue\nweb5 a=\"x\n[web:child]\nx\n[ web ]\n",
			opts: dcVar,
			want: `hosts:2:1: host pattern "web[01:3]": range [01:3]: begin and end must have the same width
hosts:3:6: expected key=value after host web4, got "novalue"
hosts:4:1: host line "web5 a=\"x": a " quote is not closed
hosts:5:1: section [web:child] has an unknown type "child": use [web], [web:children] or [web:vars]
hosts:7:1: invalid section [ web ]: a section is [NAME], [NAME:children] or [NAME:vars], without spaces`,
		},
		{
			name: "undeclared groups",
			text: "[app:vars]\nx=1\n[web:children]\napi\n[web]\nw1\n",
			opts: dcVar,
			want: `hosts:1:1: [app:vars] is for a group that is never declared (with [app] or [app:children])
hosts:4:1: child group api is never declared (with [api] or [api:children])`,
		},
		{
			name: "cycle",
			text: "[a:children]\nb\n[b:children]\na\n",
			opts: dcVar,
			want: "hosts:4:1: group a cannot be a child of b: b is already among its children",
		},
		{
			name: "bad values",
			text: "[web]\nw1 dc=gra ansible_port=ssh\nw2 dc=gra ansible_host=\"{{ lookup('x') }}\"\nw3 dc=\"[1, 2]\"\n" +
				"[web:vars]\nillico_max_unavailable=lots\n[db]\nd1 dc=gra\n[db:vars]\nillico_max_unavailable=1\nillico_min_available=5\n",
			opts: dcVar,
			want: `hosts: 1 host of 4 has no datacenter (w3): set dc for them (on the hosts or a group of theirs), or use --datacenter-group-prefix PREFIX if groups stand for datacenters
hosts:2:24: ansible_port of host w1: port "ssh" is not a TCP port (1-65535)
hosts:3:24: ansible_host of host w2 is a Jinja template ({{ lookup('x') }}), which illico cannot evaluate; give the value itself
hosts:4:7: dc of host w3 is a list or a mapping; illico needs a single value
hosts:6:24: illico_max_unavailable of group web: "lots" is not a count or a percentage (like 2 or 25%)
hosts:11:22: group db has both illico_max_unavailable (1) and illico_min_available; keep one`,
		},
		{
			name: "names and duplicates",
			text: "[web*]\nw1 dc=gra\nw2 dc=gra ansible_host=w1\n[db]\ndb dc=gra\nbad/host dc=gra\n",
			opts: dcVar,
			want: `hosts:1:2: group name "web*" may hold only letters (a-z, A-Z), digits, ".", "_" and "-" in illico; rename the group in the Ansible inventory
hosts:3:1: hosts w1 and w2 both have address w1:22; illico needs one entry per server (drop one, or give each its own ansible_host)
hosts:5:1: host db has the name of a group: in illico a selector could not tell them apart; rename one
hosts:6:1: host name "bad/host" may hold only letters (a-z, A-Z), digits, ".", "_" and "-" in illico; rename the host in the Ansible inventory
hosts:6:1: host bad/host: address "bad/host" is not a host name or IP address`,
		},
		{
			name: "addresses as Ansible hands them to ssh",
			text: "[web]\nw1 dc=gra ansible_host=[2001:db8::10]\nw2 dc=gra ansible_host=2001:db8::11\nw3 dc=gra ansible_host=10.0.0.3:2222\nw4 dc=gra ansible_ssh_host=[2001:db8::14]:2222\nw5 dc=gra ansible_host='a b'\n",
			opts: dcVar,
			want: `hosts:2:24: ansible_host of host w1 is [2001:db8::10]: Ansible hands it to ssh brackets and all, and ssh cannot resolve that name; write the address without brackets (2001:db8::10)
hosts:4:24: ansible_host of host w3 is 10.0.0.3:2222, with a port: Ansible hands it to ssh as a host name, which ssh cannot resolve; give the address alone (10.0.0.3) and the port in ansible_port
hosts:5:28: ansible_ssh_host of host w4 is [2001:db8::14]:2222, with a port: Ansible hands it to ssh as a host name, which ssh cannot resolve; give the address alone (2001:db8::14) and the port in ansible_port
hosts:6:24: ansible_host of host w5: "a b" is not a host name or IP address`,
		},
		{
			name: "yaml addresses",
			file: "inventory.yml",
			text: "all:\n  vars: {dc: gra}\n  hosts:\n    y1: {ansible_host: [2001:db8::20]}\n    y2: {ansible_host: \"[2001:db8::21]\"}\n    y3: {ansible_host: 2001:db8::22}\n",
			opts: dcVar,
			want: `inventory.yml:4:24: ansible_host of host y1 is a list: unquoted, [2001:db8::20] is YAML for a list that holds the address; write the address without brackets (ansible_host: 2001:db8::20)
inventory.yml:5:24: ansible_host of host y2 is [2001:db8::21]: Ansible hands it to ssh brackets and all, and ssh cannot resolve that name; write the address without brackets (2001:db8::21)`,
		},
		{
			name: "datacenter conflicts",
			text: "[dc_gra]\na\nb dc=rbx\nc\n[dc_rbx]\nc\nd\n[site_x]\nd site=x\n[site_y]\ne site=y\n[dc_rbx:children]\nsite_y\n",
			opts: AnsibleOptions{DatacenterVar: "dc", DatacenterGroupPrefix: "dc_", SiteVar: "site", KnownHosts: "/k"},
			want: `hosts:3:6: host b: dc says datacenter rbx, but the host is in group dc_gra
hosts:4:1: host c is in 2 datacenter groups (dc_gra, dc_rbx); a host stands in one datacenter
hosts:11:8: host e puts datacenter rbx on site y, but host d puts it on site x`,
		},
		{
			name: "yaml structure",
			file: "inventory.yml",
			text: "all:\n  host:\n    a:\n  children:\n    web: [a, b]\n    db:\n      hosts:\n        d1: 3\n",
			opts: dcVar,
			want: `inventory.yml:2:3: unknown key "host" in group all: a group has hosts, children and vars (did you mean "hosts"?)
inventory.yml:5:10: group web: expected a mapping with hosts, children and vars, got a list
inventory.yml:8:13: host d1: expected a mapping of variables, got "3"`,
		},
		{
			name: "yaml syntax",
			file: "inventory.yaml",
			text: "all:\n  hosts:\n    a: {\n",
			opts: dcVar,
			want: `inventory.yaml:3: did not find expected node content`,
		},
		{
			name: "alias loop",
			file: "inventory.yml",
			text: "all:\n  children:\n    web: &web\n      children:\n        inner: *web\n",
			opts: dcVar,
			want: `inventory.yml:5:9: group inner contains itself through a YAML alias`,
		},
		{
			name: "not a mapping",
			file: "inventory.yml",
			text: "- a\n- b\n",
			opts: dcVar,
			want: `inventory.yml:1:1: an Ansible YAML inventory is a mapping of groups (usually all:), got a list`,
		},
		{
			name: "vault-encrypted inventory",
			text: "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n",
			opts: dcVar,
			want: `hosts: the inventory is encrypted with ansible-vault, which illico cannot read; import a decrypted copy (ansible-vault view hosts > FILE)`,
		},
		{
			name: "no home for known_hosts",
			text: "a dc=gra\n",
			opts: AnsibleOptions{DatacenterVar: "dc"},
			want: `hosts: --known-hosts: "~/.ssh/known_hosts" starts with ~ but there is no home directory to expand it`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := tt.file
			if name == "" {
				name = "hosts"
			}
			write(t, dir, name, tt.text)
			t.Chdir(dir) // problems name the file as given
			_, _, err := ImportAnsible(name, []byte(tt.text), tt.opts)
			var ps yamlx.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("ImportAnsible returned %v, want problems", err)
			}
			if got := ps.Error(); got != tt.want {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestImportAnsibleVaultAndDirs(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hosts", "[web]\nw1\nw2\n")
	write(t, dir, "group_vars/all/vault", "$ANSIBLE_VAULT;1.1;AES256\n6162636465\n")
	write(t, dir, "group_vars/all/zz.yml", "dc: gra\n")
	write(t, dir, "group_vars/web.yml", "illico_component: Web\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n")
	write(t, dir, "group_vars/web.yaml", "illico_component: ignored, web.yml comes first\n")
	write(t, dir, "host_vars/w2/a.yml", "dc: rbx\n")
	write(t, dir, "host_vars/w2/b~", "dc: backup-file\n")
	file := filepath.Join(dir, "hosts")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inv, notes, err := ImportAnsible(file, data, AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"})
	if err != nil {
		t.Fatal(err)
	}
	wantNote := filepath.Join(dir, "group_vars/all/vault") + ": encrypted with ansible-vault, which illico cannot read: its variables are left out of the import"
	if len(notes) != 1 || notes[0].String() != wantNote {
		t.Errorf("notes = %v\nwant %s", notes, wantNote)
	}
	if got := inv.Group("web").Component; got != "Web" {
		t.Errorf("component = %q", got)
	}
	if a, b := inv.Host("w1").Datacenter, inv.Host("w2").Datacenter; a != "gra" || b != "rbx" {
		t.Errorf("datacenters = %s, %s; want gra, rbx", a, b)
	}
	if !inv.Host("w1").SSH.Agent || len(inv.Host("w1").SSH.IdentityFiles) != 0 {
		t.Errorf("without --identity-file a host uses the agent: %+v", inv.Host("w1").SSH)
	}

	write(t, dir, "group_vars/web.yml", "ansible_host: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n")
	_, _, err = ImportAnsible(file, data, AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"})
	want := filepath.Join(dir, "group_vars/web.yml") + ":1:15: ansible_host of host w1 is encrypted with ansible-vault, which illico cannot read"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func BenchmarkImportAnsibleINI(b *testing.B) {
	var text strings.Builder
	for g := range 200 {
		fmt.Fprintf(&text, "[web%d]\nweb%d-[01:10].example.net dc=dc%d\n[web%d:vars]\nillico_max_unavailable=20%%\n", g, g, g%4, g)
	}
	text.WriteString("[web:children]\n")
	for g := range 200 {
		fmt.Fprintf(&text, "web%d\n", g)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "hosts")
	data := []byte(text.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := ImportAnsible(file, data, AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestImportAnsibleMergeKeys reads merge keys in the inventory and in
// group_vars/ as Ansible does: web1 is 2222/web, not 22/root.
func TestImportAnsibleMergeKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "inventory.yml", `all:
  vars:
    defaults: &ssh {ansible_port: 2222, ansible_user: web, dc: gra}
  children:
    web:
      hosts:
        web1: {<<: *ssh}
        web2:
          <<: [{ansible_user: deploy}, *ssh]
          dc: rbx
    db:
      hosts:
        db1:
`)
	write(t, dir, "group_vars/db.yml", "x-port: &port {ansible_port: 2200, ansible_user: pg, dc: gra}\n<<: *port\nansible_user: postgres\n")
	file := filepath.Join(dir, "inventory.yml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := ImportAnsible(file, data, AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, user, dc string
		port           int
	}{
		{"web1", "web", "gra", 2222},
		{"web2", "deploy", "rbx", 2222},
		{"db1", "postgres", "gra", 2200},
	}
	for _, tt := range tests {
		h := inv.Host(tt.host)
		if h == nil {
			t.Errorf("host %s is missing", tt.host)
			continue
		}
		if h.SSH.User != tt.user || h.SSH.Port != tt.port || h.Datacenter != tt.dc {
			t.Errorf("host %s: %s@:%d in %s, want %s@:%d in %s", tt.host, h.SSH.User, h.SSH.Port, h.Datacenter, tt.user, tt.port, tt.dc)
		}
	}

	write(t, dir, "group_vars/db.yml", "<<: [1]\n")
	_, _, err = ImportAnsible(file, data, AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"})
	want := filepath.Join(dir, "group_vars/db.yml") + `:1:6: a merge key (<<) lists mappings to merge, got "1"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

// TestImportAnsibleConnections leaves out, with a note, the hosts Ansible
// reaches otherwise than over SSH: illico would reboot the wrong machine.
func TestImportAnsibleConnections(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hosts", `[deployment]
localhost ansible_connection=local
[web]
web1
web2 ansible_connection=ssh
web3 ansible_connection=paramiko
web4 ansible_connection=ansible.builtin.ssh
box ansible_connection=community.docker.docker
[windows]
win1
[windows:vars]
ansible_connection=winrm
[all:vars]
dc=gra
`)
	file := filepath.Join(dir, "hosts")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inv, notes, err := ImportAnsible(file, data, AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k"})
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, h := range inv.Hosts {
		hosts = append(hosts, h.Name)
	}
	if got := strings.Join(hosts, " "); got != "web1 web2 web3 web4" {
		t.Errorf("hosts %s, want web1 web2 web3 web4", got)
	}
	if g := inv.Group("web"); g == nil || strings.Join(g.Members, " ") != "web1 web2 web3 web4" || inv.Group("windows") != nil || inv.Group("deployment") != nil {
		t.Errorf("groups: %+v", inv.Groups)
	}
	var got []string
	for _, n := range notes {
		got = append(got, strings.TrimPrefix(n.String(), dir+"/"))
	}
	want := []string{
		"hosts:2:30: host localhost is not imported: its ansible_connection is local, not SSH, and illico reaches hosts over SSH only",
		"hosts:8:24: host box is not imported: its ansible_connection is community.docker.docker, not SSH, and illico reaches hosts over SSH only",
		"hosts:12:20: host win1 is not imported: its ansible_connection is winrm, not SSH, and illico reaches hosts over SSH only",
	}
	if !slices.Equal(got, want) {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestImportAnsibleINIValues reads [g:vars] as Ansible's INI plugin does:
// a Python literal loses the comment after it, a bare word keeps it.
func TestImportAnsibleINIValues(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hosts", "[web]\nweb1\nweb2 ansible_port=\"2200\" # shlex takes the quotes, literal_eval the number\n"+
		"[web:vars]\nansible_port=2222 # the SSH port\nansible_user='web' # quoted\ndc=gra # kept\nsite = \"par\"\n")
	file := filepath.Join(dir, "hosts")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := readAnsible(file, data)
	if len(a.problems) > 0 {
		t.Fatal(a.problems)
	}
	v := a.hostVars(a.byHost["web1"])
	for k, want := range map[string]string{"ansible_port": "2222", "ansible_user": "web", "dc": "gra # kept", "site": "par"} {
		if v[k].text != want {
			t.Errorf("%s = %q, want %q", k, v[k].text, want)
		}
	}
	if got := a.hostVars(a.byHost["web2"])["ansible_port"]; got.text != "2200" || got.kind != kindInt {
		t.Errorf("ansible_port of web2 = %+v, want the number 2200", got)
	}
	want := file + `:7:4: dc of group web is "gra # kept": Ansible keeps the # and what follows, for it strips a comment only after a number or a quoted string; quote the value or put the comment on a line of its own`
	if len(a.notes) != 1 || a.notes[0].String() != want {
		t.Errorf("notes = %v\nwant %s", a.notes, want)
	}
}

// TestImportAnsibleDatacenterPrefix says which groups the prefix made
// datacenters, and reads a group of datacenter groups as topology.
func TestImportAnsibleDatacenterPrefix(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "hosts", "[datacenter_gra]\nw1\nw2\n[datacenter_rbx]\nw3\nw4\n[datacenters:children]\ndatacenter_gra\ndatacenter_rbx\n[web]\nw[1:4]\n")
	t.Chdir(dir)
	data, err := os.ReadFile("hosts")
	if err != nil {
		t.Fatal(err)
	}
	inv, notes, err := ImportAnsible("hosts", data, AnsibleOptions{DatacenterGroupPrefix: "datacenter", KnownHosts: "/k"})
	if err != nil {
		t.Fatal(err)
	}
	if h := inv.Host("w3"); h == nil || h.Datacenter != "_rbx" {
		t.Errorf("w3: %+v, want datacenter _rbx", h)
	}
	want := `hosts: --datacenter-group-prefix datacenter: datacenter_gra is datacenter _gra, datacenter_rbx is datacenter _rbx (did you mean --datacenter-group-prefix datacenter_?)
hosts:7:2: group datacenters matches --datacenter-group-prefix datacenter but holds the datacenter groups datacenter_gra, datacenter_rbx: it is read as a group of datacenters, not as datacenter "s"`
	if got := yamlx.Problems(notes).Error(); got != want {
		t.Errorf("notes:\n%s\nwant:\n%s", got, want)
	}
}

// TestImportAnsibleGroups chooses which Ansible groups are redundancy
// groups; the others label their hosts.
func TestImportAnsibleGroups(t *testing.T) {
	const kolla = `[control]
c[1:3]
[compute]
k1
k2
[baremetal:children]
control
compute
[nova:children]
control
[all:vars]
dc=gra
`
	tests := []struct {
		name     string
		text     string
		groupVar string // group_vars/control.yml
		groups   []string
		want     string // groups, then labels of c1
		notes    string
		err      string
	}{
		{
			name:  "default",
			text:  kolla,
			want:  "control compute nova | ansible.baremetal",
			notes: `hosts: group baremetal holds every host through its children: such a group scopes variables, and as a redundancy group it would let one host of the whole fleet down at a time, so it became the label ansible.NAME on its hosts; say which groups are redundancy groups with --groups PATTERN,... or illico_group: true (docs/inventory.md)`,
		},
		{
			name:   "--groups",
			text:   kolla,
			groups: []string{"control", "comp*"},
			want:   "control compute | ansible.baremetal ansible.nova",
			notes:  `hosts: Ansible groups baremetal, nova became labels (ansible.NAME: "true"), not redundancy groups`,
		},
		{
			name:     "illico_group",
			text:     kolla + "[nova:vars]\nillico_group=False\n",
			groupVar: "illico_group: yes\n",
			want:     "control | ansible.baremetal ansible.nova",
			notes:    `hosts: Ansible groups compute, baremetal, nova became labels (ansible.NAME: "true"), not redundancy groups`,
		},
		{
			name:   "a budget chooses its group",
			text:   kolla + "[compute:vars]\nillico_max_unavailable=50%\n",
			groups: []string{"control"},
			want:   "control compute | ansible.baremetal ansible.nova",
			notes:  `hosts: Ansible groups baremetal, nova became labels (ansible.NAME: "true"), not redundancy groups`,
		},
		{
			name:   "typo",
			text:   kolla,
			groups: []string{"contrl", "x["},
			err: `hosts: --groups: unknown Ansible group "contrl" (did you mean "control"?)
hosts: --groups: "x[" is not a valid glob pattern`,
		},
		{
			name:     "not a boolean",
			text:     kolla,
			groupVar: "illico_group: maybe\n",
			err:      `group_vars/control.yml:1:15: illico_group of group control is "maybe"; it is true or false`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "hosts", tt.text)
			if tt.groupVar != "" {
				write(t, dir, "group_vars/control.yml", tt.groupVar)
			}
			t.Chdir(dir)
			inv, notes, err := ImportAnsible("hosts", []byte(tt.text), AnsibleOptions{DatacenterVar: "dc", KnownHosts: "/k", Groups: tt.groups})
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range inv.Groups {
				got = append(got, g.Name)
			}
			got = append(got, "|")
			got = append(got, sortedKeys(inv.Host("c1").Labels)...)
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got %s, want %s", g, tt.want)
			}
			if g := yamlx.Problems(notes).Error(); g != tt.notes {
				t.Errorf("notes:\n%s\nwant:\n%s", g, tt.notes)
			}
			for _, g := range inv.Groups {
				if g.Name == "control" && (g.Budget.MaxUnavailable == nil || g.Budget.MaxUnavailable.N != 1) {
					t.Errorf("control: budget %+v, want max_unavailable 1", g.Budget)
				}
			}
		})
	}
}
