package rollout

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/lb"
	"github.com/illico-dev/illico/internal/plan"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/sshx"
)

// benchPlan is the maintenance the benchmark rolls: every host rebooted,
// behind its load balancer, a canary first and then half the fleet at most.
// scripts/bench-rollout runs the same steps as an Ansible playbook
// (bench/ansible/rolling-reboot.yml).
const benchPlan = `name: Rolling reboot
steps:
  - drain
  - run: "true"
  - reboot: always
  - wait_healthy:
    min_healthy: 1s
  - undrain
strategy:
  canary: 1
  max_parallel: 50%
`

// rebootStep is the index of the reboot in benchPlan's steps.
const rebootStep = 2

// BenchmarkRolloutLab rolls benchPlan over a lab of 20 hosts (10 pairs over
// two datacenters; ILLICO_BENCH_HOSTS changes the size) whose reboots take 1
// to 6 s, with customer traffic through HAProxy, and reports:
//
//   - makespan-s: the rollout's creation to its end;
//   - bound-s and makespan/bound: the lower bound of lowerBound, from the
//     hosts' measured durations;
//   - overhead-ms/host: the engine's own time per host, host-ms/host (its
//     wall time beyond its steps' own durations: records, events, goroutine
//     hand-offs) plus sched-ms/host (see schedLatency);
//   - detect-ms and detect-max-ms: from a rebooted host's sshd answering
//     again, as the lab logs it, to the end of its reboot step;
//   - requests and failed-requests: customer requests during the rollout.
//
// The engine runs with the daemon's defaults (poll 250ms, tick 1s). Run it
// once: go test -run '^$' -bench RolloutLab -benchtime 1x ./internal/rollout
func BenchmarkRolloutLab(b *testing.B) {
	hosts := 20
	if s := os.Getenv("ILLICO_BENCH_HOSTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			b.Fatalf("ILLICO_BENCH_HOSTS=%q: want a number of hosts, at least 2", s)
		}
		hosts = n
	}
	boots := &bootLog{}
	l := labtest.Start(b, lab.Options{Hosts: hosts, RebootMin: time.Second, RebootMax: 6 * time.Second, Logger: slog.New(boots)})
	calls := &calls{}
	r := benchEngine(b, l, calls)
	p, err := plan.Parse("bench.yaml", []byte(benchPlan))
	if err != nil {
		b.Fatal(err)
	}
	var sum figures
	runs := 0
	for b.Loop() {
		sum.add(rolloutOnce(b, l, r, p, boots, calls))
		runs++
	}
	n := float64(runs)
	b.ReportMetric(0, "ns/op") // makespan-s says it better
	b.ReportMetric(sum.makespan.Seconds()/n, "makespan-s")
	b.ReportMetric(sum.bound.Seconds()/n, "bound-s")
	b.ReportMetric(sum.ratio/n, "makespan/bound")
	b.ReportMetric(ms(sum.host+sum.sched)/n, "overhead-ms/host")
	b.ReportMetric(ms(sum.host)/n, "host-ms/host")
	b.ReportMetric(ms(sum.sched)/n, "sched-ms/host")
	b.ReportMetric(ms(sum.detect)/n, "detect-ms")
	b.ReportMetric(ms(sum.detectMax)/n, "detect-max-ms")
	b.ReportMetric(ms(sum.down)/n, "down-check-ms")
	b.ReportMetric(ms(sum.save)/n, "save-ms")
	b.ReportMetric(float64(sum.requests)/n, "requests")
	b.ReportMetric(float64(sum.failed)/n, "failed-requests")
}

// figures are one rollout's measures; durations per host are means.
type figures struct {
	makespan, bound   time.Duration
	ratio             float64
	host, sched       time.Duration
	detect, detectMax time.Duration
	// down and save are the mean durations of the engine's look at the
	// fleet's health before each decision, and of a host run's record.
	down, save       time.Duration
	requests, failed int64
}

