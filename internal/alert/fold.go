package alert

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// listed bounds the host names an alert of a failure domain lists: the
// count says the rest.
const listed = 10

// fold raises, updates and resolves the alerts of the datacenters, sites
// and groups that are down at now, and records which are, for inhibited.
//
// A domain goes down when enough of its hosts are (Inhibit) and comes back
// only when fewer than half that many still are: without this hysteresis a
// datacenter healing host by host would, for a moment, stop folding the
// hosts still down, and each would alert on its own.
func (p *Pipeline) fold(now time.Time) {
	down := map[string]time.Time{} // host → when its first alert began
	for _, a := range p.alerts {
		h := a.Labels[LabelHost]
		if h == "" || !a.Firing() || p.inMaintenance(a, now) {
			continue // a host a rollout took down is not a sign of a lost datacenter
		}
		if t, ok := down[h]; !ok || a.StartsAt.Before(t) {
			down[h] = a.StartsAt
		}
	}
	in := p.inhibit
	p.down = map[string]map[string]bool{
		LabelSite: p.foldKind(now, down, LabelSite, SiteDown, p.topo.siteHosts, in.SiteDown, in.MinHosts),
		LabelDatacenter: p.foldKind(now, down, LabelDatacenter, DatacenterDown, p.topo.dcHosts,
			in.DatacenterDown, in.MinHosts),
		LabelGroup: p.foldKind(now, down, LabelGroup, GroupDown, p.topo.groupHosts, in.GroupDown, 1),
	}
}

func (p *Pipeline) foldKind(now time.Time, down map[string]time.Time, label, name string,
	domains map[string][]string, q fleet.Quantity, minHosts int) map[string]bool {
	out := map[string]bool{}
	for _, d := range slices.Sorted(maps.Keys(domains)) {
		hosts := domains[d]
		var names []string
		var since time.Time
		for _, h := range hosts {
			if t, ok := down[h]; ok {
				names = append(names, h)
				if since.IsZero() || t.Before(since) {
					since = t
				}
			}
		}
		ls := labels.Set{LabelAlertname: name, label: d}
		if label == LabelDatacenter {
			ls[LabelSite] = p.topo.dcSite[d]
		}
		cur := p.alerts[ls.Fingerprint()]
		firing := cur != nil && cur.Firing()
		need := max(minHosts, q.Of(len(hosts)), 1)
		if len(names) < need && !(firing && len(names) >= max(1, need/2)) {
			if firing {
				cur.EndsAt = now
				cur.Annotations = domainNotes(label, d, ls[LabelSite], names, len(hosts), true)
			}
			continue
		}
		out[d] = true
		p.receive(Alert{Labels: ls, Annotations: domainNotes(label, d, ls[LabelSite], names, len(hosts), false), StartsAt: since})
	}
	return out
}

func domainNotes(label, name, site string, down []string, total int, back bool) map[string]string {
	where := label + " " + name
	if site != "" {
		where += " (site " + site + ")"
	}
	shown := down[:min(len(down), listed)]
	hosts := strings.Join(shown, ", ")
	if more := len(down) - len(shown); more > 0 {
		hosts += fmt.Sprintf(" and %d more", more)
	}
	summary := fmt.Sprintf("%s is down: %d of %d hosts down: %s", where, len(down), total, hosts)
	if back {
		summary = where + " is back"
		if len(down) > 0 {
			summary += fmt.Sprintf(", %d of %d hosts still down: %s", len(down), total, hosts)
		}
	}
	return map[string]string{
		"summary": summary,
		"hosts":   strings.Join(down, ","),
	}
}
