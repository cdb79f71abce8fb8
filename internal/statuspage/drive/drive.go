// Package drive keeps the public status page in step with the
// rollouts, so that no one has to type while a rollout runs: a rollout that
// starts opens a maintenance on the components its hosts serve, its progress
// is told at a rate customers can follow, a host's component shows
// under_maintenance only while customers could notice, a halt or a rollback
// opens an incident, and the end closes the maintenance.
//
// The Driver decides from what the rollout is now (rollout.Progress), not
// from the events themselves: an event only says which rollout to look at
// again, so events may be merged, come late or be missed without the page
// going wrong. What it remembers of a rollout it can also read back from the
// page and the rollout, so that a driver started again after a restart goes
// on with the maintenance it had opened (see recall).
package drive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/statuspage/page"
)

// The rate of progress updates. A maintenance gets a progress update when
// its rollout reaches a milestone — a wave of hosts finished, or the hosts
// done crossed another quarter of the total — and never sooner than
// MinInterval after its previous update (the start included). A milestone
// reached too soon is told with the next look at the rollout after that;
// the last host is told by the completion, not by a progress update.
const (
	MinInterval = time.Minute
	// Quarters is how many shares of the hosts make milestones.
	Quarters = 4
)

// Options wire a Driver.
type Options struct {
	// Progress reads a rollout as it is now; (*rollout.Engine).Progress.
	Progress func(ctx context.Context, id string) (rollout.Progress, error)
	// Update changes the page's status, all or nothing;
	// (*page.Stored).Update.
	Update func(ctx context.Context, change func(*fleet.Status) error) error
	// Status reads the page's status, for Run to look first at the
	// rollouts whose maintenance the page shows open; nil to skip that.
	Status func(ctx context.Context) (fleet.Status, error)
	// Notices write the texts, in every language of the page.
	Notices *page.Notices
	Now     func() time.Time
	Logger  *slog.Logger
}

// Driver turns rollouts into status-page changes.
type Driver struct {
	opts Options

	mu      sync.Mutex // guards tracked; held while a rollout is applied
	tracked map[string]*tracked

	qmu   sync.Mutex
	queue []string // rollout IDs to look at, each once
	wake  chan struct{}
}

// tracked is what the driver remembers of one rollout's maintenance.
type tracked struct {
	maintenance string
	incident    string
	components  []string // IDs
	names       []string // the components' names, for the texts
	start       time.Time
	eta         time.Time
	lastUpdate  time.Time
	quarter     int // quarters of the hosts done at the last update
	waves       int // waves finished at the last update
	closed      bool
	// health is what the page said of each host the driver put in
	// maintenance, to give it back when the host leaves maintenance.
	health map[string]fleet.HostHealth
	// shown is each component's status at the last update.
	shown   map[string]fleet.ComponentStatus
	updates int
}

// New returns a Driver; Run makes it follow the events given to Notify.
func New(opts Options) *Driver {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Driver{opts: opts, tracked: map[string]*tracked{}, wake: make(chan struct{}, 1)}
}

// Notify queues a rollout's event, to be applied by Run. It never blocks
// the engine, which is why the rollout is read later, from Run, and not
// here.
func (d *Driver) Notify(ev rollout.Event) {
	if ev.Rollout == "" {
		return
	}
	d.qmu.Lock()
	if !slices.Contains(d.queue, ev.Rollout) {
		d.queue = append(d.queue, ev.Rollout)
	}
	d.qmu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run applies the queued events until ctx ends. It starts with the
// rollouts whose maintenance the page shows open: after a restart, those
// still running go on, and one that ended while the daemon was down gets
// its maintenance closed, without waiting for an event.
func (d *Driver) Run(ctx context.Context) error {
	d.resume(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		}
		d.qmu.Lock()
		ids := d.queue
		d.queue = nil
		d.qmu.Unlock()
		for _, id := range ids {
			if err := d.Apply(ctx, rollout.Event{Rollout: id}); err != nil && ctx.Err() == nil {
				d.opts.Logger.Error("status page: follow a rollout", "rollout", id, "err", err)
			}
		}
	}
}