func (f *figures) add(g figures) {
	f.makespan += g.makespan
	f.bound += g.bound
	f.ratio += g.ratio
	f.host += g.host
	f.sched += g.sched
	f.detect += g.detect
	f.detectMax += g.detectMax
	f.down += g.down
	f.save += g.save
	f.requests += g.requests
	f.failed += g.failed
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rolloutOnce runs benchPlan to its end and measures it.
func rolloutOnce(b *testing.B, l *lab.Lab, r *rig, p *fleet.Plan, boots *bootLog, calls *calls) figures {
	b.Helper()
	calls.reset()
	tr := labtest.StartTraffic(l.Info().Frontends)
	started, err := r.engine.Start(b.Context(), StartRequest{PlanFile: "bench.yaml", PlanSource: benchPlan})
	if err != nil {
		tr.End()
		b.Fatal(err)
	}
	ro, err := waitRollout(r.store, started.ID, 10*time.Minute)
	total, failed := tr.End()
	if err != nil {
		b.Fatal(err)
	}
	if ro.State != fleet.RolloutDone {
		b.Fatalf("rollout ended %s: %s", ro.State, ro.Reason)
	}

	// What the hosts' workers said: each step's own duration, and when the
	// reboot step ended.
	took := map[string]time.Duration{}
	rebootEnd := map[string]time.Time{}
	steps := map[string]int{}
	r.events.mu.Lock()
	for i, e := range r.events.list {
		if e.Rollout != ro.ID || e.Kind != KindHostStep {
			continue
		}
		took[e.Host] += e.Took
		if steps[e.Host] == rebootStep {
			rebootEnd[e.Host] = r.events.at[i]
		}
		steps[e.Host]++
	}
	r.events.mu.Unlock()

	names := make([]string, len(ro.Hosts))
	for i, h := range ro.Hosts {
		names[i] = h.Host
	}
	top := NewTopology(r.inv, names)
	parallel := MaxParallel(p.Strategy, len(ro.Hosts))
	f := figures{makespan: ro.EndedAt.Sub(ro.CreatedAt), requests: total, failed: failed}
	down, save, slow := calls.summary()
	f.down, f.save = down.mean, save.mean
	f.bound = lowerBound(top, ro.Hosts, parallel)
	f.ratio = f.makespan.Seconds() / f.bound.Seconds()
	// The testing package keeps ten lines of a benchmark's log: the worst
	// hosts are logged, not every host.
	var worstOverhead, worstDetect string
	var maxOverhead time.Duration
	for _, h := range ro.Hosts {
		wall := h.EndedAt.Sub(h.StartedAt)
		sched := schedLatency(top, ro, p, h.Host)
		boot, downFor, ok := boots.boot(h.Host, h.StartedAt, rebootEnd[h.Host])
		if !ok {
			b.Fatalf("the lab logged no boot of %s during its reboot step; has its log changed?", h.Host)
		}
		detect := rebootEnd[h.Host].Sub(boot)
		line := fmt.Sprintf("%s: waited %.1f ms to start, wall %.2f s, steps %.2f s, beyond them %.1f ms, down %.2f s, back detected in %.0f ms",
			h.Host, ms(sched), wall.Seconds(), took[h.Host].Seconds(), ms(wall-took[h.Host]), downFor.Seconds(), ms(detect))
		if o := wall - took[h.Host] + sched; o >= maxOverhead {
			maxOverhead, worstOverhead = o, line
		}
		if detect >= f.detectMax {
			f.detectMax, worstDetect = detect, line
		}
		f.host += wall - took[h.Host]
		f.sched += sched
		f.detect += detect
	}
	n := time.Duration(len(ro.Hosts))
	f.host, f.sched, f.detect = f.host/n, f.sched/n, f.detect/n
	b.Logf("%d hosts: makespan %.2f s, lower bound %.2f s (ratio %.3f); overhead %.1f ms/host (%.1f beyond the steps + %.1f scheduling); reboot detected in %.0f ms (at most %.0f); customer requests %d, failed %d",
		len(ro.Hosts), f.makespan.Seconds(), f.bound.Seconds(), f.ratio, ms(f.host+f.sched), ms(f.host), ms(f.sched), ms(f.detect), ms(f.detectMax), total, failed)
	b.Logf("the engine's calls out: %s; %s; %d SSH commands took 1 s or more%s", down, save, len(slow), firstOf(slow))
	b.Logf("most overhead: %s", worstOverhead)
	b.Logf("slowest detection: %s", worstDetect)
	return f
}

// lowerBound is a makespan no schedule can beat with these hosts' measured
// durations (start to end) under the plan's rules. The canaries run first,
// alone; then the rest. Each phase lasts at least as long as its longest
// host, as its total host-time spread over max_parallel slots, and, for
// every group, as its members' total host-time spread over the members the
// budget lets down at once (a pair: its two hosts one after the other).
func lowerBound(top *Topology, hosts []fleet.HostRun, parallel int) time.Duration {
	var canaries, rest []fleet.HostRun
	for _, h := range hosts {
		if h.Canary {
			canaries = append(canaries, h)
		} else {
			rest = append(rest, h)
		}
	}
	return phaseBound(top, canaries, parallel) + phaseBound(top, rest, parallel)
}

func phaseBound(top *Topology, hosts []fleet.HostRun, parallel int) time.Duration {
	var longest, total time.Duration
	group := make([]time.Duration, len(top.Groups))
	for _, h := range hosts {
		d := h.EndedAt.Sub(h.StartedAt)
		longest = max(longest, d)
		total += d
		for _, gi := range top.HostGroups[h.Host] {
			group[gi] += d
		}
	}
	bound := max(longest, total/time.Duration(parallel))
	for gi, g := range top.Groups {
		if g.Allowed > 0 {
			bound = max(bound, group[gi]/time.Duration(g.Allowed))
		}
	}
	return bound
}

// schedLatency is how long host waited to start once the scheduler's rules
// let it: the rollout is replayed through Decide at each moment something
// freed a slot or a budget (the rollout's creation, every host's end), with
// the hosts' recorded starts and ends; the host became startable at the
// earliest of those moments from which Decide would have started it without
// a break until it did start. The replay knows nothing of the fleet's health
// checks, so a host held back by a partner still failing them counts that
// wait too: this errs long.
func schedLatency(top *Topology, ro *fleet.Rollout, p *fleet.Plan, host string) time.Duration {
	var start time.Time
	moments := []time.Time{ro.CreatedAt}
	for _, h := range ro.Hosts {
		moments = append(moments, h.EndedAt)
		if h.Host == host {
			start = h.StartedAt
		}
	}
	slices.SortFunc(moments, func(a, b time.Time) int { return a.Compare(b) })
	startable := func(at time.Time) bool {
		runs := slices.Clone(ro.Hosts)
		for i := range runs {
			switch {
			case !runs[i].EndedAt.After(at):
				runs[i].State = fleet.HostDone
			case !runs[i].StartedAt.After(at) && runs[i].StartedAt.Before(start):
				// Hosts that started with this one were still pending.
				runs[i].State = fleet.HostRunning
			default:
				runs[i].State = fleet.HostPending
			}
		}
		d := Decide(top, Input{
			State: fleet.RolloutRunning, Hosts: runs, WindowOpen: true,
			MaxParallel: MaxParallel(p.Strategy, len(runs)),
			MaxFailures: MaxFailures(p.Strategy, len(runs)),
		})
		return slices.Contains(d.Start, host)
	}
	var enabled time.Time
	for i := len(moments) - 1; i >= 0; i-- {
		if moments[i].After(start) {
			continue
		}
		if enabled.IsZero() {
			// Even when the replay disagrees, the last moment before the
			// start is the best estimate there is.
			enabled = moments[i]
		}
		if !startable(moments[i]) {
			break
		}
		enabled = moments[i]
	}
	if enabled.IsZero() {
		return 0
	}
	return start.Sub(enabled)
}

// bootLog keeps the lab's reboots and boots from its log: the lab says when
// a host's sshd answers again, which nothing seen over SSH can tell.
type bootLog struct {
	mu     sync.Mutex
	events []labEvent
}

type labEvent struct {
	msg, host string
	at        time.Time
	downFor   time.Duration
}

func (l *bootLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *bootLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "booted" && r.Message != "rebooting" {
		return nil
	}
	e := labEvent{msg: r.Message, at: r.Time}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "host":
			e.host = a.Value.String()
		case "down_for":
			e.downFor = a.Value.Duration()
		}
		return true
	})
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
	return nil
}

