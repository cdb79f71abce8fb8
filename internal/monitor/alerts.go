package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/store"
)

// Alerting timings: how often the pipeline is flushed, how many
// notifications may wait for a slow receiver, how long a resolved alert
// stays listed, how long the notifications decided are still delivered once
// the daemon stops, how long an expired silence is kept, and how long the
// store may take to answer.
const (
	flushEvery          = time.Second
	deliveryQueue       = 256
	keepResolved        = time.Hour
	drainDeliveries     = 5 * time.Second
	keepExpiredSilences = 5 * 24 * time.Hour
	storeTimeout        = 5 * time.Second
	// confirmRestored is how long after a restart the probes have to
	// start before the restored alerts of targets they do not run end.
	confirmRestored = time.Minute
)

// noReceiver is the top route's receiver without an alerts file: alerts
// are raised and listed, and told to no one.
const noReceiver = "none"

// Store is what the monitor reads and keeps in the store: the silences,
// and the alert pipeline's state across restarts. *store.Store is one.
type Store interface {
	Silences(ctx context.Context) ([]store.Silence, error)
	PruneSilences(ctx context.Context, before time.Time) (int64, error)
	AddSilence(ctx context.Context, sl store.Silence) (store.Silence, error)
	ExpireSilence(ctx context.Context, id string, at time.Time) (store.Silence, error)
	AlertState(ctx context.Context) ([]byte, error)
	SaveAlertState(ctx context.Context, data []byte) error
}

// alerting feeds the alert pipeline: probe changes become alerts, the
// rollouts' events become maintenances, a ticker flushes the pipeline, and
// one worker per receiver delivers, so a slow receiver never holds up the
// pipeline nor the others.
type alerting struct {
	log       *slog.Logger
	now       func() time.Time
	inv       func() *fleet.Inventory
	pipe      *alert.Pipeline
	receivers map[string]alert.Notifier
	grace     time.Duration
	store     Store
	// delivered counts notifications by receiver and result.
	delivered func(receiver, result string)
	// acting, when set, says whether notifications may go out now.
	acting func() error

	// saving guards saved, the state last saved: run's goroutine saves
	// after each flush, the deliveries after each notification settled.
	saving sync.Mutex
	saved  []byte
	// Only run's goroutine uses pruned: when the silences were last pruned.
	pruned time.Time
	// unconfirmed holds the probe alerts restored from before a restart
	// that no probe has reported on yet, with when to look at them; probed
	// says whether the probes run a target, by id.
	unconfirmed map[string]time.Time
	probed      func(id string) bool

	mu sync.Mutex
	// raised lists the alerts, by fingerprint: the probes' as they change,
	// the failure domains' once notified.
	raised map[string]*raisedAlert
	// maint is each host's latest maintenance, open or ended.
	maint map[string]alert.Maintenance
	// allUp says whether every probe of a host is up; the probes set it.
	allUp  func(host string) bool
	queues map[string]chan alert.Notification
}

type raisedAlert struct {
	alert    alert.Alert
	notified bool
}

func newAlerting(cfg *alert.Config, inv func() *fleet.Inventory, st Store, client *http.Client,
	log *slog.Logger, now func() time.Time, delivered func(receiver, result string)) *alerting {
	return &alerting{
		log: log, now: now, inv: inv, store: st, delivered: delivered,
		pipe:      alert.New(cfg, inv()),
		receivers: alert.Receivers(cfg, client, log),
		grace:     cfg.MaintenanceGrace,
		raised:    map[string]*raisedAlert{},
		maint:     map[string]alert.Maintenance{},
		queues:    map[string]chan alert.Notification{},

		unconfirmed: map[string]time.Time{},
	}
}

// probeChanged is the probes' OnChange: a target going down raises an
// alert, coming back resolves it. A target found up on the first run after
// a restart resolves the alert it had before: the pipeline ignores the end
// of an alert it does not hold.
func (al *alerting) probeChanged(c probe.Change) {
	if c.From == probe.StateUnknown && c.To == probe.StateUp {
		c.From = probe.StateDown
	}
	a, ok := alert.FromChange(c, al.inv())
	if !ok {
		return
	}
	al.pipe.Receive(a)
	fp := a.Labels.Fingerprint()
	al.mu.Lock()
	defer al.mu.Unlock()
	delete(al.unconfirmed, fp)
	if a.Firing() {
		if old := al.raised[fp]; old == nil || !old.alert.Firing() {
			al.raised[fp] = &raisedAlert{alert: a}
		}
		return
	}
	if old := al.raised[fp]; old != nil && old.alert.Firing() {
		old.alert.EndsAt = a.EndsAt
	}
}

