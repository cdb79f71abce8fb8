package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed adds the files matching pattern to the corpus.
func seed(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse feeds inventory files to the parser: whatever the input, it
// returns an inventory or problems, never panics, and what it accepts
// encodes and parses back.
func FuzzParse(f *testing.F) {
	seed(f, "testdata/good/*.yaml")
	seed(f, "testdata/bad/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := parse("fuzz.yaml", data, "/home/fuzz")
		if err != nil {
			return
		}
		out, err := Encode(inv, "/")
		if err != nil {
			return // two lb_server names for one host cannot be written
		}
		if _, err := parse("/encoded.yaml", out, "/home/fuzz"); err != nil {
			t.Fatalf("the encoded inventory does not parse:\n%v\n%s\nfrom:\n%s", err, out, data)
		}
	})
}

// FuzzSelect feeds selectors to Select over a fixture: never a panic, and
// every host it returns is in the inventory, in order, once.
func FuzzSelect(f *testing.F) {
	inv := load(f, "testdata/good/fleet.yaml")
	for _, s := range []string{
		"", "web-gra-01", "db", "datacenter=rbx1", "site=rbx", "label.role=db", "web-*",
		"*-rbx-0?", "[de]*", "db,!db-sbg-01", "site=rbx,&db", "!db", "&edge", "web-[",
		"label.=x", "datacentre=gra", "db,,web-01", "!", "a=b=c", "label.role=[", `\`,
	} {
		f.Add(s)
	}
	index := map[string]int{}
	for i, h := range inv.Hosts {
		index[h.Name] = i
	}
	f.Fuzz(func(t *testing.T, selector string) {
		hosts, err := Select(inv, selector)
		if err != nil {
			return
		}
		last := -1
		for _, h := range hosts {
			i, ok := index[h.Name]
			if !ok || i <= last {
				t.Fatalf("Select(%q) returned %s out of order or twice", selector, h.Name)
			}
			last = i
		}
	})
}

// FuzzAnsibleINI feeds INI inventories to the Ansible import.
func FuzzAnsibleINI(f *testing.F) {
	data, err := os.ReadFile("testdata/ansible/ini/hosts")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	for _, p := range []string{"inventory", "hosts", "multinode", "hosts.example"} {
		seed(f, "testdata/ansible-corpus/*/"+p)
	}
	for _, s := range []string{
		"a dc=gra\nb dc=rbx\n",
		"[web]\nweb[01:3] a=1\nweb4 novalue\nweb5 a=\"x\n[web:child]\nx\n[ web ]\n",
		"[a:children]\nb\n[b:children]\na\n",
		"[dc_gra]\na\nb dc=rbx\nc\n[dc_rbx]\nc\nd\n[site_x]\nd site=x\n",
		"[web]\nw1 dc=gra ansible_port=ssh\nw2 dc=gra ansible_host=\"{{ x }}\"\n[web:vars]\nillico_min_available=5\n",
		"h[a:c][1:3]:22 dc='g r a' x=\"y\\\"z\" # c\n",
	} {
		f.Add([]byte(s))
	}
	file := filepath.Join(f.TempDir(), "hosts")
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := AnsibleOptions{DatacenterVar: "dc", DatacenterGroupPrefix: "dc_", SiteVar: "site", KnownHosts: "/k"}
		inv, _, err := ImportAnsible(file, data, opts)
		if err != nil {
			return
		}
		if _, err := Encode(inv, ""); err != nil {
			t.Fatalf("an imported inventory does not encode: %v", err)
		}
	})
}

// FuzzAnsibleYAML feeds YAML inventories, aliases included, to the Ansible
// import.
func FuzzAnsibleYAML(f *testing.F) {
	data, err := os.ReadFile("testdata/ansible/yaml/inventory.yml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	seed(f, "testdata/ansible-corpus/*/*.yml")
	for _, s := range []string{
		"all:\n  children:\n    web: &web\n      children:\n        inner: *web\n",
		"all:\n  host:\n    a:\n  children:\n    web: [a, b]\n    db:\n      hosts:\n        d1: 3\n",
		"a: &a {hosts: {h1: {dc: x}}}\nb: &b {children: {x: *a, y: *a}}\nc: {children: {p: *b, q: *b}}\n",
		"all: {hosts: {'h[1:3]:22': {dc: gra, ansible_host: !vault x}}}\n",
		"all:\n  vars: {d: &d {dc: gra, ansible_port: 2222}}\n  hosts:\n    a: {<<: *d}\n    b: {<<: [*d, {dc: rbx}], dc: x}\n    c: {<<: 1}\n",
	} {
		f.Add([]byte(s))
	}
	file := filepath.Join(f.TempDir(), "inventory.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := AnsibleOptions{DatacenterVar: "dc", SiteVar: "site", KnownHosts: "/k"}
		inv, _, err := ImportAnsible(file, data, opts)
		if err != nil {
			return
		}
		if _, err := Encode(inv, ""); err != nil {
			t.Fatalf("an imported inventory does not encode: %v", err)
		}
	})
}

// FuzzPyLiteral feeds values to the Python literal reader of the INI
// import: never a panic, and a comment after a literal changes nothing.
func FuzzPyLiteral(f *testing.F) {
	for _, s := range []string{
		"2222", "'web' # c", `"a\x41\u00e9" 'b'`, "[1, (2,), {3: None}]", "-(1.5e3)", "0x_1f", "set()",
		"{'a': [1, 2],}", "r'\\'", "b'\\xff'", "1, 2,", "[2001:db8::10]", "{{ x }}", "'''x'''",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := pyLiteral(s)
		if !ok || strings.ContainsAny(s, "#\n\r") {
			return
		}
		w, ok := pyLiteral(s + " # a comment")
		if !ok || w.kind != v.kind || w.text != v.text {
			t.Fatalf("%q reads as %v %q, but with a comment after it as %v %q (%v)", s, v.kind, v.text, w.kind, w.text, ok)
		}
	})
}
