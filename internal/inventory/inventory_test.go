package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// load parses a fixture with a fixed home directory.
func load(t testing.TB, file string) *fleet.Inventory {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := parse(file, data, "/home/operator")
	if err != nil {
		t.Fatalf("parse %s:\n%v", file, err)
	}
	return inv
}

// parseText parses an inventory written in the test.
func parseText(t testing.TB, text string) *fleet.Inventory {
	t.Helper()
	inv, err := parse("inline.yaml", []byte(text), "/home/operator")
	if err != nil {
		t.Fatalf("parse:\n%v\n%s", err, text)
	}
	return inv
}

func fixtures(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture matches %s (%v)", pattern, err)
	}
	return files
}

// sameJSON fails with both values side by side when they differ; JSON
// shows pointers' contents, which %v does not.
func sameJSON(t testing.TB, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	t.Errorf("got:\n%s\nwant:\n%s", g, w)
}

func TestLoadGoodFixtures(t *testing.T) {
	for _, file := range fixtures(t, "testdata/good/*.yaml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			inv, err := Load(file)
			if err != nil {
				t.Fatalf("Load:\n%v", err)
			}
			if len(inv.Hosts) == 0 {
				t.Fatal("no host loaded")
			}
			for _, h := range inv.Hosts {
				if h.Site == "" || h.SSH.Port == 0 || h.SSH.KnownHosts == "" || h.Commands.Reboot == "" {
					t.Errorf("host %s is not filled in: %+v", h.Name, h)
				}
				if !filepath.IsAbs(h.SSH.KnownHosts) {
					t.Errorf("host %s: known_hosts %q is not absolute", h.Name, h.SSH.KnownHosts)
				}
			}
		})
	}
}

func TestLoadBadFixtures(t *testing.T) {
	for _, file := range fixtures(t, "testdata/bad/*.yaml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(file)
			var ps yamlx.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load returned %v, want problems", err)
			}
			var got strings.Builder
			for _, p := range ps {
				got.WriteString(p.String() + "\n")
			}
			if got.String() != string(want) {
				t.Errorf("problems:\n%s\nwant:\n%s", got.String(), want)
			}
		})
	}
}

