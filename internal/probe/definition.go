package probe

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Kind is the kind of a probe.
type Kind string

const (
	KindHTTP    Kind = "http"
	KindTCP     Kind = "tcp"
	KindSSH     Kind = "ssh"
	KindCommand Kind = "command"
)

var kinds = []string{string(KindHTTP), string(KindTCP), string(KindSSH), string(KindCommand)}

// UnmarshalText refuses an unknown kind when the file is loaded.
func (k *Kind) UnmarshalText(b []byte) error {
	s := string(b)
	if !slices.Contains(kinds, s) {
		if g := closestName(s, kinds); g != "" {
			return fmt.Errorf("unknown probe kind %q (did you mean %q?)", s, g)
		}
		return fmt.Errorf("unknown probe kind %q (known: %s)", s, strings.Join(kinds, ", "))
	}
	*k = Kind(s)
	return nil
}

func closestName(s string, names []string) string { return yamlx.Closest(s, names) }

// Defaults for what a definition leaves out.
const (
	DefaultInterval         = 30 * time.Second
	DefaultTimeout          = 5 * time.Second
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 1
)

// Definition is a probe as an operator writes it, before it is applied to
// hosts. Its fields are tagged for yamlx, so an inventory or a probes file
// can hold definitions directly.
type Definition struct {
	Name string `yaml:"name"`
	// Hosts is a selector (docs/inventory.md); only a standalone probes
	// file uses it, as a definition in an inventory belongs to its group
	// or host.
	Hosts string `yaml:"hosts"`
	Kind  Kind   `yaml:"kind"`
	// Target is a URL (http), host:port (tcp) or shell command (command),
	// with ${address} and ${name} filled in per host. An ssh probe has none:
	// its target is the host.
	Target          string            `yaml:"target"`
	Method          string            `yaml:"method"`
	Headers         map[string]string `yaml:"headers"`
	FollowRedirects bool              `yaml:"follow_redirects"`
	Interval        time.Duration     `yaml:"interval"`
	Timeout         time.Duration     `yaml:"timeout"`
	Conditions      []Condition       `yaml:"conditions"`
	// FailureThreshold is how many failures in a row take an up target
	// down; SuccessThreshold how many successes in a row bring it back.
	FailureThreshold int `yaml:"failure_threshold"`
	SuccessThreshold int `yaml:"success_threshold"`

	Meta yamlx.Meta
}

// SetDefaults fills in what the definition leaves out (docs/probes.md).
func (d *Definition) SetDefaults() {
	if d.Name == "" {
		d.Name = string(d.Kind)
	}
	if d.Interval == 0 {
		d.Interval = DefaultInterval
	}
	if d.Timeout == 0 {
		d.Timeout = min(DefaultTimeout, d.Interval)
	}
	if d.FailureThreshold == 0 {
		d.FailureThreshold = DefaultFailureThreshold
	}
	if d.SuccessThreshold == 0 {
		d.SuccessThreshold = DefaultSuccessThreshold
	}
	if d.Kind == KindHTTP && d.Method == "" {
		d.Method = http.MethodGet
	}
	if len(d.Conditions) == 0 {
		d.Conditions = []Condition{defaultCondition(d.Kind)}
	}
}

func defaultCondition(k Kind) Condition {
	src := map[Kind]string{
		KindHTTP:    "[STATUS] == 200",
		KindCommand: "[EXIT_CODE] == 0",
	}[k]
	if src == "" {
		src = "[CONNECTED] == true"
	}
	c, _ := ParseCondition(src) // constant text that parses
	return c
}

var placeholderRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// Validate adds every problem of a defaulted definition to ps, at its place
// in file.
func (d *Definition) Validate(file string, ps *yamlx.Problems) {
	at := d.Meta.At
	if d.Kind == "" {
		if d.Meta.Has("kind") {
			return // the decoder has said what is wrong with it
		}
		ps.Add(file, d.Meta.Pos(), "probe %q has no kind (one of %s)", d.Name, strings.Join(kinds, ", "))
		return
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(d.Target, -1) {
		if !slices.Contains(fleet.Placeholders, m[1]) {
			ps.Add(file, at("target"), "unknown placeholder ${%s} (known: ${address}, ${name})", m[1])
		}
	}
	sample := d.Expand(&fleet.Host{Name: "h", Address: "192.0.2.1"}).Target
	switch d.Kind {
	case KindHTTP:
		u, err := url.Parse(sample)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.Add(file, at("target"), "target %q is not an http:// or https:// URL", d.Target)
		}
	case KindTCP:
		if _, port, err := net.SplitHostPort(sample); err != nil || port == "" {
			ps.Add(file, at("target"), "target %q is not host:port", d.Target)
		}
	case KindSSH:
		if d.Target != "" {
			ps.Add(file, at("target"), "an ssh probe has no target: it asks the host itself for its boot id")
		}
	case KindCommand:
		if strings.TrimSpace(d.Target) == "" {
			ps.Add(file, at("target"), "a command probe needs the command to run as its target")
		}
	}
	if d.Kind != KindHTTP {
		for _, key := range []string{"method", "headers", "follow_redirects"} {
			if d.Meta.Has(key) {
				ps.Add(file, at(key), "%s is for http probes only", key)
			}
		}
	}
	if d.Timeout > d.Interval {
		ps.Add(file, at("timeout"), "timeout %s is longer than the interval %s", d.Timeout, d.Interval)
	}
	if d.Interval < time.Second {
		ps.Add(file, at("interval"), "interval %s is shorter than 1s", d.Interval)
	}
	if d.FailureThreshold < 0 {
		ps.Add(file, at("failure_threshold"), "failure_threshold must be 1 or more")
	}
	if d.SuccessThreshold < 0 {
		ps.Add(file, at("success_threshold"), "success_threshold must be 1 or more")
	}
	for _, c := range d.Conditions {
		if c.Subject == "" {
			continue // did not parse, and the decoder has said why
		}
		if !slices.Contains(subjectKinds[c.Subject], d.Kind) {
			ps.Add(file, at("conditions"), "condition %q: a %s probe does not observe [%s]", c.source, d.Kind, c.Subject)
		}
	}
}

// Target is a definition applied to one host.
type Target struct {
	// ID names the target among all others: the definition's name and the
	// host's, as "name@host".
	ID   string
	Def  *Definition
	Host *fleet.Host
	// Target is the definition's target with the host's placeholders filled in.
	Target string
}

// Expand applies the definition to host h.
func (d *Definition) Expand(h *fleet.Host) Target {
	r := strings.NewReplacer("${address}", h.Address, "${name}", h.Name)
	return Target{ID: d.Name + "@" + h.Name, Def: d, Host: h, Target: r.Replace(d.Target)}
}

// File is a standalone probes file.
type File struct {
	Probes []Definition `yaml:"probes"`
}

// Parse reads a standalone probes file (docs/probes.md), the contents of
// file, applies the defaults and validates every definition. Problems come
// back as yamlx.Problems with file:line:col. Selectors are not resolved
// here: that needs the inventory (see Targets).
func Parse(file string, data []byte) ([]*Definition, error) {
	var f File
	err := yamlx.Decode(file, data, &f)
	var ps yamlx.Problems
	if !errors.As(err, &ps) && err != nil {
		return nil, err
	}
	seen := map[string]*Definition{}
	defs := make([]*Definition, len(f.Probes))
	for i := range f.Probes {
		d := &f.Probes[i]
		defs[i] = d
		d.SetDefaults()
		d.Validate(file, &ps)
		if strings.TrimSpace(d.Hosts) == "" {
			ps.Add(file, d.Meta.Pos(), "probe %q has no hosts (a selector, like web-01 or datacenter=gra)", d.Name)
		}
		if first, ok := seen[d.Name]; ok {
			ps.Add(file, d.Meta.At("name"), "probe name %q is used twice (first on line %d)", d.Name, first.Meta.Pos().Line)
			continue
		}
		seen[d.Name] = d
	}
	if err := ps.Err(); err != nil {
		return nil, err
	}
	return defs, nil
}

// Targets applies each definition to the hosts its selector picks, with
// selectFn resolving a selector (inventory.Select bound to an inventory).
func Targets(defs []*Definition, selectFn func(selector string) ([]*fleet.Host, error)) ([]Target, error) {
	var out []Target
	var errs []error
	for _, d := range defs {
		hosts, err := selectFn(d.Hosts)
		if err != nil {
			errs = append(errs, fmt.Errorf("probe %q: %w", d.Name, err))
			continue
		}
		for _, h := range hosts {
			out = append(out, d.Expand(h))
		}
	}
	return out, errors.Join(errs...)
}
