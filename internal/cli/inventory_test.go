package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inventoryCLI runs illico with args and returns its exit code, standard
// output and standard error.
func inventoryCLI(t *testing.T, home string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	err := Run(context.Background(), Build{}, args, getenv, strings.NewReader(""), &stdout, &stderr)
	code := ExitCode(err, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodInventory = `datacenters:
  gra: {site: gra}
  rbx1: {site: rbx}
defaults:
  ssh: {known_hosts: known_hosts, agent: true}
groups:
  web: {}
  db: {}
hosts:
  web-1: {address: 10.0.0.1, datacenter: gra, groups: [web, db]}
  web-2: {address: 10.0.0.2, datacenter: rbx1, groups: [web]}
`

func TestInventoryCommand(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", goodInventory)
	spread := writeFile(t, dir, "spread.yaml", strings.Replace(goodInventory, "groups: [web, db]", "groups: [web]", 1)+"  db-1: {address: 10.0.0.3, datacenter: gra, groups: [db]}\n  db-2: {address: 10.0.0.4, datacenter: rbx1, groups: [db]}\n")
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(goodInventory, "datacenter: gra,", "datacenter: gar,", 1)+"  web-3: {adress: x}\n")

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a prefix of standard output ("-" for empty)
		stderr string // a prefix of standard error ("-" for empty)
	}{
		{name: "help", args: []string{"inventory", "-h"}, code: 0, stdout: "Usage: illico inventory COMMAND\n\nCommands:\n  check FILE", stderr: "-"},
		{name: "no command", args: []string{"inventory"}, code: 2, stdout: "-", stderr: "Usage: illico inventory COMMAND"},
		{name: "unknown command", args: []string{"inventory", "chekc"}, code: 2, stderr: `illico: unknown inventory command "chekc" (run illico inventory -h)`},
		{name: "check", args: []string{"inventory", "check", good}, code: 0, stdout: "2 hosts in 2 datacenters on 2 sites, 2 groups, 0 load balancers\n", stderr: "-"},
		{name: "check problems", args: []string{"inventory", "check", bad}, code: 1, stdout: "-", stderr: bad + ":10:42: unknown datacenter \"gar\" (did you mean \"gra\"?)\n" +
			bad + ":12:3: host web-3 has no address\n" +
			bad + ":12:3: host web-3 has no datacenter (declared under datacenters: gra, rbx1)\n" +
			bad + ":12:11: unknown key \"adress\" (did you mean \"address\"?)\n"},
		{name: "check no file", args: []string{"inventory", "check", filepath.Join(dir, "none.yaml")}, code: 1, stderr: "illico: read inventory: open " + filepath.Join(dir, "none.yaml")},
		{name: "check two files", args: []string{"inventory", "check", good, good}, code: 2, stderr: "illico: illico inventory check takes one FILE, got 2 arguments"},
		{name: "check -h", args: []string{"inventory", "check", "-h"}, code: 0, stderr: "Usage: illico inventory check FILE"},
		{name: "audit", args: []string{"inventory", "audit", good}, code: 1, stdout: "single-member db: group db has one member, web-1: when web-1 is down, so is db.\n", stderr: "-"},
		{name: "audit clean", args: []string{"inventory", "audit", spread}, code: 0, stdout: "no single point of failure found in 2 groups\n", stderr: "-"},
		{name: "audit clean json", args: []string{"inventory", "audit", spread, "--json"}, code: 0, stdout: "[]\n", stderr: "-"},
		{name: "audit problems", args: []string{"inventory", "audit", "--json", bad}, code: 1, stdout: "-", stderr: bad + ":10:42:"},
		{name: "import other format", args: []string{"inventory", "import", "chef", good}, code: 2, stderr: "illico: usage: illico inventory import ansible FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := inventoryCLI(t, dir, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, out := range []struct{ name, got, want string }{{"stdout", stdout, tt.stdout}, {"stderr", stderr, tt.stderr}} {
				switch {
				case out.want == "-" && out.got != "":
					t.Errorf("%s should be empty:\n%s", out.name, out.got)
				case out.want != "-" && !strings.HasPrefix(out.got, out.want):
					t.Errorf("%s:\n%s\nwant it to start with:\n%s", out.name, out.got, out.want)
				}
			}
		})
	}
}

