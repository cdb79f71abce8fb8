package alert

import (
	"fmt"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
)

// fleetOf is n hosts per datacenter, datacenters named by site, and groups
// of six hosts spread over every datacenter, as redundancy wants.
func fleetOf(tb testing.TB, n int, dcs map[string]string) *fleet.Inventory {
	tb.Helper()
	inv := &fleet.Inventory{}
	sites := map[string]bool{}
	var dcNames []string
	for _, dc := range []string{"rbx-1", "rbx-2", "gra-1", "a", "b", "c"} {
		site, ok := dcs[dc]
		if !ok {
			continue
		}
		dcNames = append(dcNames, dc)
		inv.Datacenters = append(inv.Datacenters, &fleet.Datacenter{Name: dc, Site: site})
		if !sites[site] {
			sites[site] = true
			inv.Sites = append(inv.Sites, &fleet.Site{Name: site})
		}
	}
	if len(dcNames) != len(dcs) {
		tb.Fatalf("fleetOf knows datacenters rbx-1, rbx-2, gra-1, a, b, c; got %v", dcs)
	}
	groups := max(1, n/2)
	for i := range groups {
		inv.Groups = append(inv.Groups, &fleet.Group{Name: fmt.Sprintf("svc-%02d", i)})
	}
	for _, dc := range dcNames {
		for i := range n {
			g := inv.Groups[i%groups]
			h := &fleet.Host{Name: fmt.Sprintf("%s-%03d", dc, i), Datacenter: dc, Site: dcs[dc], Groups: []string{g.Name}}
			h.Address = h.Name + ".example"
			inv.Hosts = append(inv.Hosts, h)
			g.Members = append(g.Members, h.Name)
		}
	}
	return inv
}

// simHost is one host's ssh probe as the scheduler runs it: on a grid
// spread over the interval, down after three failures, up after a success.
type simHost struct {
	target probe.Target
	offset time.Duration
	state  probe.State
	fails  int
	frozen func(time.Time) bool
}

type sim struct {
	tb    testing.TB
	start time.Time
	hosts []*simHost
	p     *Pipeline
	inv   *fleet.Inventory
	sent  []Notification
}

func newSim(tb testing.TB, cfg *Config, inv *fleet.Inventory) *sim {
	tb.Helper()
	def := &probe.Definition{Name: "boot", Kind: probe.KindSSH}
	def.SetDefaults()
	def.Interval = 10 * time.Second
	s := &sim{tb: tb, start: time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC), p: New(cfg, inv), inv: inv}
	for _, h := range inv.Hosts {
		t := def.Expand(h)
		s.hosts = append(s.hosts, &simHost{target: t, offset: probe.Offset(t.ID, def.Interval), frozen: func(time.Time) bool { return false }})
	}
	return s
}

// run advances the clock second by second to until, running the probes
// due and flushing the pipeline.
func (s *sim) run(from, until time.Duration) {
	for now := s.start.Add(from); !now.After(s.start.Add(until)); now = now.Add(time.Second) {
		for _, h := range s.hosts {
			interval := h.target.Def.Interval
			elapsed := now.Sub(s.start) - h.offset
			if elapsed < 0 || elapsed%interval >= time.Second {
				continue
			}
			ok := !h.frozen(now)
			s.observe(h, ok, now)
		}
		s.sent = append(s.sent, s.p.Flush(now)...)
	}
}

func (s *sim) observe(h *simHost, ok bool, now time.Time) {
	from := h.state
	if ok {
		h.fails = 0
	} else {
		h.fails++
	}
	switch {
	case ok && h.state != probe.StateUp:
		h.state = probe.StateUp
	case !ok && h.state != probe.StateDown && h.fails >= h.target.Def.FailureThreshold:
		h.state = probe.StateDown
	default:
		return
	}
	reason := ""
	if !ok {
		reason = "ssh: i/o timeout"
	}
	if a, ok := FromChange(probe.Change{Target: &h.target, From: from, To: h.state, At: now, Reason: reason}, s.inv); ok {
		s.p.Receive(a)
	}
}

func (s *sim) print(ns []Notification) {
	for _, n := range ns {
		s.tb.Logf("at +%s to %s:\n%s", n.At.Sub(s.start), n.Receiver, n.Text())
	}
}

func TestSimulationLostDatacenter(t *testing.T) {
	cfg, err := Load("alerts.yaml", []byte("route: {receiver: oncall}\nreceivers:\n  oncall:\n    webhook: {url: 'http://127.0.0.1:9/'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	inv := fleetOf(t, 100, map[string]string{"rbx-1": "rbx", "rbx-2": "rbx", "gra-1": "gra"})
	s := newSim(t, cfg, inv)
	freeze := 2 * time.Minute
	heal := freeze + 10*time.Minute
	for i, h := range s.hosts {
		if h.target.Host.Datacenter != "rbx-2" {
			continue
		}
		// Within a few seconds of each other, as a datacenter's uplinks fail.
		at := s.start.Add(freeze + time.Duration(i%4)*time.Second)
		h.frozen = func(now time.Time) bool { return !now.Before(at) && now.Before(s.start.Add(heal)) }
	}

	s.run(0, freeze)
	if len(s.sent) != 0 {
		s.print(s.sent)
		t.Fatalf("a healthy fleet sent %d notifications", len(s.sent))
	}
	s.run(freeze+time.Second, heal-time.Second)
	down := s.sent
	t.Logf("%d notification(s) in the 10 minutes after rbx-2 froze:", len(down))
	s.print(down)
	if len(down) == 0 || len(down) > 3 {
		t.Fatalf("got %d notifications for a lost datacenter, want 1 to 3", len(down))
	}
	first := down[0]
	if first.Status() != StatusFiring || len(first.Firing) != 1 || first.Firing[0].Labels[LabelAlertname] != DatacenterDown ||
		first.Firing[0].Labels[LabelDatacenter] != "rbx-2" {
		t.Fatalf("first notification is not one rbx-2 DatacenterDown alert:\n%s", first.Text())
	}

	s.sent = nil
	s.run(heal, heal+10*time.Minute)
	t.Logf("%d notification(s) after heal:", len(s.sent))
	s.print(s.sent)
	if len(s.sent) != 1 || s.sent[0].Status() != StatusResolved || len(s.sent[0].Resolved) != 1 {
		t.Fatalf("got %d notifications after heal, want one resolved notice", len(s.sent))
	}
}
