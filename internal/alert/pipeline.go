package alert

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// Notification is what one receiver is told about one group of alerts: the
// alerts firing, and those resolved since the last notification.
type Notification struct {
	Receiver string
	// GroupKey names the group among all others, as Alertmanager's does.
	GroupKey    string
	GroupLabels labels.Set
	At          time.Time
	Firing      []Alert
	Resolved    []Alert

	// route is the group's route, for Unsent; seq numbers it among the
	// notifications handed out and not yet settled.
	route *Route
	seq   uint64
}

// Status is firing while any alert of the group fires.
func (n *Notification) Status() Status {
	if len(n.Firing) > 0 {
		return StatusFiring
	}
	return StatusResolved
}

// Title is a one-line subject.
func (n *Notification) Title() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n.GroupLabels)) {
		if v := n.GroupLabels[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	head := "[RESOLVED]"
	if len(n.Firing) > 0 {
		head = "[FIRING:" + strconv.Itoa(len(n.Firing)) + "]"
	}
	return strings.TrimSpace(head + " " + strings.Join(parts, " "))
}

// Text says what is down and what came back, one alert a line.
func (n *Notification) Text() string {
	var b strings.Builder
	b.WriteString(n.Title())
	for _, a := range n.Firing {
		fmt.Fprintf(&b, "\ndown since %s: %s", a.StartsAt.UTC().Format(time.TimeOnly), a.Summary())
		if r := a.Annotations["reason"]; r != "" {
			b.WriteString(": failed " + r)
		}
	}
	for _, a := range n.Resolved {
		fmt.Fprintf(&b, "\nback at %s: %s", a.EndsAt.UTC().Format(time.TimeOnly), a.Summary())
	}
	return b.String()
}

// Pipeline routes, groups, folds and mutes alerts, and decides which
// notifications to send and when. It holds no clock: Flush is told the
// time. It is safe for concurrent use.
type Pipeline struct {
	mu      sync.Mutex
	route   *Route
	routeID map[*Route]int
	inhibit Inhibit
	grace   time.Duration
	topo    topology

	alerts map[string]*Alert // by fingerprint: received and folded
	groups map[string]*group
	// down holds the failure domains counted as down at the last Flush,
	// keyed by label name then value.
	down map[string]map[string]bool

	silences   []Silence
	silenceSeq int
	maint      map[string]Maintenance

	// out holds the notifications handed out by Flush and not yet
	// settled (Sent or Unsent), by seq: the saved state carries them, so
	// that a successor sends again what may not have arrived. resend are
	// those a restored state carried, for the next Flush to hand out
	// first.
	out    map[uint64]Notification
	outSeq uint64
	resend []Notification
}

type group struct {
	route  *Route
	labels labels.Set
	fps    map[string]bool
	// notified holds the alerts a receiver was told are firing: each gets
	// its resolved notice, whatever mutes it in between.
	notified   map[string]bool
	lastFiring []string
	lastSent   time.Time
	// next is the group's next flush; zero while it has nothing to say.
	next time.Time
}

type topology struct {
	dcHosts, siteHosts, groupHosts map[string][]string
	dcSite                         map[string]string
	hostGroups                     map[string][]string
}

func newTopology(inv *fleet.Inventory) topology {
	t := topology{
		dcHosts: map[string][]string{}, siteHosts: map[string][]string{}, groupHosts: map[string][]string{},
		dcSite: map[string]string{}, hostGroups: map[string][]string{},
	}
	if inv == nil {
		return t
	}
	for _, d := range inv.Datacenters {
		t.dcSite[d.Name] = d.Site
	}
	for _, h := range inv.Hosts {
		t.dcHosts[h.Datacenter] = append(t.dcHosts[h.Datacenter], h.Name)
		t.siteHosts[h.Site] = append(t.siteHosts[h.Site], h.Name)
		t.dcSite[h.Datacenter] = h.Site
	}
	for _, g := range inv.Groups {
		t.groupHosts[g.Name] = g.Members
		for _, m := range g.Members {
			t.hostGroups[m] = append(t.hostGroups[m], g.Name)
		}
	}
	return t
}

// New returns a pipeline for a loaded (defaulted) config and the fleet's
// topology.
func New(cfg *Config, inv *fleet.Inventory) *Pipeline {
	p := &Pipeline{
		route:   &cfg.Route,
		routeID: map[*Route]int{},
		inhibit: cfg.Inhibit,
		grace:   cfg.MaintenanceGrace,
		topo:    newTopology(inv),
		alerts:  map[string]*Alert{},
		groups:  map[string]*group{},
		down:    map[string]map[string]bool{},
		maint:   map[string]Maintenance{},
		out:     map[uint64]Notification{},
	}
	var number func(r *Route)
	number = func(r *Route) {
		p.routeID[r] = len(p.routeID)
		for _, c := range r.Routes {
			number(c)
		}
	}
	number(p.route)
	return p
}

// Receive takes a new alert, or the end of one. An end for an alert the
// pipeline does not hold is ignored.
func (p *Pipeline) Receive(a Alert) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.receive(a)
}

func (p *Pipeline) receive(a Alert) {
	fp := a.Labels.Fingerprint()
	old := p.alerts[fp]
	if !a.Firing() {
		if old != nil && old.Firing() {
			old.EndsAt = a.EndsAt
		}
		return
	}
	if old != nil && old.Firing() {
		old.Annotations = maps.Clone(a.Annotations)
		return
	}
	p.hold(fp, a)
}

