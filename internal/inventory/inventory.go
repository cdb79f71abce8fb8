// Package inventory reads, checks and writes illico inventory files (the
// format of docs/inventory.md), selects hosts with --limit selectors, imports
// Ansible inventories and audits a fleet's topology for single points of
// failure.
//
// Reading goes decode → fill (every default, in one place) → validate (every
// problem, with its position) → build the fleet types.
package inventory

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Load reads and validates the inventory at path. Relative paths in it (known_hosts,
// identity_files, load-balancer sockets) are made absolute against the file's directory.
func Load(path string) (*fleet.Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load on bytes already read; file names the source in messages and its
// directory resolves relative paths.
func Parse(file string, data []byte) (*fleet.Inventory, error) {
	// Without a home directory, a path starting with ~/ is reported as a
	// problem rather than guessed.
	home, _ := os.UserHomeDir()
	return parse(file, data, home)
}

// The decoded file. Field names follow the YAML keys; Meta says where each
// value stood so that validation can point at it.
type (
	document struct {
		Datacenters   []*datacenterDoc   `yaml:"datacenters,keyed"`
		Defaults      defaultsDoc        `yaml:"defaults"`
		LoadBalancers []*loadBalancerDoc `yaml:"load_balancers,keyed"`
		Groups        []*groupDoc        `yaml:"groups,keyed"`
		Hosts         []*hostDoc         `yaml:"hosts,keyed"`
		Meta          yamlx.Meta
	}
	datacenterDoc struct {
		Name string
		Site string `yaml:"site"`
		Meta yamlx.Meta
	}
	defaultsDoc struct {
		SSH      sshDoc      `yaml:"ssh"`
		Commands commandsDoc `yaml:"commands"`
		Meta     yamlx.Meta
	}
	sshDoc struct {
		User              string        `yaml:"user"`
		Port              int           `yaml:"port"`
		KnownHosts        string        `yaml:"known_hosts"`
		IdentityFiles     []string      `yaml:"identity_files"`
		Agent             bool          `yaml:"agent"`
		ConnectTimeout    time.Duration `yaml:"connect_timeout"`
		KeepaliveInterval time.Duration `yaml:"keepalive_interval"`
		KeepaliveCount    int           `yaml:"keepalive_count"`
		Meta              yamlx.Meta
	}
	commandsDoc struct {
		BootID         string `yaml:"boot_id"`
		Reboot         string `yaml:"reboot"`
		RebootRequired string `yaml:"reboot_required"`
		Meta           yamlx.Meta
	}
	loadBalancerDoc struct {
		Name    string
		Socket  string `yaml:"socket"`
		Address string `yaml:"address"`
		Meta    yamlx.Meta
	}
	groupDoc struct {
		Name string
		// Budgets stay text until validation: "2" and "25%" are both valid.
		MaxUnavailable string         `yaml:"max_unavailable"`
		MinAvailable   string         `yaml:"min_available"`
		Component      string         `yaml:"component"`
		ComponentGroup string         `yaml:"component_group"`
		LoadBalancer   *membershipDoc `yaml:"load_balancer"`
		Checks         []checkDoc     `yaml:"checks"`
		Meta           yamlx.Meta
	}
	membershipDoc struct {
		Name    string `yaml:"name"`
		Backend string `yaml:"backend"`
		Meta    yamlx.Meta
	}
	// checkDoc is a check in the full probe form of docs/probes.md; the
	// probe package compiles and validates it.
	checkDoc struct {
		Name             string            `yaml:"name"`
		Kind             string            `yaml:"kind"`
		Target           string            `yaml:"target"`
		Method           string            `yaml:"method"`
		Headers          map[string]string `yaml:"headers"`
		FollowRedirects  bool              `yaml:"follow_redirects"`
		Interval         time.Duration     `yaml:"interval"`
		Timeout          time.Duration     `yaml:"timeout"`
		Conditions       []string          `yaml:"conditions"`
		FailureThreshold int               `yaml:"failure_threshold"`
		SuccessThreshold int               `yaml:"success_threshold"`
		Meta             yamlx.Meta
	}
	hostDoc struct {
		Name       string
		Address    string            `yaml:"address"`
		User       string            `yaml:"user"`
		Datacenter string            `yaml:"datacenter"`
		Groups     []string          `yaml:"groups"`
		Labels     map[string]string `yaml:"labels"`
		LBServer   string            `yaml:"lb_server"`
		SSH        sshDoc            `yaml:"ssh"`
		Commands   commandsDoc       `yaml:"commands"`
		Checks     []checkDoc        `yaml:"checks"`
		Meta       yamlx.Meta

		// Filled in by fill: the address split from its port, and the
		// effective SSH settings and commands.
		host     string
		ssh      fleet.SSH
		commands fleet.Commands
	}
)

// parse is Parse with the home directory that ~/ stands for.
func parse(file string, data []byte, home string) (*fleet.Inventory, error) {
	var doc document
	decodeErr := yamlx.Decode(file, data, &doc)
	var decoded yamlx.Problems
	if decodeErr != nil {
		ps, ok := decodeErr.(yamlx.Problems)
		if !ok {
			return nil, fmt.Errorf("decode %s: %w", file, decodeErr)
		}
		if syntaxOnly(ps) {
			return nil, ps
		}
		decoded = ps
	}
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("resolve the directory of %s: %w", file, err)
	}
	c := newChecker(file, data, decoded)
	fill(&doc)
	c.validate(&doc)
	inv := build(&doc, c, dir, home)
	if ps := c.problems(); len(ps) > 0 {
		return nil, ps
	}
	return inv, nil
}

// syntaxOnly reports whether ps is a YAML syntax error: then nothing was
// decoded and validating the empty result would only add noise. Syntax
// errors are the only problems without a column.
func syntaxOnly(ps yamlx.Problems) bool {
	return slices.ContainsFunc(ps, func(p yamlx.Problem) bool { return p.Pos.Col == 0 })
}

// checker collects problems. A value the decoder already complained about is
// not reported a second time by validation.
type checker struct {
	file    string
	loc     *locator
	decoded yamlx.Problems
	found   yamlx.Problems
	taken   map[yamlx.Pos]bool
	said    map[yamlx.Problem]bool
}

func newChecker(file string, data []byte, decoded yamlx.Problems) *checker {
	c := &checker{file: file, loc: newLocator(data), decoded: decoded, taken: map[yamlx.Pos]bool{}, said: map[yamlx.Problem]bool{}}
	for _, p := range decoded {
		c.taken[p.Pos] = true
	}
	return c
}

// add records a problem, once: a default shared by many hosts is wrong in
// one place.
func (c *checker) add(pos yamlx.Pos, format string, args ...any) {
	p := yamlx.Problem{File: c.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	if c.taken[pos] || c.said[p] {
		return
	}
	c.said[p] = true
	c.found = append(c.found, p)
}

// broken reports whether the decoder already refused the value of one of
// keys: what validation would conclude from the missing value is noise.
func (c *checker) broken(m yamlx.Meta, keys ...string) bool {
	for _, k := range keys {
		if m.Has(k) && c.taken[m.At(k)] {
			return true
		}
	}
	return false
}

// problems returns every problem in file order.
func (c *checker) problems() yamlx.Problems {
	ps := append(slices.Clone(c.decoded), c.found...)
	slices.SortStableFunc(ps, func(a, b yamlx.Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return ps
}
