package lab

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/openssh"
)

// Info is what lab.json holds: where everything of a running lab is.
type Info struct {
	Dir  string `json:"dir"`
	User string `json:"user"`
	// Pid is the process that runs the lab (the supervisor, or a test).
	Pid       int               `json:"pid"`
	Hosts     []HostInfo        `json:"hosts"`
	SSHPort   int               `json:"ssh_port"`
	SitePort  int               `json:"site_port"`
	HAProxy   HAProxyInfo       `json:"haproxy"`
	Frontends map[string]string `json:"frontends"`
	// Control is the host:port of the control API, on 127.0.0.1.
	Control string   `json:"control"`
	Files   Files    `json:"files"`
	Options Settings `json:"options"`
}

// HostInfo is where one host of the lab answers.
type HostInfo struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	SSHAddress  string `json:"ssh_address"`
	SiteAddress string `json:"site_address"`
	Datacenter  string `json:"datacenter"`
	Site        string `json:"site"`
	Group       string `json:"group"`
}

// HAProxyInfo is where the lab's HAProxy is.
type HAProxyInfo struct {
	Config string `json:"config"`
	Socket string `json:"socket"`
	Pid    int    `json:"pid"`
}

// Files are the paths of the files a lab writes for its users.
type Files struct {
	Inventory  string `json:"inventory"`
	KnownHosts string `json:"known_hosts"`
	Identity   string `json:"identity"`
	Config     string `json:"config"`
	Repo       string `json:"repo"`
	Log        string `json:"log"`
	Bin        string `json:"bin"`
	Plans      string `json:"plans"`
}

func filesIn(dir string) Files {
	return Files{
		Inventory:  filepath.Join(dir, "inventory.yaml"),
		KnownHosts: filepath.Join(dir, "known_hosts"),
		Identity:   filepath.Join(dir, "id_ed25519"),
		Config:     filepath.Join(dir, "illico.yaml"),
		Repo:       filepath.Join(dir, "repo"),
		Log:        filepath.Join(dir, "lab.log"),
		Bin:        filepath.Join(dir, "bin"),
		Plans:      filepath.Join(dir, "plans"),
	}
}

// Load reads DIR/lab.json, which a lab writes when it starts and leaves
// behind when it stops.
func Load(dir string) (*Info, error) {
	path := filepath.Join(dir, "lab.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fleet.Errorf(fleet.KindNotFound, "no lab in %s (no lab.json; start one with illico lab up --dir %s)", dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read lab: %w", err)
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &info, nil
}

func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), 0o644)
}

//go:embed scripts
var scriptFS embed.FS

// writeScripts writes the host-side commands into DIR/bin, with the lab's
// directory and control address filled in.
func writeScripts(dir, control string) error {
	host, port, err := net.SplitHostPort(control)
	if err != nil {
		return err
	}
	data := struct{ Dir, ControlHost, ControlPort string }{dir, host, port}
	ents, err := scriptFS.ReadDir("scripts")
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	for _, e := range ents {
		text, err := scriptFS.ReadFile("scripts/" + e.Name())
		if err != nil {
			return err
		}
		t, err := template.New(e.Name()).Parse(string(text))
		if err != nil {
			return fmt.Errorf("script %s: %w", e.Name(), err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return fmt.Errorf("script %s: %w", e.Name(), err)
		}
		if err := writeFileAtomic(filepath.Join(bin, e.Name()), b.Bytes(), 0o755); err != nil {
			return err
		}
	}
	return nil
}

//go:embed plans
var planFS embed.FS

// writePlans writes the lab's ready plans into DIR/plans.
func writePlans(dir string) error {
	ents, err := planFS.ReadDir("plans")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "plans"), 0o755); err != nil {
		return err
	}
	for _, e := range ents {
		text, err := planFS.ReadFile("plans/" + e.Name())
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, "plans", e.Name()), text, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ensureKey returns the public key of the OpenSSH private key at path,
// generating the key if there is none: a lab started again in the same
// directory keeps its keys, and the users' known_hosts stay right.
func ensureKey(path string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		signer, perr := ssh.ParsePrivateKey(data)
		if perr == nil {
			return signer.PublicKey(), nil
		}
	}
	return openssh.GenerateHostKey(path)
}