// hold keeps a, under its fingerprint fp, in the groups of the routes that
// take it.
func (p *Pipeline) hold(fp string, a Alert) {
	a = a.clone()
	p.alerts[fp] = &a
	for _, r := range p.route.match(a.Labels) {
		p.group(r, a.Labels.Subset(r.GroupBy)).fps[fp] = true
	}
}

// group is route r's group for the group labels gl, made if need be.
func (p *Pipeline) group(r *Route, gl labels.Set) *group {
	key := strconv.Itoa(p.routeID[r]) + ":" + gl.Fingerprint()
	g := p.groups[key]
	if g == nil {
		g = &group{route: r, labels: gl, fps: map[string]bool{}, notified: map[string]bool{}}
		p.groups[key] = g
	}
	return g
}

// Flush folds and mutes the alerts as they stand at now and returns the
// notifications due, in a stable order, those a restored state carried
// first. Call it every second or so, and settle each notification it
// returns with Sent or Unsent once its receiver answered.
func (p *Pipeline) Flush(now time.Time) []Notification {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fold(now)
	out := p.resend
	p.resend = nil
	for _, key := range slices.Sorted(maps.Keys(p.groups)) {
		if n, ok := p.flush(key, p.groups[key], now); ok {
			out = append(out, n)
		}
	}
	p.collect()
	for i := range out {
		p.outSeq++
		out[i].seq = p.outSeq
		p.out[p.outSeq] = out[i]
	}
	return out
}

// Sent settles n, which its receiver accepted.
func (p *Pipeline) Sent(n Notification) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.out, n.seq)
}

func (p *Pipeline) flush(key string, g *group, now time.Time) (Notification, bool) {
	var firing, resolved []Alert
	for _, fp := range slices.Sorted(maps.Keys(g.fps)) {
		a := p.alerts[fp]
		switch {
		case a == nil:
			delete(g.fps, fp)
		case a.Firing() && !p.muted(a, now):
			firing = append(firing, p.present(a, now))
		case !a.Firing() && g.notified[fp]:
			resolved = append(resolved, a.clone())
		case !a.Firing():
			delete(g.fps, fp) // never told: nothing to take back
		}
	}
	if g.next.IsZero() {
		if len(firing) == 0 {
			if len(g.fps) == 0 {
				delete(p.groups, key)
			}
			return Notification{}, false
		}
		g.next = now.Add(g.route.GroupWait)
	}
	if now.Before(g.next) {
		return Notification{}, false
	}
	fps := make([]string, len(firing))
	for i := range firing {
		fps[i] = firing[i].Labels.Fingerprint()
	}
	slices.Sort(fps)
	slices.SortStableFunc(firing, byStart)
	slices.SortStableFunc(resolved, byStart)
	changed := !slices.Equal(fps, g.lastFiring) || len(resolved) > 0
	repeat := len(firing) > 0 && !now.Before(g.lastSent.Add(g.route.RepeatInterval))
	send := len(firing)+len(resolved) > 0 && (changed || repeat)
	g.lastFiring = fps
	var n Notification
	if send {
		n = Notification{
			Receiver: g.route.Receiver, GroupKey: g.route.Receiver + ":" + g.labels.String(),
			GroupLabels: maps.Clone(g.labels), At: now, Firing: firing, Resolved: resolved, route: g.route,
		}
		g.lastSent = now
		for _, fp := range fps {
			g.notified[fp] = true
		}
		for _, a := range resolved {
			fp := a.Labels.Fingerprint()
			delete(g.notified, fp)
			delete(g.fps, fp)
		}
	}
	g.next = now.Add(g.route.GroupInterval)
	if len(firing) == 0 && len(g.notified) == 0 {
		g.next = time.Time{}
		if len(g.fps) == 0 {
			delete(p.groups, key)
		}
	}
	return n, send
}

// byStart orders alerts as they began, then by host: the first to go down
// is often the cause.
func byStart(a, b Alert) int {
	return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.Labels[LabelHost], b.Labels[LabelHost]))
}

// collect forgets the ended alerts no group holds any more.
func (p *Pipeline) collect() {
	held := map[string]bool{}
	for _, g := range p.groups {
		for fp := range g.fps {
			held[fp] = true
		}
	}
	for fp, a := range p.alerts {
		if !a.Firing() && !held[fp] {
			delete(p.alerts, fp)
		}
	}
}

// present is the alert as a receiver sees it: one that outlived a
// rollout's maintenance names the rollout.
func (p *Pipeline) present(a *Alert, now time.Time) Alert {
	c := a.clone()
	if m, ok := p.overstayed(a, now); ok {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations["rollout"] = m.Rollout
		c.Annotations["step"] = m.Step
		c.Annotations["summary"] = c.Summary() + fmt.Sprintf(" (not back %s after rollout %s took it down in step %s)", p.grace, m.Rollout, m.Step)
	}
	return c
}

func (p *Pipeline) muted(a *Alert, now time.Time) bool {
	return p.inhibited(a) || p.silenced(a, now) || a.Labels[LabelHost] != "" && p.inMaintenance(a, now)
}

// inhibited reports whether a is folded into the alert of a failure domain
// that holds it.
func (p *Pipeline) inhibited(a *Alert) bool {
	l := a.Labels
	switch l[LabelAlertname] {
	case SiteDown, GroupDown:
		return false
	case DatacenterDown:
		return p.down[LabelSite][l[LabelSite]]
	}
	h := l[LabelHost]
	if h == "" {
		return false
	}
	if p.down[LabelSite][l[LabelSite]] || p.down[LabelDatacenter][l[LabelDatacenter]] {
		return true
	}
	return slices.ContainsFunc(p.topo.hostGroups[h], func(g string) bool { return p.down[LabelGroup][g] })
}