func TestLoadFleet(t *testing.T) {
	dir, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	inv := load(t, "testdata/good/fleet.yaml")

	q := func(n int, pct bool) *fleet.Quantity { return &fleet.Quantity{N: n, Percent: pct} }
	ssh := fleet.SSH{
		User:              "illico",
		Port:              2222,
		KnownHosts:        dir + "/keys/known_hosts",
		IdentityFiles:     []string{dir + "/keys/id_ed25519", "/etc/illico/id_rsa"},
		Agent:             true,
		ConnectTimeout:    15 * time.Second,
		KeepaliveInterval: 10 * time.Second,
		KeepaliveCount:    4,
	}
	commands := fleet.DefaultCommands
	commands.Reboot = "shutdown -r now"
	host := func(name, address, dc, site string, groups []string, labels map[string]string, edit func(h *fleet.Host)) *fleet.Host {
		h := &fleet.Host{Name: name, Address: address, Datacenter: dc, Site: site, Groups: groups, Labels: labels, SSH: ssh, Commands: commands}
		h.SSH.IdentityFiles = append([]string(nil), ssh.IdentityFiles...)
		if edit != nil {
			edit(h)
		}
		return h
	}
	want := &fleet.Inventory{
		Sites: []*fleet.Site{{Name: "gra"}, {Name: "rbx"}, {Name: "sbg"}},
		Datacenters: []*fleet.Datacenter{
			{Name: "gra", Site: "gra"}, {Name: "rbx1", Site: "rbx"}, {Name: "rbx2", Site: "rbx"}, {Name: "sbg", Site: "sbg"},
		},
		LoadBalancers: []*fleet.LoadBalancer{
			{Name: "lb-gra", Socket: dir + "/run/haproxy.sock"},
			{Name: "lb-rbx", Address: "127.0.0.1:9999"},
		},
		Groups: []*fleet.Group{
			{
				Name:      "web-01",
				Budget:    fleet.Budget{MaxUnavailable: q(50, true)},
				Component: "Web cluster 01", ComponentGroup: "Shared hosting",
				Balancer: &fleet.Membership{LoadBalancer: "lb-gra", Backend: "be-web-01", Servers: map[string]string{"web-gra-01": "gra01"}},
				Checks: []fleet.Check{
					{
						Name: "site", Kind: fleet.CheckHTTP, Target: "http://${address}:8080/healthz?host=${name}", Method: "HEAD",
						Headers: map[string]string{"Host": "shop.example", "X-Probe": "illico"}, FollowRedirects: true,
						Interval: 30 * time.Second, Timeout: 2 * time.Second, Conditions: []string{"[STATUS] == 204", "[RESPONSE_TIME] < 300ms"},
						FailureThreshold: 2, SuccessThreshold: 3,
					},
					{Name: "tcp", Kind: fleet.CheckTCP, Target: "${address}:443"},
				},
				Members: []string{"web-gra-01", "web-rbx-01"},
			},
			{Name: "db", Budget: fleet.Budget{MinAvailable: q(2, false)}, Component: "Databases", Members: []string{"db-rbx-01", "db-rbx-02", "db-sbg-01"},
				Checks: []fleet.Check{
					{Name: "postgres", Kind: fleet.CheckCommand, Target: "systemctl is-active postgresql", Conditions: []string{"[EXIT_CODE] == 0", "[STDOUT] == pat(active*)"}},
					{Name: "boot", Kind: fleet.CheckSSH, Interval: time.Minute},
				}},
			{Name: "mail", Budget: fleet.Budget{MaxUnavailable: q(1, false)}, Balancer: &fleet.Membership{LoadBalancer: "lb-rbx", Backend: "mail"}, Members: []string{"mail-gra-01", "mail-rbx-01"}},
			{Name: "edge", Budget: fleet.Budget{MaxUnavailable: q(0, false)}, Members: []string{"web-rbx-01", "mail-rbx-01"}},
		},
		Hosts: []*fleet.Host{
			host("web-gra-01", "203.0.113.10", "gra", "gra", []string{"web-01"}, map[string]string{"role": "web", "rack": "r12"}, nil),
			host("web-rbx-01", "web-rbx-01.example.net", "rbx1", "rbx", []string{"web-01", "edge"}, map[string]string{"role": "web"}, func(h *fleet.Host) {
				h.SSH.User, h.SSH.Port = "debian", 22
				h.SSH.ConnectTimeout, h.SSH.Agent = 20*time.Second, false
				h.SSH.IdentityFiles = []string{dir + "/keys/web-rbx"}
				h.Commands.BootID, h.Commands.RebootRequired = "cat /run/boot_id", "false"
				h.Checks = []fleet.Check{{Name: "ssh-banner", Kind: fleet.CheckTCP, Target: "${address}:22", Timeout: time.Second}}
			}),
			host("db-rbx-01", "2001:db8::5", "rbx1", "rbx", []string{"db"}, map[string]string{"role": "db"}, func(h *fleet.Host) { h.SSH.Port = 2022 }),
			host("db-rbx-02", "2001:db8::6", "rbx2", "rbx", []string{"db"}, map[string]string{"role": "db"}, nil),
			host("db-sbg-01", "192.0.2.7", "sbg", "sbg", []string{"db"}, map[string]string{"role": "db"}, nil),
			host("mail-gra-01", "192.0.2.20", "gra", "gra", []string{"mail"}, nil, func(h *fleet.Host) {
				h.SSH.KnownHosts, h.SSH.KeepaliveCount = "/etc/ssh/ssh_known_hosts", 1
			}),
			host("mail-rbx-01", "192.0.2.21", "rbx2", "rbx", []string{"mail", "edge"}, nil, nil),
			host("bastion", "198.51.100.1", "sbg", "sbg", nil, nil, nil),
		},
	}
	sameJSON(t, inv, want)
	if got := inv.Host("db-rbx-01").SSHAddress(); got != "[2001:db8::5]:2022" {
		t.Errorf("SSHAddress = %s", got)
	}
}