// writeClientKey makes sure DIR/id_ed25519 and its .pub exist and returns
// the authorized_keys line.
func writeClientKey(path string) ([]byte, error) {
	pub, err := ensureKey(path)
	if err != nil {
		return nil, fmt.Errorf("client key: %w", err)
	}
	line := ssh.MarshalAuthorizedKey(pub)
	line = append(bytes.TrimSpace(line), []byte(" illico-lab\n")...)
	if err := writeFileAtomic(path+".pub", line, 0o644); err != nil {
		return nil, err
	}
	return line, nil
}

func knownHostsLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{addr}, key) + "\n"
}

// daemonConfig is DIR/illico.yaml, for `illico serve --config` on this lab.
func daemonConfig(listen, public string) []byte {
	return fmt.Appendf(nil, `# The control plane for this lab: illico serve --config illico.yaml
inventory: inventory.yaml
data: data
listen: %s
public_listen: %s
admin_token_file: admin.token
`, listen, public)
}

// buildInventory describes the lab as an operator would describe the real
// fleet it stands for.
func buildInventory(dir, user string, sshPort, sitePort int, o Options, hosts []hostSpec, groups []groupSpec) *fleet.Inventory {
	inv := &fleet.Inventory{}
	seen := map[string]bool{}
	for _, dc := range o.Datacenters {
		site := o.Sites[dc]
		inv.Datacenters = append(inv.Datacenters, &fleet.Datacenter{Name: dc, Site: site})
		if !seen[site] {
			seen[site] = true
			inv.Sites = append(inv.Sites, &fleet.Site{Name: site})
		}
	}
	sock := filepath.Join(dir, "haproxy.sock")
	inv.LoadBalancers = []*fleet.LoadBalancer{{Name: "lab", Socket: sock}}
	one := fleet.Quantity{N: 1}
	for _, g := range groups {
		inv.Groups = append(inv.Groups, &fleet.Group{
			Name:      g.Name,
			Budget:    fleet.Budget{MaxUnavailable: &one},
			Component: g.Component,
			Balancer:  &fleet.Membership{LoadBalancer: "lab", Backend: g.Name},
			Checks: []fleet.Check{{
				Name:       "site",
				Kind:       fleet.CheckHTTP,
				Target:     "http://${address}:" + strconv.Itoa(sitePort) + "/healthz",
				Timeout:    2 * time.Second,
				Conditions: []string{"[STATUS] == 200", "[BODY] == pat(ok*)"},
			}},
			Members: g.Members,
		})
	}
	bin := filepath.Join(dir, "bin")
	for _, h := range hosts {
		inv.Hosts = append(inv.Hosts, &fleet.Host{
			Name:       h.Name,
			Address:    h.Address,
			Datacenter: h.Datacenter,
			Site:       h.Site,
			Groups:     []string{h.Group},
			Labels:     map[string]string{"role": "web"},
			SSH: fleet.SSH{
				User:              user,
				Port:              sshPort,
				KnownHosts:        filepath.Join(dir, "known_hosts"),
				IdentityFiles:     []string{filepath.Join(dir, "id_ed25519")},
				ConnectTimeout:    5 * time.Second,
				KeepaliveInterval: 2 * time.Second,
				KeepaliveCount:    3,
			},
			Commands: fleet.Commands{
				BootID:         filepath.Join(bin, "lab-boot-id"),
				Reboot:         filepath.Join(bin, "lab-reboot"),
				RebootRequired: filepath.Join(bin, "lab-reboot-required"),
			},
		})
	}
	return inv
}

// writeInventory writes the inventory with paths relative to the lab's
// directory, so that the directory can be moved or shared.
func writeInventory(path string, inv *fleet.Inventory, dir string) error {
	data, err := inventory.Encode(inv, dir)
	if err != nil {
		return fmt.Errorf("encode inventory: %w", err)
	}
	header := []byte("# The lab's fleet, written by illico lab up: check it with illico inventory check inventory.yaml\n")
	return writeFileAtomic(path, append(header, data...), 0o644)
}