// probeUp is the probes' OnChange beside probeChanged: a host whose
// probes are all up again after its maintenance is back.
func (al *alerting) probeUp(c probe.Change) {
	if c.To == probe.StateUp && c.Target.Host != nil {
		al.back(c.Target.Host.Name)
	}
}

// run flushes the pipeline every second and delivers what it says, until
// ctx ends. Then the notifications decided are still delivered for a few
// seconds; those that are not are taken back, so that they go out after a
// restart, and the pipeline's state is saved a last time.
func (al *alerting) run(ctx context.Context) {
	deliverCtx, stopDelivering := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDelivering()
	var wg sync.WaitGroup
	for name, r := range al.receivers {
		q := make(chan alert.Notification, deliveryQueue)
		al.queues[name] = q
		wg.Go(func() { al.deliver(deliverCtx, name, r, q) })
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			al.flush(al.now())
		}
	}
	for _, q := range al.queues {
		close(q)
	}
	timer := time.AfterFunc(drainDeliveries, stopDelivering)
	wg.Wait()
	timer.Stop()
	al.save(context.WithoutCancel(ctx))
}

func (al *alerting) flush(now time.Time) {
	al.resolveUnconfirmed(now)
	ns := al.pipe.Flush(now)
	defer al.save(context.Background())
	if now.Sub(al.pruned) >= time.Hour {
		al.pruneSilences(now)
	}
	al.mu.Lock()
	for fp, r := range al.raised {
		if !r.alert.Firing() && now.Sub(r.alert.EndsAt) > keepResolved {
			delete(al.raised, fp)
		}
	}
	for _, n := range ns {
		if n.Receiver == noReceiver {
			al.pipe.Sent(n) // told to no one, as the config asks
			continue
		}
		for _, a := range n.Firing {
			fp := a.Labels.Fingerprint()
			r := al.raised[fp]
			if r == nil {
				r = &raisedAlert{alert: a}
				al.raised[fp] = r
			}
			r.notified = true
		}
		for _, a := range n.Resolved {
			if r := al.raised[a.Labels.Fingerprint()]; r != nil && r.alert.Firing() {
				r.alert.EndsAt = a.EndsAt
			}
		}
	}
	al.mu.Unlock()
	for _, n := range ns {
		q, ok := al.queues[n.Receiver]
		if !ok {
			al.pipe.Sent(n)
			continue
		}
		select {
		case q <- n:
		default:
			al.log.Error("notification put off: its receiver is too far behind", "receiver", n.Receiver, "group", n.GroupKey)
			al.delivered(n.Receiver, "failed")
			al.pipe.Unsent(n)
		}
	}
}

// deliver tells receiver r the notifications of q until q is closed. One
// that fails is taken back: its group sends it again at its next interval.
func (al *alerting) deliver(ctx context.Context, name string, r alert.Notifier, q <-chan alert.Notification) {
	for n := range q {
		if ctx.Err() != nil {
			al.log.Warn("notification put off until the daemon's next start", "receiver", name, "group", n.GroupKey)
			al.pipe.Unsent(n)
			continue
		}
		if al.acting != nil {
			if err := al.acting(); err != nil {
				al.log.Warn("notification put off", "receiver", name, "group", n.GroupKey, "err", err)
				al.pipe.Unsent(n)
				continue
			}
		}
		if err := r.Notify(ctx, n); err != nil {
			al.log.Error("notification failed", "receiver", name, "group", n.GroupKey, "err", err)
			al.delivered(name, "failed")
			al.pipe.Unsent(n)
			continue
		}
		al.pipe.Sent(n)
		// Saved at once: a successor sends again what the saved state
		// still has on its way.
		al.save(ctx)
		al.log.Info("notification sent", "receiver", name, "title", n.Title())
		al.delivered(name, "sent")
	}
}

// save keeps the pipeline's state in the store when it changed. A failure
// is logged: the next flush tries again.
func (al *alerting) save(ctx context.Context) {
	al.saving.Lock()
	defer al.saving.Unlock()
	data, err := json.Marshal(al.pipe.State())
	if err != nil {
		al.log.Error("alerts: encode the pipeline's state", "err", err)
		return
	}
	if bytes.Equal(data, al.saved) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := al.store.SaveAlertState(ctx, data); err != nil {
		al.log.Error("alerts: save the pipeline's state", "err", err)
		return
	}
	al.saved = data
}

// pruneSilences forgets the silences expired for a while, in the store and
// in the pipeline.
func (al *alerting) pruneSilences(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	before := now.Add(-keepExpiredSilences)
	if _, err := al.store.PruneSilences(ctx, before); err != nil {
		al.log.Error("alerts: prune expired silences", "err", err)
		return
	}
	al.pipe.PruneSilences(before)
	al.pruned = now
}