func (d *Driver) resume(ctx context.Context) {
	if d.opts.Status == nil {
		return
	}
	st, err := d.opts.Status(ctx)
	if err != nil {
		d.opts.Logger.Error("status page: read the maintenances to follow again", "err", err)
		return
	}
	for _, m := range st.Maintenance {
		if m.Rollout != "" && m.Status != fleet.MaintenanceCompleted {
			d.Notify(rollout.Event{Rollout: m.Rollout})
		}
	}
}

// Apply looks at the event's rollout now and changes the page to match.
func (d *Driver) Apply(ctx context.Context, ev rollout.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tracked[ev.Rollout]
	if t != nil && t.closed {
		return nil
	}
	pr, err := d.opts.Progress(ctx, ev.Rollout)
	if err != nil {
		return fmt.Errorf("read rollout %s: %w", ev.Rollout, err)
	}
	if pr.Rollout == nil {
		return fmt.Errorf("read rollout %s: no rollout", ev.Rollout)
	}
	now := d.opts.Now().UTC()
	var next *tracked
	err = d.opts.Update(ctx, func(st *fleet.Status) error {
		// On a copy, so that a change the Update refuses leaves t as it was.
		var changed bool
		var err error
		next, changed, err = d.apply(st, t.clone(), pr, now)
		if err == nil && !changed {
			return errUnchanged
		}
		return err
	})
	if err != nil && err != errUnchanged {
		return fmt.Errorf("status page for rollout %s: %w", ev.Rollout, err)
	}
	if next != nil {
		d.tracked[ev.Rollout] = next
	}
	return nil
}

// errUnchanged keeps the page's version, and so its cached responses, when
// a look at a rollout changes nothing customers see.
var errUnchanged = errors.New("unchanged")

func (t *tracked) clone() *tracked {
	if t == nil {
		return nil
	}
	c := *t
	c.health = maps.Clone(t.health)
	c.shown = maps.Clone(t.shown)
	return &c
}

// apply changes st to match the rollout pr. t is nil for a rollout not seen
// before; the tracked rollout comes back, nil when the rollout touches no
// component of the page.
func (d *Driver) apply(st *fleet.Status, t *tracked, pr rollout.Progress, now time.Time) (*tracked, bool, error) {
	r := pr.Rollout
	changed := false
	if t == nil {
		t = recall(st, r)
	}
	if t != nil && t.closed {
		return t, false, nil
	}
	if t == nil {
		comps, names := affected(st, r)
		if len(comps) == 0 {
			return nil, false, nil
		}
		t = &tracked{
			maintenance: "rollout-" + r.ID, components: comps, names: names,
			start: now, eta: now.Add(pr.ETA), lastUpdate: now,
			health: map[string]fleet.HostHealth{}, shown: map[string]fleet.ComponentStatus{},
		}
		name, err := d.text(page.MaintenanceName, t, r)
		if err != nil {
			return nil, false, err
		}
		st.Maintenance = append(st.Maintenance, fleet.Maintenance{
			ID: t.maintenance, Name: name, Status: fleet.MaintenanceInProgress, Components: comps,
			ScheduledFor: now, ScheduledUntil: t.eta, StartedAt: now, CreatedAt: now, UpdatedAt: now,
			Rollout: r.ID,
		})
		t.shown = derived(st, t.components)
		if err := d.maintenanceUpdate(st, t, r, page.MaintenanceStarted, now); err != nil {
			return nil, false, err
		}
		changed = true
	}
	m := maintenance(st, t.maintenance)
	if m == nil {
		// An operator's edit took it away; the rollout goes on unsaid.
		t.closed = true
		return t, true, nil
	}
	if setHosts(st, t, r) {
		changed = true
	}
	if !r.State.Ended() && pr.Finishes {
		t.eta = now.Add(pr.ETA)
	}
	if failing(r.State) && t.incident == "" {
		if err := d.openIncident(st, t, r, now); err != nil {
			return nil, false, err
		}
		changed = true
	}
	if r.State.Ended() {
		kind := page.MaintenanceCompleted
		switch {
		case failing(r.State):
			kind = failure(r)
		case r.State == fleet.RolloutAborted:
			kind = page.MaintenanceAborted
		}
		m.Status, m.CompletedAt, m.ScheduledUntil = fleet.MaintenanceCompleted, now, now
		if err := d.maintenanceUpdate(st, t, r, kind, now); err != nil {
			return nil, false, err
		}
		t.closed = true
		return t, true, nil
	}
	if r.State == fleet.RolloutRunning && t.due(r, now) {
		m.ScheduledUntil = t.eta
		if err := d.maintenanceUpdate(st, t, r, page.MaintenanceProgress, now); err != nil {
			return nil, false, err
		}
		t.quarter, t.waves = quarter(r), wavesFinished(r)
		changed = true
	}
	return t, changed, nil
}

