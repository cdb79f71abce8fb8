// Package monitor watches the fleet for the daemon: it runs every host's
// probes beside the rollout engine, turns what they find into alerts, mutes
// those of the hosts that rollouts take down on purpose and those the
// operators silence, and hands the notifications to the alerts file's
// receivers. The silences, the alerts told and the hosts in maintenance
// outlive a restart through the store.
package monitor

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/rollout"
)

// Options configure a Monitor. Every field is required but Alerts and
// Recorder.
type Options struct {
	// Alerts is the alerts file's routes and receivers; without it,
	// alerts are raised and listed, and told to no one.
	Alerts    *alert.Config
	Inventory func() *fleet.Inventory
	Store     Store
	// Probe runs one probe; Interval is how often the ssh probe and the
	// checks that set no interval of their own run.
	Probe    probe.ProbeFunc
	Interval time.Duration
	// Recorder keeps every probe's runs, across reloads.
	Recorder probe.Recorder
	// Client posts the receivers' webhooks.
	Client *http.Client
	// Acting, when set, is asked before each notification: an error puts
	// it off (it goes again at its group's next interval), as a replica
	// that no longer leads must tell no one.
	Acting func() error
	// Delivered counts a notification handed to a receiver, by result:
	// sent or failed.
	Delivered func(receiver, result string)
	Logger    *slog.Logger
	Now       func() time.Time
}

// Monitor is the probes and the alerts of the inventory in force.
type Monitor struct {
	inv    func() *fleet.Inventory
	probes *health
	alerts *alerting
	// checker runs the probes of a few hosts at once, outside the
	// scheduler: the rollouts' gate and the fresh look at hosts held down.
	checker *probe.Health
}

// maxRecheck bounds the hosts Down looks at again when the probes say
// they are down.
const maxRecheck = 32

// New builds a Monitor; Restore, then Run, start it.
func New(o Options) *Monitor {
	cfg := o.Alerts
	if cfg == nil {
		cfg = &alert.Config{Route: alert.Route{Receiver: noReceiver}}
		cfg.SetDefaults()
	}
	al := newAlerting(cfg, o.Inventory, o.Store, o.Client, o.Logger, o.Now, o.Delivered)
	al.acting = o.Acting
	hl := &health{prober: o.Probe, interval: o.Interval, now: o.Now, runs: o.Recorder,
		onChange: func(c probe.Change) {
			al.probeChanged(c)
			al.probeUp(c)
		}}
	al.allUp = hl.allUp
	return &Monitor{
		inv:    o.Inventory,
		alerts: al,
		probes: hl,
		// The same probes as the scheduler's, run once.
		checker: probe.NewHealth(o.Probe, o.Interval),
	}
}

// Restore brings back what the daemon knew before it stopped: the
// silences, the alerts told, and the hosts the unfinished rollouts hold in
// maintenance, in, as rollout.Engine.Load tells them. Run it before Run
// and before the rollouts resume: a silence or a maintenance forgotten
// would page.
func (m *Monitor) Restore(ctx context.Context, in []rollout.Maintained) error {
	return m.alerts.restore(ctx, m.probes.running, in)
}

// Run probes the inventory in force and delivers the alerts until ctx
// ends; then the notifications decided are still delivered for a few
// seconds, and the alerts' state is saved.
func (m *Monitor) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { m.probes.run(ctx, m.inv()) })
	wg.Go(func() { m.alerts.run(ctx) })
	wg.Wait()
}

// Reset takes a reloaded inventory: its probes, and its topology for the
// alerts' inhibition. Targets that left it while down are reported up, so
// that their alerts end.
func (m *Monitor) Reset(inv *fleet.Inventory) {
	m.probes.reset(inv)
	m.alerts.pipe.SetTopology(inv)
}

// Health runs every probe of a host once, for the rollouts' gate.
func (m *Monitor) Health() *probe.Health { return m.checker }

// Down is the rollout engine's Down: the hosts among hosts that the probes
// find down, with why.
func (m *Monitor) Down(ctx context.Context, hosts []*fleet.Host) map[string]string {
	down := m.probes.down(hosts)
	// A probe may still hold down a host that has just come back (from the
	// rollout's own reboot): one fresh look, all at once, at those few
	// hosts keeps its partner from waiting a probe interval. Many hosts
	// down is an outage, not a rollout's reboots: the probes' word stands,
	// and no decision waits on a hundred timeouts.
	if len(down) == 0 || len(down) > maxRecheck {
		return down
	}
	inv := m.inv()
	var again []*fleet.Host
	for name := range down {
		if h := inv.Host(name); h != nil {
			again = append(again, h)
		}
	}
	still := m.checker.Down(ctx, inv, again)
	for name := range down {
		if _, ok := still[name]; !ok {
			delete(down, name)
		}
	}
	return down
}

// RolloutEvent follows the rollouts' hosts in and out of maintenance, to
// mute their alerts meanwhile. It reads nothing: the event says it all.
func (m *Monitor) RolloutEvent(_ context.Context, ev rollout.Event) { m.alerts.rolloutEvent(ev) }

// HostHealth is what the probes say of each host, for the status page.
// Hosts without an answer yet are left out, and so are hosts a rollout has
// in maintenance until their grace period ends: a drained host rebooting
// on plan is no trouble for its customers, and the rollout tells the page
// when they could notice.
func (m *Monitor) HostHealth() map[string]fleet.HostHealth {
	out := m.probes.hostHealth()
	m.alerts.leaveOutMaintained(out)
	return out
}

// Targets is the probe targets in force.
func (m *Monitor) Targets() []*probe.Target { return m.probes.current() }

// Probes is every target with where it stands, by host and probe.
func (m *Monitor) Probes() []Standing {
	out := m.probes.standings()
	slices.SortStableFunc(out, func(a, b Standing) int {
		return cmp.Or(strings.Compare(a.Target.Host.Name, b.Target.Host.Name), strings.Compare(a.Target.Def.Name, b.Target.Def.Name))
	})
	return out
}

// Counts tallies the targets by state: unknown, up or down.
func (m *Monitor) Counts() map[string]int { return m.probes.counts() }

// Firing counts the alerts firing, muted or not.
func (m *Monitor) Firing() int { return m.alerts.firing() }

// Raised is an alert the monitor raised, firing or resolved in the last
// hour, with what became of it.
type Raised struct {
	alert.Alert
	// Notified is true once a receiver was told it fires.
	Notified bool
	// SilencedBy and Maintenance say what mutes it while it fires: the
	// silences that match it, and the rollout that has its host down.
	SilencedBy  []string
	Maintenance string
}

// Alerts is every alert raised: firing ones first, newest first, then those
// resolved in the last hour.
func (m *Monitor) Alerts() []Raised { return m.alerts.list() }