// The lab logs a host's name on each record, never through With.
func (l *bootLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *bootLog) WithGroup(string) slog.Handler      { return l }

// boot returns when host last booted between from and to, and how long the
// lab kept it down before.
func (l *bootLog) boot(host string, from, to time.Time) (at time.Time, downFor time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.host != host || e.at.Before(from) || e.at.After(to) {
			continue
		}
		switch e.msg {
		case "rebooting":
			downFor = e.downFor
		case "booted":
			at, ok = e.at, true
		}
	}
	return at, downFor, ok
}

// benchEngine is startEngine for a benchmark, with the daemon's poll and
// tick, events kept rather than logged, and the engine's health looks and
// records timed.
func benchEngine(b *testing.B, l *lab.Lab, calls *calls) *rig {
	b.Helper()
	inv, err := inventory.Load(l.Info().Files.Inventory)
	if err != nil {
		b.Fatal(err)
	}
	db := openStore(b)
	pool := sshx.NewPool(sshx.Options{})
	b.Cleanup(pool.Close)
	checker := probe.NewHealth(probe.NewProber(&http.Client{}, pool, time.Now).Probe, probe.DefaultInterval)
	ev := &events{}
	balancers := &lb.Set{}
	e := NewEngine(Options{
		Store:     timedStore{Store: db, calls: calls},
		Remote:    timedRemote{Remote: pool, calls: calls},
		Balancer:  func(name string) Balancer { return balancers.For(inv.LoadBalancer(name)) },
		Health:    checker,
		Inventory: func() *fleet.Inventory { return inv },
		Down: func(ctx context.Context, hosts []*fleet.Host) map[string]string {
			defer calls.time(&calls.down, time.Now())
			return checker.Down(ctx, inv, hosts)
		},
		Event: func(_ context.Context, e Event) { ev.add(e) },
	})
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{engine: e, store: db, inv: inv, events: ev, cancel: cancel, done: make(chan struct{})}
	go func() { _ = e.Run(ctx); close(r.done) }()
	b.Cleanup(r.stop)
	for deadline := time.Now().Add(10 * time.Second); !e.ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the engine did not start within 10s")
		}
	}
	return r
}