// due reports whether the rollout reached a milestone since the last
// update, at least MinInterval after it (see MinInterval).
func (t *tracked) due(r *fleet.Rollout, now time.Time) bool {
	if now.Sub(t.lastUpdate) < MinInterval || done(r) == len(r.Hosts) {
		return false
	}
	return quarter(r) > t.quarter || wavesFinished(r) > t.waves
}

// failing reports whether the rollout stopped on failures, as opposed to
// an operator's abort.
func failing(s fleet.RolloutState) bool {
	return s == fleet.RolloutHalting || s == fleet.RolloutHalted || s == fleet.RolloutRolledBack
}

// failure is the notice of a failed rollout: rolled back when every host
// goes back, halted when only the failed ones do.
func failure(r *fleet.Rollout) string {
	if r.State == fleet.RolloutRolledBack || (r.Plan != nil && r.Plan.Strategy.RollbackAll) {
		return page.IncidentRolledBack
	}
	return page.IncidentHalted
}

func (d *Driver) openIncident(st *fleet.Status, t *tracked, r *fleet.Rollout, now time.Time) error {
	name, err := d.text(page.IncidentName, t, r)
	if err != nil {
		return err
	}
	body, err := d.text(failure(r), t, r)
	if err != nil {
		return err
	}
	t.incident = "rollout-" + r.ID + "-incident"
	st.Incidents = append(st.Incidents, fleet.Incident{
		ID: t.incident, Name: name, Status: fleet.Identified, Impact: fleet.ImpactMinor,
		Components: slices.Clone(t.components), StartedAt: now, CreatedAt: now, UpdatedAt: now,
		Updates: []fleet.StatusUpdate{{
			ID: t.incident + "-1", Status: string(fleet.Identified), Body: body,
			DisplayAt: now, CreatedAt: now, UpdatedAt: now, Affected: t.affected(st),
		}},
		Rollout: r.ID,
	})
	return nil
}

// maintenanceUpdate adds an update of kind to the rollout's maintenance.
func (d *Driver) maintenanceUpdate(st *fleet.Status, t *tracked, r *fleet.Rollout, kind string, now time.Time) error {
	body, err := d.text(kind, t, r)
	if err != nil {
		return err
	}
	m := maintenance(st, t.maintenance)
	t.updates++
	m.Updates = append(m.Updates, fleet.StatusUpdate{
		ID: fmt.Sprintf("%s-%d", m.ID, t.updates), Status: string(m.Status), Body: body,
		DisplayAt: now, CreatedAt: now, UpdatedAt: now, Affected: t.affected(st),
	})
	m.UpdatedAt = now
	t.lastUpdate = now
	return nil
}

func (d *Driver) text(kind string, t *tracked, r *fleet.Rollout) (fleet.Text, error) {
	p := page.Progress{Components: t.names, Start: t.start, ETA: t.eta, Done: done(r), Total: len(r.Hosts)}
	return d.opts.Notices.Text(kind, p)
}