func TestInventoryAuditJSON(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", goodInventory)
	code, stdout, _ := inventoryCLI(t, dir, "inventory", "audit", good, "--json")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var findings []struct {
		Kind, Group, Reason string
		Hosts               []string
	}
	if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if len(findings) != 1 || findings[0].Kind != "single-member" || findings[0].Group != "db" || findings[0].Hosts[0] != "web-1" || findings[0].Reason == "" {
		t.Errorf("findings = %+v", findings)
	}
}

func TestInventoryImportAnsible(t *testing.T) {
	dir := t.TempDir()
	hosts := writeFile(t, dir, "hosts", `[web]
web[1:2].example.net
[web:vars]
illico_max_unavailable=50%

[dc_gra]
web1.example.net
[dc_rbx]
web2.example.net
`)
	out := filepath.Join(dir, "inventory.yaml")
	code, stdout, stderr := inventoryCLI(t, dir, "inventory", "import", "ansible", hosts,
		"--datacenter-group-prefix", "dc_", "--identity-file", "~/.ssh/id_ed25519", "--identity-file", "keys/id_rsa", "-o", out)
	if code != 0 {
		t.Fatalf("exit code %d\n%s%s", code, stdout, stderr)
	}
	if stdout != "" || stderr != hosts+": note: --datacenter-group-prefix dc_: dc_gra is datacenter gra, dc_rbx is datacenter rbx\nwrote "+out+": 2 hosts, 1 group\n" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Imported from the Ansible inventory " + hosts,
		"known_hosts: .ssh/known_hosts", // under the output's directory, which is $HOME here
		"identity_files: [.ssh/id_ed25519, " + filepath.Join(wd, "keys/id_rsa") + "]",
		"max_unavailable: 50%",
		"web1.example.net:\n    address: web1.example.net\n    datacenter: gra\n    groups: [web]",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the imported inventory lacks %q:\n%s", want, data)
		}
	}
	if code, stdout, stderr := inventoryCLI(t, dir, "inventory", "check", out); code != 0 {
		t.Errorf("check of the imported inventory: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = inventoryCLI(t, dir, "inventory", "import", "ansible", hosts)
	if code != 1 || stdout != "" || !strings.HasPrefix(stderr, hosts+": no host has a datacenter (web1.example.net, web2.example.net): tell illico where to find it with --datacenter-var VAR") {
		t.Errorf("import without a datacenter option: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	code, stdout, _ = inventoryCLI(t, dir, "inventory", "import", "ansible", hosts, "--datacenter-group-prefix=dc_")
	if code != 0 || !strings.HasPrefix(stdout, "# Imported from the Ansible inventory") {
		t.Errorf("import to stdout: exit %d\n%s", code, stdout)
	}
}

// TestInventoryImportAnsibleNotes prints what the import left out on
// standard error, before the summary.
func TestInventoryImportAnsibleNotes(t *testing.T) {
	dir := t.TempDir()
	hosts := writeFile(t, dir, "hosts", "[web]\nweb1 dc=gra\nweb2 dc=gra\n[deployment]\nlocalhost ansible_connection=local\n")
	out := filepath.Join(dir, "inventory.yaml")
	code, stdout, stderr := inventoryCLI(t, dir, "inventory", "import", "ansible", hosts, "--datacenter-var", "dc", "-o", out)
	want := hosts + ":5:30: note: host localhost is not imported: its ansible_connection is local, not SSH, and illico reaches hosts over SSH only\n" +
		"wrote " + out + ": 2 hosts, 1 group\n"
	if code != 0 || stdout != "" || stderr != want {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}
}

// TestInventoryImportAnsibleGroups passes --groups, comma-separated and
// repeated, and --datacenter to the import.
func TestInventoryImportAnsibleGroups(t *testing.T) {
	dir := t.TempDir()
	hosts := writeFile(t, dir, "hosts", "[control]\nc[1:3]\n[compute]\nk1\nk2\n[storage]\ns1\ns2\n[nova:children]\ncontrol\n")
	code, stdout, stderr := inventoryCLI(t, dir, "inventory", "import", "ansible", hosts, "--datacenter", "dc1", "--groups", "control, compute", "--groups", "stor*")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"groups:\n  control:\n    max_unavailable: 1\n  compute:\n    max_unavailable: 1\n  storage:\n", "datacenter: dc1\n    groups: [control]\n    labels: {ansible.nova: \"true\"}"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the imported inventory lacks %q:\n%s", want, stdout)
		}
	}
	if want := hosts + ": note: Ansible group nova became a label (ansible.NAME: \"true\"), not a redundancy group\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}
