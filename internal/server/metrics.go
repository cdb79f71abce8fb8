package server

import (
	"context"
	"fmt"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/illico-dev/illico/internal/fleet"
)

// metrics are the daemon's own, in its own registry: two daemons in one test
// process must not share counters, as they would in the global one.
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
	reloads     *prometheus.CounterVec
	hostRuns    *prometheus.CounterVec
	rolloutsEnd *prometheus.CounterVec
	notified    *prometheus.CounterVec
	leader      prometheus.Gauge
	leaderships *prometheus.CounterVec
}

// buildInfo is what illico_build_info says of the running binary.
type buildInfo struct{ version, commit, date string }

func newMetrics(build buildInfo, inv func() *fleet.Inventory, rollouts func(context.Context) (map[fleet.RolloutState]int, error)) (*metrics, error) {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "illico_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "illico_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "illico_store_errors_total",
			Help: "Store operations that failed because of the database, by operation.",
		}, []string{"op"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "illico_inventory_reloads_total",
			Help: "Inventory reloads, by result (ok or refused).",
		}, []string{"result"}),
		hostRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "illico_rollout_host_runs_total",
			Help: "Hosts of rollouts that started their maintenance or ended it, by event (started, done, failed, rolled_back, stuck).",
		}, []string{"event"}),
		rolloutsEnd: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "illico_rollouts_ended_total",
			Help: "Rollouts that ended, by final state (done, halted, rolled_back, aborted).",
		}, []string{"state"}),
		notified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "illico_notifications_total",
			Help: "Alert notifications handed to receivers, by receiver and result (sent or failed).",
		}, []string{"receiver", "result"}),
	}
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "illico_leader",
		Help: "1 while this replica leads (runs the rollouts, the probes and the notifications), 0 otherwise.",
	})
	m.leaderships = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "illico_leadership_changes_total",
		Help: "Times this replica began or stopped leading, by change (won, lost).",
	}, []string{"change"})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "illico_build_info",
		Help: "Always 1; the labels say which illico runs.",
		ConstLabels: prometheus.Labels{"version": build.version, "commit": build.commit, "date": build.date,
			"goversion": runtime.Version()},
	})
	info.Set(1)
	gauge := func(name, help string, count func(*fleet.Inventory) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(count(inv())) })
	}
	for _, c := range []prometheus.Collector{
		m.requests, m.duration, m.storeErrors, m.reloads, m.hostRuns, m.rolloutsEnd, m.notified, m.leader, m.leaderships, info,
		newStateCollector(rollouts),
		gauge("illico_inventory_hosts", "Hosts in the inventory in force.", func(i *fleet.Inventory) int { return len(i.Hosts) }),
		gauge("illico_inventory_groups", "Groups in the inventory in force.", func(i *fleet.Inventory) int { return len(i.Groups) }),
		gauge("illico_inventory_datacenters", "Datacenters in the inventory in force.", func(i *fleet.Inventory) int { return len(i.Datacenters) }),
		gauge("illico_inventory_sites", "Sites in the inventory in force.", func(i *fleet.Inventory) int { return len(i.Sites) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.registry.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	// Both results exist from the start, so that rate() sees the first one.
	for _, result := range []string{"ok", "refused"} {
		m.reloads.WithLabelValues(result)
	}
	for _, event := range hostRunEvents {
		m.hostRuns.WithLabelValues(event)
	}
	for _, state := range endStates {
		m.rolloutsEnd.WithLabelValues(string(state))
	}
	return m, nil
}

// delivered counts a notification handed to receiver.
func (m *metrics) delivered(receiver, result string) {
	m.notified.WithLabelValues(receiver, result).Inc()
}

// probeStates are the states illico_probes reports, every one of them
// always, so that a state with no target reads 0 rather than nothing.
var probeStates = []string{"unknown", "up", "down"}

// registerHealth adds the probes' and alerts' gauges, read when scraped.
func (m *metrics) registerHealth(probes func() map[string]int, firing func() int) error {
	states := prometheus.NewDesc("illico_probes", "Probe targets (a probe on a host), by state.", []string{"state"}, nil)
	for _, c := range []prometheus.Collector{
		collectorFunc{desc: states, collect: func(ch chan<- prometheus.Metric) {
			counts := probes()
			for _, st := range probeStates {
				ch <- prometheus.MustNewConstMetric(states, prometheus.GaugeValue, float64(counts[st]), st)
			}
		}},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "illico_alerts_firing",
			Help: "Alerts firing, muted ones included.",
		}, func() float64 { return float64(firing()) }),
	} {
		if err := m.registry.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// collectorFunc is a collector of one metric family computed when scraped.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// leadershipChanged counts a change of this replica's leadership.
func (m *metrics) leadershipChanged(won bool) {
	if won {
		m.leader.Set(1)
		m.leaderships.WithLabelValues("won").Inc()
		return
	}
	m.leader.Set(0)
	m.leaderships.WithLabelValues("lost").Inc()
}
