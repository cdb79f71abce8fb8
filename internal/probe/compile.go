package probe

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// CheckProblem is one thing wrong with a check, at one of its keys, so that
// the inventory loader can point at the line: Key is the check's key, and
// Index the item of conditions, or -1.
type CheckProblem struct {
	Key   string
	Index int
	Msg   string
}

// CheckProblems is every problem of one check; it is the error Compile
// returns.
type CheckProblems []CheckProblem

func (ps CheckProblems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Msg
	}
	return strings.Join(msgs, "; ")
}

func (ps *CheckProblems) add(key string, index int, format string, args ...any) {
	*ps = append(*ps, CheckProblem{Key: key, Index: index, Msg: fmt.Sprintf(format, args...)})
}

// Compile turns a check of the inventory into a probe definition with every
// default applied (docs/probes.md); interval is the one the check takes
// when it sets none, the timeout then staying within it. It returns
// CheckProblems when the check is wrong, all of them at once.
func Compile(c fleet.Check, interval time.Duration) (*Definition, error) {
	d := &Definition{
		Name: c.Name, Kind: Kind(c.Kind), Target: c.Target, Method: c.Method, Headers: c.Headers,
		FollowRedirects: c.FollowRedirects, Interval: c.Interval, Timeout: c.Timeout,
		FailureThreshold: c.FailureThreshold, SuccessThreshold: c.SuccessThreshold,
	}
	var ps CheckProblems
	known := slices.Contains(kinds, string(d.Kind))
	switch {
	case d.Kind == "":
		ps.add("kind", -1, "kind is missing (one of %s)", strings.Join(kinds, ", "))
	case !known:
		ps.add("kind", -1, "%s", unknownKind(string(d.Kind)))
	default:
		target(d, &ps)
	}
	if d.Kind != KindHTTP && known {
		for _, f := range []struct {
			key string
			set bool
		}{{"method", d.Method != ""}, {"headers", len(d.Headers) > 0}, {"follow_redirects", d.FollowRedirects}} {
			if f.set {
				ps.add(f.key, -1, "%s is for http checks only", f.key)
			}
		}
	}
	if d.Method != "" && !isToken(d.Method) {
		ps.add("method", -1, "method %q is not an HTTP method (like GET or HEAD)", d.Method)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Headers)) {
		if !isToken(k) {
			ps.add("headers", -1, "header name %q is not valid", k)
		}
		if strings.ContainsAny(d.Headers[k], "\r\n") {
			ps.add("headers", -1, "header %s spans lines", k)
		}
	}
	if d.Interval != 0 && d.Interval < time.Second {
		ps.add("interval", -1, "interval %s is shorter than 1s", d.Interval)
	}
	if d.Timeout < 0 {
		ps.add("timeout", -1, "timeout must be more than 0s")
	}
	if d.Interval != 0 && d.Timeout > d.Interval {
		ps.add("timeout", -1, "timeout %s is longer than the interval %s", d.Timeout, d.Interval)
	}
	if d.FailureThreshold < 0 {
		ps.add("failure_threshold", -1, "failure_threshold must be 1 or more")
	}
	if d.SuccessThreshold < 0 {
		ps.add("success_threshold", -1, "success_threshold must be 1 or more")
	}
	for i, src := range c.Conditions {
		cond, err := ParseCondition(src)
		if err != nil {
			ps.add("conditions", i, "condition %q, %v", src, err)
			continue
		}
		if known && !slices.Contains(subjectKinds[cond.Subject], d.Kind) {
			ps.add("conditions", i, "condition %q: %s check does not observe [%s]", cond.source, article(d.Kind), cond.Subject)
		}
		d.Conditions = append(d.Conditions, cond)
	}
	if len(ps) > 0 {
		return nil, ps
	}
	if d.Interval == 0 {
		d.Interval = interval
		d.Timeout = min(d.Timeout, interval)
	}
	d.SetDefaults()
	return d, nil
}

// article is the kind with its indefinite article: an http check, a tcp check.
func article(k Kind) string {
	if k == KindHTTP {
		return "an " + string(k)
	}
	return "a " + string(k)
}

func unknownKind(s string) string {
	if g := closestName(s, kinds); g != "" {
		return fmt.Sprintf("unknown check kind %q (did you mean %q?)", s, g)
	}
	return fmt.Sprintf("unknown check kind %q (known: %s)", s, strings.Join(kinds, ", "))
}

