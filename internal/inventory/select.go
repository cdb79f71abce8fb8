package inventory

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/yamlx"
)

// Select returns the hosts a selector picks, in inventory order; "" selects all.
//
// A selector is terms separated by commas (docs/inventory.md): a host or
// group name or glob, datacenter=NAME, site=NAME or label.KEY=VALUE, each
// optionally prefixed by ! (remove) or & (intersect). A selector that starts
// with ! or & starts from every host. A term that selects no host, and a
// selector that ends up with none, are errors: a typo must not silently
// shrink a rollout.
func Select(inv *fleet.Inventory, selector string) ([]*fleet.Host, error) {
	if strings.TrimSpace(selector) == "" {
		return slices.Clone(inv.Hosts), nil
	}
	picked := make([]bool, len(inv.Hosts))
	for i, raw := range strings.Split(selector, ",") {
		term := strings.TrimSpace(raw)
		op := byte(0)
		if term != "" && (term[0] == '!' || term[0] == '&') {
			op, term = term[0], strings.TrimSpace(term[1:])
		}
		if term == "" {
			return nil, fleet.Errorf(fleet.KindInvalid, "selector %q: term %d is empty", selector, i+1)
		}
		hits, err := match(inv, term)
		if err != nil {
			return nil, fleet.Errorf(fleet.KindInvalid, "selector %q: %v", selector, err)
		}
		if i == 0 && op != 0 {
			for j := range picked {
				picked[j] = true
			}
		}
		for j, hit := range hits {
			switch op {
			case 0:
				picked[j] = picked[j] || hit
			case '!':
				picked[j] = picked[j] && !hit
			case '&':
				picked[j] = picked[j] && hit
			}
		}
	}
	var hosts []*fleet.Host
	for j, h := range inv.Hosts {
		if picked[j] {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, fleet.Errorf(fleet.KindInvalid, "selector %q selects no host", selector)
	}
	return hosts, nil
}

// match returns, for each host of inv, whether term selects it. A term
// that selects nothing is an error.
func match(inv *fleet.Inventory, term string) ([]bool, error) {
	if key, value, ok := strings.Cut(term, "="); ok {
		return matchAttribute(inv, term, key, value)
	}
	if err := checkGlob(term); err != nil {
		return nil, err
	}
	hits, found := hitsOf(inv, func(h *fleet.Host) bool {
		return glob(term, h.Name) || slices.ContainsFunc(h.Groups, func(g string) bool { return glob(term, g) })
	})
	if found {
		return hits, nil
	}
	var names []string
	for _, h := range inv.Hosts {
		names = append(names, h.Name)
	}
	for _, g := range inv.Groups {
		names = append(names, g.Name)
	}
	if isGlob(term) {
		return nil, fmt.Errorf("no host or group matches %q", term)
	}
	if g := inv.Group(term); g != nil {
		return nil, fmt.Errorf("group %s has no member", term)
	}
	return nil, fmt.Errorf("%s", unknownName("host or group", term, names, "hosts or groups"))
}

func matchAttribute(inv *fleet.Inventory, term, key, value string) ([]bool, error) {
	if err := checkGlob(value); err != nil {
		return nil, err
	}
	var attr func(*fleet.Host) (string, bool)
	var what string
	switch {
	case key == "datacenter":
		what, attr = "datacenter", func(h *fleet.Host) (string, bool) { return h.Datacenter, true }
	case key == "site":
		what, attr = "site", func(h *fleet.Host) (string, bool) { return h.Site, true }
	case strings.HasPrefix(key, "label.") && len(key) > len("label."):
		label := strings.TrimPrefix(key, "label.")
		what = "label " + label
		attr = func(h *fleet.Host) (string, bool) {
			v, ok := h.Labels[label]
			return v, ok
		}
	default:
		msg := fmt.Sprintf("unknown term %q: a term is a host or group name or glob, datacenter=NAME, site=NAME or label.KEY=VALUE", term)
		if guess := yamlx.Closest(key, []string{"datacenter", "site", "label"}); guess != "" {
			msg += fmt.Sprintf(" (did you mean %s=?)", guess)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	hits, found := hitsOf(inv, func(h *fleet.Host) bool {
		v, ok := attr(h)
		return ok && glob(value, v)
	})
	if found {
		return hits, nil
	}
	var known []string
	for _, h := range inv.Hosts {
		if v, ok := attr(h); ok && !slices.Contains(known, v) {
			known = append(known, v)
		}
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("term %q: no host has a %s", term, what)
	}
	if guess := yamlx.Closest(value, known); guess != "" && !isGlob(value) {
		return nil, fmt.Errorf("term %q: no host has %s %s (did you mean %s=%s?)", term, what, value, key, guess)
	}
	return nil, fmt.Errorf("term %q: no host has %s %s (hosts have: %s)", term, what, value, strings.Join(known, ", "))
}

func hitsOf(inv *fleet.Inventory, pick func(*fleet.Host) bool) ([]bool, bool) {
	hits := make([]bool, len(inv.Hosts))
	found := false
	for i, h := range inv.Hosts {
		hits[i] = pick(h)
		found = found || hits[i]
	}
	return hits, found
}

func isGlob(s string) bool { return strings.ContainsAny(s, "*?[\\") }

func checkGlob(pattern string) error {
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("%q is not a valid glob pattern", pattern)
	}
	return nil
}

// glob matches s against pattern, a shell glob (*, ?, [a-z]); a pattern
// without those is a plain name.
func glob(pattern, s string) bool {
	if !isGlob(pattern) {
		return pattern == s
	}
	ok, _ := path.Match(pattern, s)
	return ok
}