func TestHomeDirectory(t *testing.T) {
	data, err := os.ReadFile("testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		home, want, problem string
	}{
		{home: "/home/op", want: "/home/op/.ssh/known_hosts"},
		{home: "", problem: `minimal.yaml:4:22: "~/.ssh/known_hosts" starts with ~ but there is no home directory to expand it`},
	}
	for _, tt := range tests {
		t.Run("home="+tt.home, func(t *testing.T) {
			inv, err := parse("minimal.yaml", data, tt.home)
			if tt.problem != "" {
				if err == nil || err.Error() != tt.problem {
					t.Fatalf("got %v, want %s", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := inv.Hosts[0].SSH.KnownHosts; got != tt.want {
				t.Errorf("known_hosts = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	inv := parseText(t, `
datacenters: {dc: {}}
defaults: {ssh: {known_hosts: /k, agent: true}}
groups:
  g:
    checks: [{kind: http, target: "http://${address}/"}, {kind: tcp, target: "${name}:22"}]
hosts:
  h: {address: h.example, datacenter: dc, groups: [g]}
`)
	h, g := inv.Hosts[0], inv.Groups[0]
	want := fleet.SSH{User: "root", Port: 22, KnownHosts: "/k", Agent: true, ConnectTimeout: 10 * time.Second, KeepaliveInterval: 5 * time.Second, KeepaliveCount: 3}
	sameJSON(t, h.SSH, want)
	sameJSON(t, h.Commands, fleet.DefaultCommands)
	sameJSON(t, g.Budget, fleet.Budget{MaxUnavailable: &fleet.Quantity{N: 1}})
	// A check's other defaults depend on the daemon's probe interval:
	// the probe package applies them.
	sameJSON(t, g.Checks, []fleet.Check{
		{Name: "http", Kind: fleet.CheckHTTP, Target: "http://${address}/"},
		{Name: "tcp", Kind: fleet.CheckTCP, Target: "${name}:22"},
	})
	if h.Site != "dc" {
		t.Errorf("site = %q, want the datacenter's own name", h.Site)
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		budget string
		size   int
		want   int
	}{
		{"", 3, 1},
		{"max_unavailable: 2", 3, 2},
		{"max_unavailable: 0", 3, 0},
		{"max_unavailable: 5", 3, 3},
		{"max_unavailable: 25%", 3, 0},
		{"max_unavailable: 25%", 4, 1},
		{"max_unavailable: 50%", 5, 2},
		{"max_unavailable: 100%", 3, 3},
		{"min_available: 2", 3, 1},
		{"min_available: 3", 3, 0},
		{"min_available: 0", 3, 3},
		{"min_available: 50%", 3, 1},
		{"min_available: 50%", 4, 2},
		{"min_available: 34%", 3, 1},
		{"min_available: 100%", 2, 0},
		{"min_available: 0%", 2, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s of %d", tt.budget, tt.size), func(t *testing.T) {
			var b strings.Builder
			b.WriteString("datacenters: {dc: {}}\ndefaults: {ssh: {known_hosts: /k, agent: true}}\n")
			b.WriteString("groups: {g: {" + tt.budget + "}}\nhosts:\n")
			for i := range tt.size {
				fmt.Fprintf(&b, "  h%d: {address: 10.0.0.%d, datacenter: dc, groups: [g]}\n", i, i+1)
			}
			g := parseText(t, b.String()).Groups[0]
			if got := g.Budget.Allowed(len(g.Members)); got != tt.want {
				t.Errorf("%s of %d allows %d down, want %d", g.Budget, len(g.Members), got, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	inv := load(t, "testdata/good/fleet.yaml")
	tests := []struct {
		selector string
		want     string // host names, comma-separated
		err      string
	}{
		{selector: "", want: "web-gra-01,web-rbx-01,db-rbx-01,db-rbx-02,db-sbg-01,mail-gra-01,mail-rbx-01,bastion"},
		{selector: "web-gra-01", want: "web-gra-01"},
		{selector: "db", want: "db-rbx-01,db-rbx-02,db-sbg-01"},
		{selector: "bastion,web-gra-01", want: "web-gra-01,bastion"},
		{selector: " mail , bastion ", want: "mail-gra-01,mail-rbx-01,bastion"},
		{selector: "datacenter=rbx1", want: "web-rbx-01,db-rbx-01"},
		{selector: "datacenter=rbx*", want: "web-rbx-01,db-rbx-01,db-rbx-02,mail-rbx-01"},
		{selector: "site=rbx", want: "web-rbx-01,db-rbx-01,db-rbx-02,mail-rbx-01"},
		{selector: "label.role=db", want: "db-rbx-01,db-rbx-02,db-sbg-01"},
		{selector: "label.role=w?b", want: "web-gra-01,web-rbx-01"},
		{selector: "*-rbx-0?", want: "web-rbx-01,db-rbx-01,db-rbx-02,mail-rbx-01"},
		{selector: "web-0*", want: "web-gra-01,web-rbx-01"},
		{selector: "[de]*", want: "web-rbx-01,db-rbx-01,db-rbx-02,db-sbg-01,mail-rbx-01"},
		{selector: "db,!db-sbg-01", want: "db-rbx-01,db-rbx-02"},
		{selector: "site=rbx,&db", want: "db-rbx-01,db-rbx-02"},
		{selector: "site=rbx,!label.role=db,web-gra-01", want: "web-gra-01,web-rbx-01,mail-rbx-01"},
		{selector: "!db", want: "web-gra-01,web-rbx-01,mail-gra-01,mail-rbx-01,bastion"},
		{selector: "&edge", want: "web-rbx-01,mail-rbx-01"},
		{selector: "web-gra-1", err: `selector "web-gra-1": unknown host or group "web-gra-1" (did you mean "web-gra-01"?)`},
		{selector: "nothing-like-it", err: `selector "nothing-like-it": unknown host or group "nothing-like-it" (declared under hosts or groups: web-gra-01, web-rbx-01, db-rbx-01, db-rbx-02, db-sbg-01, mail-gra-01, mail-rbx-01, bastion and 4 more)`},
		{selector: "zzz-*", err: `selector "zzz-*": no host or group matches "zzz-*"`},
		{selector: "web-[", err: `selector "web-[": "web-[" is not a valid glob pattern`},
		{selector: "datacentre=gra", err: `selector "datacentre=gra": unknown term "datacentre=gra": a term is a host or group name or glob, datacenter=NAME, site=NAME or label.KEY=VALUE (did you mean datacenter=?)`},
		{selector: "label.=x", err: `selector "label.=x": unknown term "label.=x": a term is a host or group name or glob, datacenter=NAME, site=NAME or label.KEY=VALUE (did you mean label=?)`},
		{selector: "datacenter=gar", err: `selector "datacenter=gar": term "datacenter=gar": no host has datacenter gar (did you mean datacenter=gra?)`},
		{selector: "site=paris", err: `selector "site=paris": term "site=paris": no host has site paris (hosts have: gra, rbx, sbg)`},
		{selector: "label.color=red", err: `selector "label.color=red": term "label.color=red": no host has a label color`},
		{selector: "label.role=dbs", err: `selector "label.role=dbs": term "label.role=dbs": no host has label role dbs (did you mean label.role=db?)`},
		{selector: "db,,web-01", err: `selector "db,,web-01": term 2 is empty`},
		{selector: "!", err: `selector "!": term 1 is empty`},
		{selector: "db,&web-01", err: `selector "db,&web-01" selects no host`},
		{selector: "db,!db", err: `selector "db,!db" selects no host`},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			hosts, err := Select(inv, tt.selector)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v\nwant    %s", err, tt.err)
				}
				if fleet.KindOf(err) != fleet.KindInvalid {
					t.Errorf("kind = %v, want invalid", fleet.KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAudit(t *testing.T) {
	const head = `
datacenters:
  gra: {site: gra}
  rbx1: {site: rbx}
  rbx2: {site: rbx}
defaults: {ssh: {known_hosts: /k, agent: true}}
`
	tests := []struct {
		name   string
		groups string
		hosts  string
		want   []Finding
	}{
		{
			name:   "across sites",
			groups: "g: {}",
			hosts:  "a: {address: 10.0.0.1, datacenter: gra, groups: [g]}\n  b: {address: 10.0.0.2, datacenter: rbx1, groups: [g]}",
		},
		{
			name:   "one datacenter",
			groups: "g: {}",
			hosts:  "a: {address: 10.0.0.1, datacenter: gra, groups: [g]}\n  b: {address: 10.0.0.2, datacenter: gra, groups: [g]}",
			want: []Finding{{Kind: "single-datacenter", Group: "g", Hosts: []string{"a", "b"},
				Reason: "all 2 members of group g (a, b) are in datacenter gra: losing gra takes g down."}},
		},
		{
			name:   "one site, two datacenters",
			groups: "g: {}",
			hosts:  "a: {address: 10.0.0.1, datacenter: rbx1, groups: [g]}\n  b: {address: 10.0.0.2, datacenter: rbx2, groups: [g]}",
			want: []Finding{{Kind: "single-site", Group: "g", Hosts: []string{"a", "b"},
				Reason: "all 2 members of group g (a, b) are on site rbx, in datacenters rbx1 and rbx2: losing site rbx takes g down."}},
		},
		{
			name:   "one member",
			groups: "g: {}",
			hosts:  "a: {address: 10.0.0.1, datacenter: gra, groups: [g]}",
			want: []Finding{{Kind: "single-member", Group: "g", Hosts: []string{"a"},
				Reason: "group g has one member, a: when a is down, so is g."}},
		},
		{
			name:   "budget allows all",
			groups: "g: {max_unavailable: 100%}",
			hosts:  "a: {address: 10.0.0.1, datacenter: gra, groups: [g]}\n  b: {address: 10.0.0.2, datacenter: rbx1, groups: [g]}",
			want: []Finding{{Kind: "budget-allows-all", Group: "g", Hosts: []string{"a", "b"},
				Reason: "the budget of group g, max_unavailable 100%, allows all 2 members (a, b) down at once: a rollout may take g down entirely."}},
		},
		{
			name:   "min_available 0",
			groups: "g: {min_available: 0}",
			hosts:  "a: {address: 10.0.0.1, datacenter: gra, groups: [g]}\n  b: {address: 10.0.0.2, datacenter: rbx1, groups: [g]}",
			want: []Finding{{Kind: "budget-allows-all", Group: "g", Hosts: []string{"a", "b"},
				Reason: "the budget of group g, min_available 0, allows all 2 members (a, b) down at once: a rollout may take g down entirely."}},
		},
		{
			name:   "both, in group order",
			groups: "g: {max_unavailable: 2}\n  h: {}",
			hosts:  "a: {address: 10.0.0.1, datacenter: rbx1, groups: [g, h]}\n  b: {address: 10.0.0.2, datacenter: rbx1, groups: [g]}",
			want: []Finding{
				{Kind: "single-datacenter", Group: "g", Hosts: []string{"a", "b"}, Reason: "all 2 members of group g (a, b) are in datacenter rbx1: losing rbx1 takes g down."},
				{Kind: "budget-allows-all", Group: "g", Hosts: []string{"a", "b"}, Reason: "the budget of group g, max_unavailable 2, allows all 2 members (a, b) down at once: a rollout may take g down entirely."},
				{Kind: "single-member", Group: "h", Hosts: []string{"a"}, Reason: "group h has one member, a: when a is down, so is h."},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := parseText(t, head+"groups:\n  "+tt.groups+"\nhosts:\n  "+tt.hosts+"\n")
			sameJSON(t, Audit(inv), tt.want)
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	files := fixtures(t, "testdata/good/*.yaml")
	files = append(files, fixtures(t, "testdata/ansible/*/expected.yaml")...)
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Dir(file))
			if err != nil {
				t.Fatal(err)
			}
			inv := load(t, file)
			for _, out := range []string{dir, t.TempDir()} {
				data, err := Encode(inv, out)
				if err != nil {
					t.Fatal(err)
				}
				again, err := parse(filepath.Join(out, "encoded.yaml"), data, "/home/operator")
				if err != nil {
					t.Fatalf("parse the encoded inventory:\n%v\n%s", err, data)
				}
				sameJSON(t, again, inv)
				twice, err := Encode(again, out)
				if err != nil {
					t.Fatal(err)
				}
				if string(twice) != string(data) {
					t.Errorf("encoding is not stable:\n%s\nthen:\n%s", data, twice)
				}
			}
		})
	}
}

func TestEncodeRelativePaths(t *testing.T) {
	inv := load(t, "testdata/good/fleet.yaml")
	dir, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(inv, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"known_hosts: keys/known_hosts",
		"identity_files: [keys/id_ed25519, /etc/illico/id_rsa]",
		"lb-gra: {socket: run/haproxy.sock}",
		"address: '[2001:db8::5]:2022'",
		"max_unavailable: 50%",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("encoded inventory lacks %q:\n%s", want, data)
		}
	}
}

func TestEncodeTwoServerNames(t *testing.T) {
	inv := load(t, "testdata/good/fleet.yaml")
	inv.Groups[2].Balancer.Servers = map[string]string{"mail-rbx-01": "m1"}
	inv.Groups[3].Balancer = &fleet.Membership{LoadBalancer: "lb-rbx", Backend: "edge", Servers: map[string]string{"mail-rbx-01": "m2"}}
	_, err := Encode(inv, "")
	if err == nil || !strings.Contains(err.Error(), "host mail-rbx-01 is server m1 in the backend of group mail but m2 in that of group edge") {
		t.Fatalf("Encode error = %v", err)
	}
}

func TestSummary(t *testing.T) {
	var b strings.Builder
	Summary(&b, load(t, "testdata/good/fleet.yaml"))
	want := `8 hosts in 4 datacenters on 3 sites, 4 groups, 2 load balancers

SITE  DATACENTER  HOSTS
gra   gra         2
rbx   rbx1        2
      rbx2        2
sbg   sbg         2

GROUP   SIZE  BUDGET                        COMPONENT       LOAD BALANCER             CHECKS
web-01  2     max_unavailable 50% (1 of 2)  Web cluster 01  lb-gra backend be-web-01  site (http), tcp
db      3     min_available 2 (1 of 3)      Databases       -                         postgres (command), boot (ssh)
mail    2     max_unavailable 1 (1 of 2)    -               lb-rbx backend mail       -
edge    2     max_unavailable 0 (0 of 2)    -               -                         -

In no group: bastion
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}

func BenchmarkParse(b *testing.B) {
	data := []byte(bigInventory(2000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parse("big.yaml", data, "/home/operator"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	inv := parseText(b, bigInventory(2000))
	for b.Loop() {
		if _, err := Select(inv, "site=s1,&web-*,!label.rack=r3"); err != nil {
			b.Fatal(err)
		}
	}
}

// bigInventory is a fleet of n hosts over 4 sites, 8 datacenters and
// groups of 4.
func bigInventory(n int) string {
	var b strings.Builder
	b.WriteString("datacenters:\n")
	for d := range 8 {
		b.WriteString("  dc" + strconv.Itoa(d) + ": {site: s" + strconv.Itoa(d/2) + "}\n")
	}
	b.WriteString("defaults: {ssh: {known_hosts: known_hosts, identity_files: [id]}}\ngroups:\n")
	for g := range n / 4 {
		b.WriteString("  web-" + strconv.Itoa(g) + ": {max_unavailable: 25%, checks: [{kind: http, target: \"http://${address}/\"}]}\n")
	}
	b.WriteString("hosts:\n")
	for h := range n {
		b.WriteString("  h" + strconv.Itoa(h) + ": {address: 10." + strconv.Itoa(h/65536) + "." + strconv.Itoa(h/256%256) + "." + strconv.Itoa(h%256) +
			", datacenter: dc" + strconv.Itoa(h%8) + ", groups: [web-" + strconv.Itoa(h/4) + "], labels: {rack: r" + strconv.Itoa(h%5) + "}}\n")
	}
	return b.String()
}

// TestDocExample keeps the example of docs/inventory.md, the format's
// contract, a valid inventory.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/inventory.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/inventory.md has no ```yaml example")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "inventory.yaml")
	inv, err := parse(file, []byte(example), "/home/operator")
	if err != nil {
		t.Fatalf("the example of docs/inventory.md does not load:\n%v", err)
	}
	h := inv.Host("web-gra-01")
	if h.SSH.User != "debian" || h.SSH.ConnectTimeout != 20*time.Second || h.SSH.KnownHosts != filepath.Join(dir, "known_hosts") || h.Commands.Reboot != "/sbin/reboot" {
		t.Errorf("web-gra-01 is not as the example describes it: %+v", h)
	}
	data, err := Encode(inv, dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := parse(file, data, "/home/operator")
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, again, inv)
}

// TestCheckProblems pins where each problem of a check is reported: at the
// key, at the item of conditions, or at the check when a key is missing.
func TestCheckProblems(t *testing.T) {
	const head = "datacenters: {dc: {}}\ndefaults: {ssh: {known_hosts: /k, agent: true}}\n"
	tests := []struct {
		name, body string
		want       []string
	}{
		{
			name: "conditions in a flow list",
			body: "groups:\n  g:\n    checks: [{kind: tcp, target: \"a:1\", conditions: ['[CONNECTED] == true', '[STATUS] == 200']}]\nhosts:\n  h: {address: 10.0.0.1, datacenter: dc, groups: [g]}\n",
			want: []string{`inline.yaml:5:77: check tcp of group g: condition "[STATUS] == 200": a tcp check does not observe [STATUS]`},
		},
		{
			name: "a host's check, old and new keys",
			body: "hosts:\n  h:\n    address: 10.0.0.1\n    datacenter: dc\n    checks:\n      - {kind: http, target: 'http://${address}/', status: 200}\n      - name: api\n        kind: command\n        method: POST\n",
			want: []string{
				`inline.yaml:8:52: "status" is not a check key: write conditions: ["[STATUS] == 200"]`,
				`inline.yaml:9:9: check api of host h: a command check needs a target: the command to run on the host`,
				`inline.yaml:11:17: check api of host h: method is for http checks only`,
			},
		},
		{
			name: "a target that breaks on IPv6 hosts",
			body: "groups:\n  g:\n    checks:\n      - {kind: tcp, target: '${address_bare}:5432'}\n      - {kind: http, target: 'http://[${address}]:8080/'}\nhosts:\n  h: {address: '[2001:db8::5]:2022', datacenter: dc, groups: [g]}\n",
			want: []string{`inline.yaml:6:29: check tcp of group g: target "${address_bare}:5432" is not host:port for a host with an IPv6 address (2001:db8::10 gives "2001:db8::10:5432"): write ${address}, which puts an IPv6 address in brackets`},
		},
		{
			name: "one check shared by two groups through an anchor",
			body: "groups:\n  a: {checks: &c [{kind: ssh}]}\n  b: {checks: *c}\nhosts:\n  h: {address: 10.0.0.1, datacenter: dc, groups: [a, b]}\n",
		},
		{
			name: "a bad interval is said once for the group",
			body: "groups:\n  g:\n    checks:\n      - {kind: ssh, interval: 500ms}\nhosts:\n  h1: {address: 10.0.0.1, datacenter: dc, groups: [g]}\n  h2: {address: 10.0.0.2, datacenter: dc, groups: [g]}\n",
			want: []string{`inline.yaml:6:31: check ssh of group g: interval 500ms is shorter than 1s`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("inline.yaml", []byte(head+tt.body), "/home/operator")
			var got []string
			var ps yamlx.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					got = append(got, p.String())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestProbesDocExample keeps the checks of docs/probes.md, their
// reference, valid in an inventory.
func TestProbesDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/probes.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/probes.md has no ```yaml example")
	}
	inv := parseText(t, "datacenters: {dc: {}}\ndefaults: {ssh: {known_hosts: /k, agent: true}}\n"+example+
		"hosts:\n  w: {address: 10.0.0.1, datacenter: dc, groups: [web-01]}\n  d: {address: 10.0.0.2, datacenter: dc, groups: [db]}\n")
	var kinds []fleet.CheckKind
	for _, g := range inv.Groups {
		for _, c := range g.Checks {
			kinds = append(kinds, c.Kind)
		}
	}
	if want := []fleet.CheckKind{fleet.CheckHTTP, fleet.CheckTCP, fleet.CheckSSH, fleet.CheckCommand}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("the example's checks are of kinds %v, want one of each: %v", kinds, want)
	}
}

// TestSplitAddress holds how a host's address is read: an IPv6 literal
// bare, or in brackets when a port follows, as OpenSSH writes it; the
// host keeps no brackets, which ${address} and SSHAddress add back.
func TestSplitAddress(t *testing.T) {
	tests := []struct {
		in, host string
		port     int
		err      string
	}{
		{in: "web-01.example.net", host: "web-01.example.net"},
		{in: "web-01.example.net:2222", host: "web-01.example.net", port: 2222},
		{in: "192.0.2.10:22", host: "192.0.2.10", port: 22},
		{in: "::1", host: "::1"},
		{in: "2001:db8::10", host: "2001:db8::10"},
		{in: "[2001:db8::10]", host: "2001:db8::10"},
		{in: "[2001:db8::10]:2222", host: "2001:db8::10", port: 2222},
		{in: "[2001:db8::10]:0", err: `port "0" is not a TCP port (1-65535)`},
		{in: "[2001:db8::zz]", err: `"[2001:db8::zz]" is not an address like [2001:db8::1]:22`},
		{in: "2001:db8::zz:22", err: `"2001:db8::zz:22" is not an IPv6 address (write [ADDRESS]:PORT to give a port)`},
		{in: "fe80::1%eth0", err: `"fe80::1%eth0" is not an IPv6 address (write [ADDRESS]:PORT to give a port)`},
	}
	for _, tt := range tests {
		host, port, err := splitAddress(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("splitAddress(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("splitAddress(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
		if back := joinAddress(host, port); tt.in != "[2001:db8::10]" && back != tt.in {
			t.Errorf("joinAddress(%q, %d) = %q, want %q back", host, port, back, tt.in)
		}
	}
}
