package probe

import (
	"net/http"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Kind is the kind of a probe.
type Kind string

const (
	KindHTTP    = Kind(fleet.CheckHTTP)
	KindTCP     = Kind(fleet.CheckTCP)
	KindSSH     = Kind(fleet.CheckSSH)
	KindCommand = Kind(fleet.CheckCommand)
)

var kinds = []string{string(KindHTTP), string(KindTCP), string(KindSSH), string(KindCommand)}

func closestName(s string, names []string) string { return yamlx.Closest(s, names) }

// Defaults for what a check leaves out. DefaultInterval is the daemon's,
// which its configuration may change: Compile takes the one in force.
const (
	DefaultInterval         = 10 * time.Second
	DefaultTimeout          = 5 * time.Second
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 1
)

// Definition is a probe ready to run, before it is applied to hosts: a
// check of the inventory compiled (see Compile), or the ssh probe every
// host gets.
type Definition struct {
	Name string
	Kind Kind
	// Target is a URL (http), host:port (tcp) or shell command (command),
	// with its placeholders filled in per host (fleet.Host.Expand). An ssh
	// probe has none: its target is the host.
	Target          string
	Method          string
	Headers         map[string]string
	FollowRedirects bool
	Interval        time.Duration
	Timeout         time.Duration
	Conditions      []Condition
	// FailureThreshold is how many failures in a row take an up target
	// down; SuccessThreshold how many successes in a row bring it back.
	FailureThreshold int
	SuccessThreshold int
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
	return Target{ID: d.Name + "@" + h.Name, Def: d, Host: h, Target: h.Expand(d.Target)}
}
