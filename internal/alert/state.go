package alert

import (
	"maps"
	"slices"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// State is what a pipeline keeps across a restart of the daemon, so that
// it neither pages again for the alerts it told of nor forgets their
// resolved notices: the alerts it holds (firing, or ended and owed a
// resolved notice) and, for each group that told its receiver of firing
// alerts, which ones and when it last sent. Silences are kept on their own,
// and maintenances come back from the rollouts.
//
// Pending are the notifications handed out and not yet settled when the
// state was taken: whether they reached their receivers is not known, so
// a pipeline that restores the state sends them again, as they were. A
// daemon killed before a receiver answered does not lose the page; one
// killed between the answer and the next save sends it twice, the window
// of one write to the store.
type State struct {
	Alerts  []Alert         `json:"alerts"`
	Groups  []GroupRecord   `json:"groups"`
	Pending []PendingRecord `json:"pending,omitempty"`
}

// PendingRecord is a notification on its way to its receiver.
type PendingRecord struct {
	Route       int        `json:"route"`
	Receiver    string     `json:"receiver"`
	GroupKey    string     `json:"group_key"`
	GroupLabels labels.Set `json:"group_labels"`
	At          time.Time  `json:"at"`
	Firing      []Alert    `json:"firing"`
	Resolved    []Alert    `json:"resolved"`
}

// GroupRecord is what a group told its receiver. Notified and LastFiring
// index State.Alerts.
type GroupRecord struct {
	// Route numbers the group's route in the routing tree, depth first;
	// Receiver checks that the tree has not changed under it.
	Route      int        `json:"route"`
	Receiver   string     `json:"receiver"`
	Labels     labels.Set `json:"labels"`
	Notified   []int      `json:"notified"`
	LastFiring []int      `json:"last_firing,omitempty"`
	LastSent   time.Time  `json:"last_sent"`
}

// State returns the pipeline's state, to be restored after a restart.
func (p *Pipeline) State() State {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := State{Alerts: []Alert{}, Groups: []GroupRecord{}}
	index := map[string]int{}
	keep := func(fp string) (int, bool) {
		if i, ok := index[fp]; ok {
			return i, true
		}
		a := p.alerts[fp]
		if a == nil {
			return 0, false
		}
		index[fp] = len(st.Alerts)
		st.Alerts = append(st.Alerts, a.clone())
		return index[fp], true
	}
	for _, fp := range slices.Sorted(maps.Keys(p.alerts)) {
		if p.alerts[fp].Firing() {
			keep(fp)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(p.groups)) {
		g := p.groups[key]
		if len(g.notified) == 0 {
			continue
		}
		rec := GroupRecord{Route: p.routeID[g.route], Receiver: g.route.Receiver, Labels: maps.Clone(g.labels),
			Notified: []int{}, LastSent: g.lastSent}
		for _, fp := range slices.Sorted(maps.Keys(g.notified)) {
			if i, ok := keep(fp); ok {
				rec.Notified = append(rec.Notified, i)
			}
		}
		for _, fp := range g.lastFiring {
			if i, ok := keep(fp); ok {
				rec.LastFiring = append(rec.LastFiring, i)
			}
		}
		st.Groups = append(st.Groups, rec)
	}
	for _, seq := range slices.Sorted(maps.Keys(p.out)) {
		n := p.out[seq]
		st.Pending = append(st.Pending, PendingRecord{
			Route: p.routeID[n.route], Receiver: n.Receiver, GroupKey: n.GroupKey, GroupLabels: maps.Clone(n.GroupLabels),
			At: n.At, Firing: cloneAlerts(n.Firing), Resolved: cloneAlerts(n.Resolved),
		})
	}
	return st
}

func cloneAlerts(as []Alert) []Alert {
	out := make([]Alert, len(as))
	for i, a := range as {
		out[i] = a.clone()
	}
	return out
}

// Restore brings back a state saved before a restart, into a pipeline that
// has received nothing yet. The alerts it held fire again as they were,
// until their probes say otherwise; each group sends again only what
// changed, or after its repeat interval counted from its last sending; the
// notifications that were on their way go again at the next Flush. It
// returns how many group records and pending notifications it dropped
// because the routing tree they were made under has changed: their alerts
// are told again, as new.
func (p *Pipeline) Restore(st State) (dropped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fps := make([]string, len(st.Alerts))
	for i, a := range st.Alerts {
		fps[i] = a.Labels.Fingerprint()
		if p.alerts[fps[i]] == nil {
			p.hold(fps[i], a)
		}
	}
	routes := make(map[int]*Route, len(p.routeID))
	for r, id := range p.routeID {
		routes[id] = r
	}
	for _, rec := range st.Groups {
		r := routes[rec.Route]
		if r == nil || r.Receiver != rec.Receiver {
			dropped++
			continue
		}
		g := p.group(r, maps.Clone(rec.Labels))
		for _, i := range rec.Notified {
			if i >= 0 && i < len(fps) {
				g.fps[fps[i]], g.notified[fps[i]] = true, true
			}
		}
		g.lastFiring = nil
		for _, i := range rec.LastFiring {
			if i >= 0 && i < len(fps) {
				g.lastFiring = append(g.lastFiring, fps[i])
			}
		}
		slices.Sort(g.lastFiring)
		g.lastSent = rec.LastSent
		if len(g.notified) > 0 {
			// A group that told something looks again on its interval: it
			// owes a resolved notice to each alert it told of.
			g.next = rec.LastSent.Add(r.GroupInterval)
		}
	}
	for _, rec := range st.Pending {
		r := routes[rec.Route]
		if r == nil || r.Receiver != rec.Receiver {
			dropped++
			continue
		}
		p.resend = append(p.resend, Notification{
			Receiver: rec.Receiver, GroupKey: rec.GroupKey, GroupLabels: maps.Clone(rec.GroupLabels),
			At: rec.At, Firing: cloneAlerts(rec.Firing), Resolved: cloneAlerts(rec.Resolved), route: r,
		})
	}
	return dropped
}

// Unsent takes back n, which was not delivered: its group sends its
// firing alerts again at its next flush, and its resolved ones, unless they
// fired again since.
func (p *Pipeline) Unsent(n Notification) {
	if n.route == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.out, n.seq)
	g := p.group(n.route, maps.Clone(n.GroupLabels))
	g.lastFiring = nil
	for _, a := range n.Resolved {
		fp := a.Labels.Fingerprint()
		if cur := p.alerts[fp]; cur != nil && cur.Firing() {
			continue
		} else if cur == nil {
			c := a.clone()
			p.alerts[fp] = &c
		}
		g.fps[fp], g.notified[fp] = true, true
	}
	if g.next.IsZero() {
		g.next = n.At.Add(n.route.GroupInterval)
	}
}

// SetTopology replaces the fleet's topology the folds count hosts in, as
// an inventory reload changes it.
func (p *Pipeline) SetTopology(inv *fleet.Inventory) {
	topo := newTopology(inv)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.topo = topo
}

// PruneSilences forgets the silences that ended before before.
func (p *Pipeline) PruneSilences(before time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silences = slices.DeleteFunc(p.silences, func(s Silence) bool { return s.EndsAt.Before(before) })
}