// recall rebuilds what the driver knew of rollout r from the page, for a
// driver that has just started: the maintenance and incident it opened
// (found by their Rollout), when and what it last told (the maintenance's
// last update), and from the hosts' end times the milestones reached by
// then. It returns nil when the page has no maintenance of r.
//
// One thing is not on the page: the health a host had before the driver put
// it in maintenance. A host recalled in maintenance leaves it with no
// health, as a host nobody reported on, until its health is told again.
func recall(st *fleet.Status, r *fleet.Rollout) *tracked {
	m := slices.IndexFunc(st.Maintenance, func(m fleet.Maintenance) bool { return m.Rollout == r.ID })
	if m < 0 {
		return nil
	}
	mt := &st.Maintenance[m]
	t := &tracked{
		maintenance: mt.ID, components: slices.Clone(mt.Components),
		start: mt.StartedAt, eta: mt.ScheduledUntil, lastUpdate: mt.StartedAt,
		closed: mt.Status == fleet.MaintenanceCompleted, updates: len(mt.Updates),
		health: map[string]fleet.HostHealth{}, shown: map[string]fleet.ComponentStatus{},
	}
	for _, id := range t.components {
		name := id
		if i := slices.IndexFunc(st.Components, func(c fleet.Component) bool { return c.ID == id }); i >= 0 {
			name = st.Components[i].Name
		}
		t.names = append(t.names, name)
	}
	// What the page showed of the components is in the last update the
	// driver wrote: the maintenance's last, or the incident's first when
	// it came after (in one look, the incident comes before any update of
	// the maintenance but its start).
	var shown []fleet.AffectedComponent
	if n := len(mt.Updates); n > 0 {
		last := mt.Updates[n-1]
		t.lastUpdate, shown = last.CreatedAt, last.Affected
	}
	if i := slices.IndexFunc(st.Incidents, func(in fleet.Incident) bool { return in.Rollout == r.ID }); i >= 0 {
		in := st.Incidents[i]
		t.incident = in.ID
		if len(in.Updates) > 0 && !in.Updates[0].CreatedAt.Before(t.lastUpdate) {
			shown = in.Updates[0].Affected
		}
	}
	for _, a := range shown {
		t.shown[a.Component] = a.New
	}
	// Milestones are told by progress updates only: the start tells none.
	if len(mt.Updates) > 1 {
		t.quarter, t.waves = quarterAt(r, t.lastUpdate), wavesFinishedAt(r, t.lastUpdate)
	}
	for _, h := range r.Hosts {
		if st.Hosts[h.Host] == fleet.HostInMaintenance {
			t.health[h.Host] = ""
		}
	}
	return t
}

// affected lists the components whose status changed since the last
// update, with their old and new status, and remembers the new ones.
func (t *tracked) affected(st *fleet.Status) []fleet.AffectedComponent {
	now := derived(st, t.components)
	var out []fleet.AffectedComponent
	for _, c := range t.components {
		out = append(out, fleet.AffectedComponent{Component: c, Old: cmpOr(t.shown[c], now[c]), New: now[c]})
	}
	t.shown = now
	return out
}

func cmpOr(a, b fleet.ComponentStatus) fleet.ComponentStatus {
	if a != "" {
		return a
	}
	return b
}

func derived(st *fleet.Status, ids []string) map[string]fleet.ComponentStatus {
	out := map[string]fleet.ComponentStatus{}
	for _, c := range st.Components {
		if slices.Contains(ids, c.ID) {
			out[c.ID] = page.Derive(c, st.Hosts, st.Maintenance)
		}
	}
	return out
}

// affected returns the IDs and names of the components served by the
// rollout's hosts, in the page's order.
func affected(st *fleet.Status, r *fleet.Rollout) (ids, names []string) {
	hosts := map[string]bool{}
	for _, h := range r.Hosts {
		hosts[h.Host] = true
	}
	comps := slices.Clone(st.Components)
	slices.SortStableFunc(comps, func(a, b fleet.Component) int { return a.Position - b.Position })
	for _, c := range comps {
		if slices.ContainsFunc(c.Hosts, func(h string) bool { return hosts[h] }) {
			ids = append(ids, c.ID)
			names = append(names, c.Name)
		}
	}
	return ids, names
}

