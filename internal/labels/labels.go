// Package labels holds the name=value labels that identify alerts, and the
// matchers that select them as Alertmanager's do: a route's or a silence's
// in the alerting, a plan's pause_on_alerts in the rollouts. It imports only
// the standard library, so that a plan can check its matchers without
// linking the alerting.
package labels

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Set is the labels of one thing, by name: what identifies an alert, and
// what matchers and grouping look at.
type Set map[string]string

// Fingerprint identifies the set in one string, the same whatever the
// order its labels were set in.
func (l Set) Fingerprint() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		b.WriteString(k)
		b.WriteByte(0xff)
		b.WriteString(l[k])
		b.WriteByte(0xfe)
	}
	return b.String()
}

// Subset is the labels named in names, those missing included as "".
func (l Set) Subset(names []string) Set {
	out := make(Set, len(names))
	for _, n := range names {
		out[n] = l[n]
	}
	return out
}

func (l Set) String() string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+strconv.Quote(l[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