// calls times what the engine waits on between a host's end and the next
// start: its look at the fleet's health before each decision, and the
// records it writes.
type calls struct {
	mu         sync.Mutex
	down, save []time.Duration
	// slow are the SSH commands that took a second or more.
	slow []string
}

func (c *calls) time(list *[]time.Duration, since time.Time) {
	d := time.Since(since)
	c.mu.Lock()
	*list = append(*list, d)
	c.mu.Unlock()
}

func (c *calls) reset() {
	c.mu.Lock()
	c.down, c.save, c.slow = nil, nil, nil
	c.mu.Unlock()
}

func (c *calls) summary() (down, save spread, slow []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return newSpread("health looks", c.down), newSpread("records", c.save), slices.Clone(c.slow)
}

// spread is how long a kind of call took.
type spread struct {
	what       string
	n          int
	mean, peak time.Duration
}

func newSpread(what string, ds []time.Duration) spread {
	s := spread{what: what, n: len(ds)}
	for _, d := range ds {
		s.mean += d
		s.peak = max(s.peak, d)
	}
	if s.n > 0 {
		s.mean /= time.Duration(s.n)
	}
	return s
}

func (s spread) String() string {
	return fmt.Sprintf("%d %s, %.1f ms each (at most %.1f)", s.n, s.what, ms(s.mean), ms(s.peak))
}

// timedStore is the engine's store with its writes timed.
type timedStore struct {
	Store
	calls *calls
}

func (s timedStore) SaveHostRun(ctx context.Context, id string, h fleet.HostRun) error {
	defer s.calls.time(&s.calls.save, time.Now())
	return s.Store.SaveHostRun(ctx, id, h)
}