// target checks the target of a check of a known kind.
func target(d *Definition, ps *CheckProblems) {
	if d.Kind == KindSSH {
		if d.Target != "" {
			ps.add("target", -1, "an ssh check has no target: it asks the host itself for its boot id")
		}
		return
	}
	if strings.TrimSpace(d.Target) == "" {
		what := map[Kind]string{KindHTTP: "an http:// or https:// URL", KindTCP: "host:port", KindCommand: "the command to run on the host"}[d.Kind]
		ps.add("target", -1, "%s check needs a target: %s", article(d.Kind), what)
		return
	}
	if err := checkPlaceholders(d.Target); err != nil {
		ps.add("target", -1, "%v", err)
		return
	}
	what := map[Kind]string{KindHTTP: "an http:// or https:// URL", KindTCP: "host:port"}[d.Kind]
	if what == "" {
		return // a command is the shell's to read
	}
	for _, h := range sampleHosts {
		got := h.Expand(d.Target)
		if wellFormed(d.Kind, got) {
			continue
		}
		if !strings.Contains(h.Address, ":") {
			ps.add("target", -1, "target %q is not %s", d.Target, what)
			return
		}
		hint := ""
		if strings.Contains(d.Target, "${address_bare}") {
			hint = ": write ${address}, which puts an IPv6 address in brackets"
		}
		ps.add("target", -1, "target %q is not %s for a host with an IPv6 address (%s gives %q)%s", d.Target, what, h.Address, got, hint)
		return
	}
}

// sampleHosts stand for every host a check may apply to, its address being
// a name, an IPv4 or an IPv6 address: a target must be well formed on each.
var sampleHosts = []*fleet.Host{
	{Name: "web-01", Address: "web-01.example.net"},
	{Name: "web-01", Address: "192.0.2.10"},
	{Name: "web-01", Address: "2001:db8::10"},
}

// wellFormed reports whether target, expanded for a host, is read by the
// prober as what its kind needs: net/http's URL parser for http, the
// dialer's host:port for tcp.
func wellFormed(k Kind, target string) bool {
	switch k {
	case KindHTTP:
		u, err := url.Parse(target)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	case KindTCP:
		host, port, err := net.SplitHostPort(target)
		n, perr := strconv.Atoi(port)
		return err == nil && host != "" && perr == nil && n >= 1 && n <= 65535
	}
	return true
}

// checkPlaceholders says what is wrong with the placeholders of a target:
// one that is not closed, or not known.
func checkPlaceholders(s string) error {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return fmt.Errorf("placeholder %q has no closing }", s[i:])
		}
		if name := s[i+2 : i+j]; !slices.Contains(fleet.Placeholders, name) {
			return unknownPlaceholder(name)
		}
		s = s[i+j+1:]
	}
}

func unknownPlaceholder(name string) error {
	if guess := closestName(name, fleet.Placeholders); guess != "" {
		return fmt.Errorf("unknown placeholder ${%s} (did you mean ${%s}?)", name, guess)
	}
	known := make([]string, len(fleet.Placeholders))
	for i, p := range fleet.Placeholders {
		known[i] = "${" + p + "}"
	}
	return errors.New("unknown placeholder ${" + name + "} (known: " + strings.Join(known, ", ") + ")")
}

// isToken reports whether s is an HTTP token (RFC 9110), as method and
// header names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// SSHProbe names the probe every host gets unless one of its checks is of
// kind ssh: the host answers over SSH with its boot id.
const SSHProbe = "ssh"

// HostTargets is every probe of host h: its groups' checks, then its own,
// each compiled with interval as the default, and the ssh probe unless one
// of them is of kind ssh. A check met again under the same name (a group's
// check shared with another through a YAML anchor) is one probe. A check
// that does not compile, or that has the name of another, is left out and
// said in the error: the inventory loader refuses both, so only an
// inventory built in code has them.
func HostTargets(inv *fleet.Inventory, h *fleet.Host, interval time.Duration) ([]Target, error) {
	var out []Target
	var errs []error
	seen := map[string]fleet.Check{}
	ssh := false
	add := func(c fleet.Check, owner string) {
		d, err := Compile(c, interval)
		if err != nil {
			errs = append(errs, fmt.Errorf("check %s of %s: %w", c.Name, owner, err))
			return
		}
		if first, ok := seen[d.Name]; ok {
			if !reflect.DeepEqual(first, c) {
				errs = append(errs, fmt.Errorf("check %s of %s: host %s has another check of that name", c.Name, owner, h.Name))
			}
			return
		}
		seen[d.Name] = c
		ssh = ssh || d.Kind == KindSSH
		out = append(out, d.Expand(h))
	}
	for _, name := range h.Groups {
		if g := inv.Group(name); g != nil {
			for _, c := range g.Checks {
				add(c, "group "+g.Name)
			}
		}
	}
	for _, c := range h.Checks {
		add(c, "host "+h.Name)
	}
	if !ssh && seen[SSHProbe].Kind == "" {
		d := &Definition{Name: SSHProbe, Kind: KindSSH, Interval: interval}
		d.SetDefaults()
		out = append(out, d.Expand(h))
	}
	return out, errors.Join(errs...)
}