// restore brings back what the daemon knew before it stopped: the
// silences, the pipeline's state, and the hosts the unfinished rollouts
// hold in maintenance (in, as the engine loaded them). A restored probe
// alert whose target the probes do not run (it left the inventory
// meanwhile) is resolved once they have started; probed says whether they
// run a target. Run restore before run, the probes and the rollouts.
func (al *alerting) restore(ctx context.Context, probed func(id string) bool, in []rollout.Maintained) error {
	ctx, cancel := context.WithTimeout(ctx, 4*storeTimeout)
	defer cancel()
	now := al.now()
	sls, err := al.store.Silences(ctx)
	if err != nil {
		return fmt.Errorf("restore silences: %w", err)
	}
	for _, stored := range sls {
		sl, err := silenceFrom(stored)
		if err == nil {
			_, err = al.pipe.AddSilence(sl)
		}
		if err != nil {
			al.log.Error("alerts: a stored silence no longer reads; it is left out", "silence", stored.ID, "err", err)
		}
	}
	al.pruneSilences(now)
	al.probed = probed
	if err := al.restoreState(ctx, now.Add(confirmRestored)); err != nil {
		return err
	}
	al.restoreMaintenance(in, now)
	return nil
}

func (al *alerting) restoreState(ctx context.Context, confirmBy time.Time) error {
	data, err := al.store.AlertState(ctx)
	if err != nil {
		return fmt.Errorf("restore the alerts' state: %w", err)
	}
	if data == nil {
		return nil
	}
	var st alert.State
	if err := json.Unmarshal(data, &st); err != nil {
		// Losing it pages again for what was told: worse than nothing, but
		// no reason to keep the daemon from starting.
		al.log.Error("alerts: the saved state does not read; starting without it", "err", err)
		return nil
	}
	if dropped := al.pipe.Restore(st); dropped > 0 {
		al.log.Warn("alerts: the routes changed since the state was saved; their groups start afresh", "groups", dropped)
	}
	al.saved = data
	notified := map[int]bool{}
	for _, g := range st.Groups {
		for _, i := range g.Notified {
			notified[i] = true
		}
	}
	al.mu.Lock()
	defer al.mu.Unlock()
	for i, a := range st.Alerts {
		fp := a.Labels.Fingerprint()
		al.raised[fp] = &raisedAlert{alert: a, notified: notified[i]}
		if a.Firing() && a.Labels[alert.LabelAlertname] == alert.ProbeDown {
			al.unconfirmed[fp] = confirmBy
		}
	}
	return nil
}

// resolveUnconfirmed ends the restored probe alerts whose targets the
// probes do not run. Those they run end or go on when their probes say.
func (al *alerting) resolveUnconfirmed(now time.Time) {
	al.mu.Lock()
	var ended []alert.Alert
	for fp, by := range al.unconfirmed {
		if now.Before(by) {
			continue
		}
		delete(al.unconfirmed, fp)
		r := al.raised[fp]
		if r == nil || !r.alert.Firing() || al.probed(r.alert.Labels[alert.LabelProbe]+"@"+r.alert.Labels[alert.LabelHost]) {
			continue
		}
		r.alert.EndsAt = now
		ended = append(ended, r.alert)
	}
	al.mu.Unlock()
	for _, a := range ended {
		al.log.Info("alerts: no probe runs for an alert from before the restart; resolved", "alert", a.Summary())
		al.pipe.Receive(a)
	}
}

// restoreMaintenance puts the hosts that the unfinished rollouts hold
// inside a maintenance back in it: the engine resumes them without telling
// where they stand.
func (al *alerting) restoreMaintenance(in []rollout.Maintained, now time.Time) {
	al.mu.Lock()
	defer al.mu.Unlock()
	for _, h := range in {
		al.beginMaintenance(h.Host, h.Rollout, h.Step, now)
	}
}

// firing counts the alerts firing, muted or not.
func (al *alerting) firing() int {
	al.mu.Lock()
	defer al.mu.Unlock()
	n := 0
	for _, r := range al.raised {
		if r.alert.Firing() {
			n++
		}
	}
	return n
}