func maintenance(st *fleet.Status, id string) *fleet.Maintenance {
	for i := range st.Maintenance {
		if st.Maintenance[i].ID == id {
			return &st.Maintenance[i]
		}
	}
	return nil
}

// setHosts puts in maintenance the rollout's hosts that customers could
// notice now, and gives back their health to those that left it; it
// reports whether the page changed.
func setHosts(st *fleet.Status, t *tracked, r *fleet.Rollout) bool {
	onPage := map[string]bool{}
	for _, c := range st.Components {
		if slices.Contains(t.components, c.ID) {
			for _, h := range c.Hosts {
				onPage[h] = true
			}
		}
	}
	changed := false
	for _, h := range r.Hosts {
		if !onPage[h.Host] {
			continue
		}
		prev, in := t.health[h.Host]
		switch {
		case noticeable(r.Plan, h) && !in:
			t.health[h.Host] = st.Hosts[h.Host]
			if st.Hosts == nil {
				st.Hosts = map[string]fleet.HostHealth{}
			}
			st.Hosts[h.Host] = fleet.HostInMaintenance
			changed = true
		case !noticeable(r.Plan, h) && in:
			delete(t.health, h.Host)
			if prev == "" {
				delete(st.Hosts, h.Host)
			} else {
				st.Hosts[h.Host] = prev
			}
			changed = true
		}
	}
	return changed
}

// noticeable reports whether the host's customers could notice its
// maintenance now: it is out of its load balancer (from its drain step
// until its undrain step is through) or rebooting. A host patched while
// still in service is not in maintenance for its customers.
func noticeable(p *fleet.Plan, h fleet.HostRun) bool {
	if !h.State.Active() {
		return false
	}
	if p == nil {
		return true
	}
	steps := p.Steps
	if h.State == fleet.HostRollingBack {
		steps = p.Rollback
	}
	if h.Step >= len(steps) {
		return false
	}
	drained := false
	for i, s := range steps[:h.Step+1] {
		switch {
		case s.Kind == fleet.StepDrain:
			drained = true
		case s.Kind == fleet.StepUndrain && i < h.Step:
			drained = false
		}
	}
	return drained || steps[h.Step].Kind == fleet.StepReboot
}

func done(r *fleet.Rollout) int {
	n := 0
	for _, h := range r.Hosts {
		if h.State == fleet.HostDone {
			n++
		}
	}
	return n
}

func quarter(r *fleet.Rollout) int {
	if len(r.Hosts) == 0 {
		return 0
	}
	return done(r) * Quarters / len(r.Hosts)
}

// endedBy reports whether host h had finished by time at, by its end time;
// a host that finished without one counts as not yet, which at worst tells
// a milestone twice.
func endedBy(h fleet.HostRun, at time.Time) bool {
	return h.State != fleet.HostPending && !h.State.Active() && !h.EndedAt.IsZero() && !h.EndedAt.After(at)
}

// quarterAt is quarter as it was at time at.
func quarterAt(r *fleet.Rollout, at time.Time) int {
	if len(r.Hosts) == 0 {
		return 0
	}
	n := 0
	for _, h := range r.Hosts {
		if h.State == fleet.HostDone && endedBy(h, at) {
			n++
		}
	}
	return n * Quarters / len(r.Hosts)
}

// wavesFinishedAt is wavesFinished as it was at time at.
func wavesFinishedAt(r *fleet.Rollout, at time.Time) int {
	open := map[int]bool{}
	for _, h := range r.Hosts {
		open[h.Wave] = open[h.Wave] || !endedBy(h, at)
	}
	n := 0
	for _, o := range open {
		if !o {
			n++
		}
	}
	return n
}

// wavesFinished counts the waves whose hosts have all finished.
func wavesFinished(r *fleet.Rollout) int {
	open := map[int]bool{}
	for _, h := range r.Hosts {
		if _, ok := open[h.Wave]; !ok {
			open[h.Wave] = false
		}
		if h.State == fleet.HostPending || h.State.Active() {
			open[h.Wave] = true
		}
	}
	n := 0
	for _, o := range open {
		if !o {
			n++
		}
	}
	return n
}
