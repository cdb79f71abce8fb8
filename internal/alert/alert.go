// Package alert turns probe state changes into few, useful notifications,
// in the spirit of Alertmanager's pipeline: alerts are routed by label
// matchers to receivers, grouped by failure domain, folded along the
// topology (a lost datacenter is one alert, not one per host), muted by
// manual silences and by rollouts that take hosts down on purpose, then sent
// by receivers behind one small interface.
//
// The pipeline is pure: it is fed alerts and the time, and answers with the
// notifications to send; a caller delivers them. Tests drive it with a
// clock of their own.
package alert

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/probe"
)

// Label names illico sets on its alerts.
const (
	LabelAlertname  = "alertname"
	LabelHost       = "host"
	LabelGroup      = "group"
	LabelDatacenter = "datacenter"
	LabelSite       = "site"
	LabelProbe      = "probe"
)

// Alert names illico raises.
const (
	ProbeDown      = "ProbeDown"
	DatacenterDown = "DatacenterDown"
	SiteDown       = "SiteDown"
	GroupDown      = "GroupDown"
)

// Status is whether an alert, or a notification, is firing or resolved.
type Status string

const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Alert is one thing wrong, or that was wrong. An alert with a zero EndsAt
// is firing.
type Alert struct {
	Labels labels.Set
	// Annotations say it in words: summary, reason, target, rollout.
	Annotations map[string]string
	StartsAt    time.Time
	EndsAt      time.Time
}

// Firing reports whether the alert has not ended.
func (a *Alert) Firing() bool { return a.EndsAt.IsZero() }

// Status is the alert's status.
func (a *Alert) Status() Status {
	if a.Firing() {
		return StatusFiring
	}
	return StatusResolved
}

// Summary is the alert's summary annotation, or its labels.
func (a *Alert) Summary() string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	return a.Labels[LabelAlertname] + " " + a.Labels.String()
}

func (a Alert) clone() Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Annotations = maps.Clone(a.Annotations)
	return a
}

// FromChange is the alert a probe's state change raises or resolves, with
// the host's place in the topology taken from inv (the target's own host
// when inv does not know it). A target going up for the first time raises
// nothing, hence ok false.
func FromChange(c probe.Change, inv *fleet.Inventory) (a Alert, ok bool) {
	if c.Target == nil || c.Target.Host == nil || c.Target.Def == nil {
		return Alert{}, false
	}
	h := c.Target.Host
	if inv != nil {
		if known := inv.Host(h.Name); known != nil {
			h = known
		}
	}
	a = Alert{
		Labels: labels.Set{
			LabelAlertname:  ProbeDown,
			LabelHost:       h.Name,
			LabelDatacenter: h.Datacenter,
			LabelSite:       h.Site,
			LabelGroup:      strings.Join(slices.Sorted(slices.Values(h.Groups)), ","),
			LabelProbe:      c.Target.Def.Name,
		},
		Annotations: map[string]string{
			"summary": "probe " + c.Target.Def.Name + " on " + h.Name,
			"target":  c.Target.Target,
		},
	}
	switch {
	case c.To == probe.StateDown:
		a.StartsAt = c.At
		if c.Reason != "" {
			a.Annotations["reason"] = c.Reason
		}
	case c.From == probe.StateDown:
		a.EndsAt = c.At
	default:
		return Alert{}, false
	}
	return a, true
}