func (s timedStore) UpdateRollout(ctx context.Context, r *fleet.Rollout) error {
	defer s.calls.time(&s.calls.save, time.Now())
	return s.Store.UpdateRollout(ctx, r)
}

// timedRemote is the engine's SSH with its slow commands noted: a reboot
// seen back late is often one command that hung until its timeout.
type timedRemote struct {
	Remote
	calls *calls
}

func (r timedRemote) Run(ctx context.Context, h *fleet.Host, cmd string, stdout, stderr io.Writer) (fleet.CommandResult, error) {
	start := time.Now()
	res, err := r.Remote.Run(ctx, h, cmd, stdout, stderr)
	if d := time.Since(start); d >= time.Second {
		r.calls.mu.Lock()
		r.calls.slow = append(r.calls.slow, fmt.Sprintf("%s on %s: %.2f s (%v)", filepath.Base(cmd), h.Name, d.Seconds(), err))
		r.calls.mu.Unlock()
	}
	return res, err
}

func firstOf(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return ", the first: " + list[0]
}

// The benchmark's figures are only as good as their arithmetic.
func TestBenchFigures(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// run is a host that ran from ms start to ms end.
	run := func(host string, canary bool, start, end int) fleet.HostRun {
		return fleet.HostRun{Host: host, Canary: canary, State: fleet.HostDone, StartedAt: at(start), EndedAt: at(end)}
	}
	// Two pairs, c and x in one, y and z in the other.
	top := &Topology{
		Groups:     []Group{{Name: "web-01", Members: []string{"c", "x"}, Allowed: 1}, {Name: "web-02", Members: []string{"y", "z"}, Allowed: 1}},
		HostGroups: map[string][]int{"c": {0}, "x": {0}, "y": {1}, "z": {1}},
	}
	tests := []struct {
		name     string
		hosts    []fleet.HostRun
		parallel int
		bound    time.Duration
		waited   map[string]time.Duration
	}{
		{
			name:     "a pair one host after the other",
			hosts:    []fleet.HostRun{run("c", true, 2, 4002), run("y", false, 4010, 6010), run("x", false, 4012, 5012), run("z", false, 6060, 9060)},
			parallel: 2,
			bound:    9 * time.Second, // 4 s of canary, then y and z: 2 s + 3 s
			waited:   map[string]time.Duration{"c": 2 * time.Millisecond, "y": 8 * time.Millisecond, "x": 10 * time.Millisecond, "z": 50 * time.Millisecond},
		},
		{
			name:     "one slot",
			hosts:    []fleet.HostRun{run("c", true, 0, 1000), run("y", false, 1000, 3000), run("x", false, 3100, 5100), run("z", false, 5100, 7100)},
			parallel: 1,
			bound:    7 * time.Second, // 1 s, then 6 s of hosts through one slot
			// x could start once y ended, and z once x did.
			waited: map[string]time.Duration{"c": 0, "y": 0, "x": 100 * time.Millisecond, "z": 0},
		},
		{
			name:     "the longest host, then its partner",
			hosts:    []fleet.HostRun{run("c", true, 0, 1000), run("y", false, 1000, 7000), run("x", false, 1000, 2000), run("z", false, 7000, 7500)},
			parallel: 10,
			bound:    7500 * time.Millisecond, // 1 s, then y and z one after the other
			waited:   map[string]time.Duration{"c": 0, "y": 0, "x": 0, "z": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lowerBound(top, tt.hosts, tt.parallel); got != tt.bound {
				t.Errorf("lower bound %s, want %s", got, tt.bound)
			}
			ro := &fleet.Rollout{CreatedAt: t0, Hosts: tt.hosts}
			p := &fleet.Plan{Strategy: fleet.Strategy{Canary: 1, MaxParallel: fleet.Quantity{N: tt.parallel}}}
			for host, want := range tt.waited {
				if got := schedLatency(top, ro, p, host); got != want {
					t.Errorf("%s waited %s, want %s", host, got, want)
				}
			}
		})
	}
}