// rolloutEvent follows the rollouts' hosts in and out of maintenance, as
// their events say (see rollout.Maintenance), and ends the maintenances of
// a rollout that ended; the pipeline mutes a host's alerts until the grace
// period after its maintenance.
func (al *alerting) rolloutEvent(ev rollout.Event) {
	al.mu.Lock()
	defer al.mu.Unlock()
	if ev.Kind == rollout.KindState && ev.State.Ended() {
		for h, m := range al.maint {
			if m.Rollout == ev.Rollout {
				al.endMaintenance(h, ev.Rollout)
			}
		}
		return
	}
	switch ev.Maintenance {
	case rollout.MaintenanceBegins:
		al.endMaintenance(ev.Host, ev.Rollout)
		al.beginMaintenance(ev.Host, ev.Rollout, ev.Step, al.now())
	case rollout.MaintenanceGoesOn:
		m, open := al.maint[ev.Host]
		if !open || !m.End.IsZero() || m.Rollout != ev.Rollout {
			// Its beginning was missed: the host is in maintenance all
			// the same.
			al.beginMaintenance(ev.Host, ev.Rollout, ev.Step, al.now())
			return
		}
		m.Step = string(ev.Step)
		al.maint[ev.Host] = m
		al.pipe.Maintain(m)
	case rollout.MaintenanceEnds:
		al.endMaintenance(ev.Host, ev.Rollout)
	}
}

// beginMaintenance opens a maintenance of host under rolloutID at step;
// al.mu is held.
func (al *alerting) beginMaintenance(host, rolloutID string, step fleet.StepKind, now time.Time) {
	m := alert.Maintenance{Host: host, Rollout: rolloutID, Step: string(step), Start: now}
	al.maint[host] = m
	al.pipe.Maintain(m)
}

// endMaintenance ends host's open maintenance under rolloutID, if any;
// al.mu is held. Every maintenance must end: the pipeline mutes a host
// with an open one for good.
func (al *alerting) endMaintenance(host, rolloutID string) {
	m, ok := al.maint[host]
	if !ok || !m.End.IsZero() || m.Rollout != rolloutID {
		return
	}
	m.End = al.now()
	if al.allUp != nil && al.allUp(host) {
		m.Back = m.End
	}
	al.maint[host] = m
	al.pipe.Maintain(m)
}

// muting says which silences and which rollout mute a at now; al.mu is
// held.
func (al *alerting) muting(a *alert.Alert, silences []alert.Silence, now time.Time) (ids []string, rolloutID string) {
	for i := range silences {
		s := &silences[i]
		if s.Active(now) && labels.Matchers(s.Matchers).Match(a.Labels) {
			ids = append(ids, s.ID)
		}
	}
	return ids, al.maintenance(a.Labels[alert.LabelHost], a.StartsAt, now)
}

// maintenance is the rollout whose maintenance of host mutes, at now, its
// trouble that began at started, or ""; al.mu is held.
func (al *alerting) maintenance(host string, started, now time.Time) string {
	if m, ok := al.maint[host]; ok && m.Mutes(started, now, al.grace) {
		return m.Rollout
	}
	return ""
}

// leaveOutMaintained deletes from health the hosts a rollout has in
// maintenance now, grace included.
func (al *alerting) leaveOutMaintained(health map[string]fleet.HostHealth) {
	now := al.now()
	al.mu.Lock()
	defer al.mu.Unlock()
	for h := range health {
		if al.maintenance(h, now, now) != "" {
			delete(health, h)
		}
	}
}

// back notes that host's probes are all up after its maintenance ended, if
// they are: its grace period is over. allUp says whether every probe of a
// host is up.
func (al *alerting) back(host string) {
	al.mu.Lock()
	defer al.mu.Unlock()
	m, ok := al.maint[host]
	if !ok || m.End.IsZero() || !m.Back.IsZero() || al.allUp == nil || !al.allUp(host) {
		return
	}
	m.Back = al.now()
	al.maint[host] = m
	al.pipe.Maintain(m)
}

// list is every alert raised: firing alerts first, newest first, then
// those resolved in the last hour.
func (al *alerting) list() []Raised {
	now := al.now()
	silences := al.pipe.Silences()
	out := []Raised{}
	al.mu.Lock()
	for _, r := range al.raised {
		a := Raised{Alert: r.alert, Notified: r.notified}
		a.Labels, a.Annotations = maps.Clone(r.alert.Labels), maps.Clone(r.alert.Annotations)
		if r.alert.Firing() {
			a.SilencedBy, a.Maintenance = al.muting(&r.alert, silences, now)
		}
		out = append(out, a)
	}
	al.mu.Unlock()
	slices.SortFunc(out, func(a, b Raised) int {
		if a.Firing() != b.Firing() {
			if a.Firing() {
				return -1
			}
			return 1
		}
		if c := b.StartsAt.Compare(a.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(a.Labels.Fingerprint(), b.Labels.Fingerprint())
	})
	return out
}
