package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/probe"
)

var t0 = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

type bench struct {
	tb  testing.TB
	inv *fleet.Inventory
	p   *Pipeline
	now time.Time
}

// newBench is a pipeline over 30 hosts: datacenters a and b on site s1, c
// on s2, ten hosts each; groups svc-00…svc-04 of six hosts, two per
// datacenter.
func newBench(tb testing.TB) *bench {
	tb.Helper()
	cfg, err := Load("alerts.yaml", []byte("route: {receiver: oncall, repeat_interval: 1h}\nreceivers: {oncall: {webhook: {url: 'http://127.0.0.1:9/'}}}\nmaintenance_grace: 2m\n"))
	if err != nil {
		tb.Fatal(err)
	}
	inv := fleetOf(tb, 10, map[string]string{"a": "s1", "b": "s1", "c": "s2"})
	return &bench{tb: tb, inv: inv, p: New(cfg, inv), now: t0}
}

func (b *bench) change(host string, to probe.State) {
	b.tb.Helper()
	h := b.inv.Host(host)
	if h == nil {
		b.tb.Fatalf("no host %s", host)
	}
	def := &probe.Definition{Name: "boot", Kind: probe.KindSSH}
	tg := def.Expand(h)
	from := probe.StateUp
	if to == probe.StateUp {
		from = probe.StateDown
	}
	a, ok := FromChange(probe.Change{Target: &tg, From: from, To: to, At: b.now, Reason: "[CONNECTED] == true"}, b.inv)
	if !ok {
		b.tb.Fatalf("no alert for %s going %s", host, to)
	}
	b.p.Receive(a)
}

func (b *bench) down(hosts ...string) {
	for _, h := range hosts {
		b.change(h, probe.StateDown)
	}
}

func (b *bench) up(hosts ...string) {
	for _, h := range hosts {
		b.change(h, probe.StateUp)
	}
}

// wait flushes every second for d and returns what was sent, each
// notification delivered.
func (b *bench) wait(d time.Duration) []Notification {
	out := b.handOut(d)
	for _, n := range out {
		b.p.Sent(n)
	}
	return out
}

// handOut flushes every second for d and returns what was handed out,
// none of it settled.
func (b *bench) handOut(d time.Duration) []Notification {
	var out []Notification
	for end := b.now.Add(d); b.now.Before(end); {
		b.now = b.now.Add(time.Second)
		out = append(out, b.p.Flush(b.now)...)
	}
	return out
}

// says is each notification's firing and resolved summaries, compactly:
// "+host-a|-host-b".
func says(ns []Notification) []string {
	var out []string
	for _, n := range ns {
		var parts []string
		for _, a := range n.Firing {
			parts = append(parts, "+"+name(a))
		}
		for _, a := range n.Resolved {
			parts = append(parts, "-"+name(a))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func name(a Alert) string {
	for _, l := range []string{LabelHost, LabelDatacenter, LabelSite, LabelGroup} {
		if v := a.Labels[l]; v != "" {
			return v
		}
	}
	return a.Labels[LabelAlertname]
}

func expect(tb testing.TB, what string, got []Notification, want ...string) {
	tb.Helper()
	if g := strings.Join(says(got), " ; "); g != strings.Join(want, " ; ") {
		for _, n := range got {
			tb.Log(n.Text())
		}
		tb.Fatalf("%s: sent %q, want %q", what, g, strings.Join(want, " ; "))
	}
}

func TestGrouping(t *testing.T) {
	b := newBench(t)
	b.down("a-000")
	expect(t, "within group_wait", b.wait(10*time.Second))
	b.down("a-001")
	expect(t, "at group_wait", b.wait(21*time.Second), "+a-000|+a-001")
	b.down("a-002")
	b.down("c-000") // another datacenter, another group
	expect(t, "another group waits its own group_wait", b.wait(31*time.Second), "+c-000")
	expect(t, "digest at group_interval", b.wait(4*time.Minute+29*time.Second), "+a-000|+a-001|+a-002")
	expect(t, "nothing new", b.wait(30*time.Minute))
	b.up("a-001")
	expect(t, "resolved in the next digest", b.wait(5*time.Minute), "+a-000|+a-002|-a-001")
	expect(t, "repeat_interval", b.wait(time.Hour), "+c-000", "+a-000|+a-002")
	b.up("a-000", "a-002", "c-000")
	expect(t, "all back", b.wait(10*time.Minute), "-c-000", "-a-000|-a-002")
	b.down("a-000")
	b.up("a-000")
	expect(t, "a flap within group_wait says nothing", b.wait(10*time.Minute))
	if len(b.p.alerts) != 0 || len(b.p.groups) != 0 {
		t.Errorf("the pipeline still holds %d alerts and %d groups", len(b.p.alerts), len(b.p.groups))
	}
}

func TestFolding(t *testing.T) {
	t.Run("a datacenter", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000", "a-001", "a-002", "a-003", "a-004")
		b.wait(time.Second)
		b.down("a-005") // 6 of 10: 60%
		expect(t, "folded", b.wait(time.Minute), "+a")
		b.up("a-000", "a-001", "a-002")
		expect(t, "still down while 3 of 10 are", b.wait(10*time.Minute))
		b.up("a-003")
		expect(t, "back under half the threshold: the 2 still down alert alone, and the datacenter is back at its group_interval",
			b.wait(5*time.Minute), "+a-004|+a-005", "-a")
	})
	t.Run("a site", func(t *testing.T) {
		b := newBench(t)
		for _, h := range b.inv.Hosts {
			if h.Site == "s1" && !strings.HasSuffix(h.Name, "9") {
				b.down(h.Name)
			}
		}
		expect(t, "one site alert, no datacenter or host alert", b.wait(time.Minute), "+s1")
	})
	t.Run("a group", func(t *testing.T) {
		b := newBench(t)
		g := b.inv.Group("svc-01")
		b.down(g.Members...)
		b.down("c-009")
		ns := b.wait(time.Minute)
		expect(t, "one group alert; other hosts alone", ns, "+svc-01", "+c-009")
		if s := ns[0].Firing[0].Summary(); !strings.Contains(s, "group svc-01 is down: 6 of 6 hosts down: a-001, a-006, b-001") {
			t.Errorf("summary: %s", s)
		}
	})
}

func TestSilences(t *testing.T) {
	must := func(tb testing.TB, s string) labels.Matcher {
		m, err := labels.ParseMatcher(s)
		if err != nil {
			tb.Fatal(err)
		}
		return m
	}
	t.Run("mute then expire", func(t *testing.T) {
		b := newBench(t)
		s, err := b.p.AddSilence(Silence{Matchers: []labels.Matcher{must(t, `host="a-000"`)}, StartsAt: b.now, EndsAt: b.now.Add(time.Hour), CreatedBy: "ops", Comment: "disk swap"})
		if err != nil {
			t.Fatal(err)
		}
		b.down("a-000")
		expect(t, "silenced", b.wait(10*time.Minute))
		if err := b.p.ExpireSilence(s.ID, b.now); err != nil {
			t.Fatal(err)
		}
		expect(t, "expired", b.wait(time.Minute), "+a-000")
	})
	t.Run("a notified alert silenced later still says it resolved", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000", "a-001")
		expect(t, "firing", b.wait(time.Minute), "+a-000|+a-001")
		if _, err := b.p.AddSilence(Silence{Matchers: []labels.Matcher{must(t, `host=~"a-00[01]"`)}, StartsAt: b.now, EndsAt: b.now.Add(time.Hour), CreatedBy: "ops", Comment: "known"}); err != nil {
			t.Fatal(err)
		}
		expect(t, "silenced", b.wait(time.Hour-time.Minute))
		b.up("a-000")
		expect(t, "resolved", b.wait(5*time.Minute), "-a-000")
	})
	t.Run("invalid", func(t *testing.T) {
		b := newBench(t)
		for _, s := range []Silence{
			{StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ops", Comment: "x"},
			{Matchers: []labels.Matcher{must(t, "a=b")}, StartsAt: t0, EndsAt: t0, CreatedBy: "ops", Comment: "x"},
			{Matchers: []labels.Matcher{must(t, "a=b")}, StartsAt: t0, EndsAt: t0.Add(time.Hour), Comment: "x"},
			{Matchers: []labels.Matcher{must(t, "a=b")}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ops"},
		} {
			if _, err := b.p.AddSilence(s); fleet.KindOf(err) != fleet.KindInvalid {
				t.Errorf("AddSilence(%+v) = %v, want an invalid error", s, err)
			}
		}
		if err := b.p.ExpireSilence("42", t0); fleet.KindOf(err) != fleet.KindNotFound {
			t.Errorf("ExpireSilence(42) = %v, want not found", err)
		}
	})
}

func TestMaintenance(t *testing.T) {
	b := newBench(t)
	for _, h := range []string{"a-000", "a-001"} {
		b.p.Maintain(Maintenance{Host: h, Rollout: "r-7", Step: "reboot", Start: b.now})
	}
	b.down("a-000", "a-001")
	expect(t, "rebooting on plan", b.wait(3*time.Minute))
	for _, h := range []string{"a-000", "a-001"} {
		b.p.Maintain(Maintenance{Host: h, Rollout: "r-7", Step: "reboot", Start: t0, End: b.now})
	}
	b.up("a-000")
	expect(t, "within the grace period", b.wait(119*time.Second))
	ns := b.wait(31 * time.Second)
	expect(t, "not back after the grace period", ns, "+a-001")
	if a := ns[0].Firing[0]; a.Annotations["rollout"] != "r-7" || !strings.Contains(a.Summary(), "not back 2m0s after rollout r-7 took it down in step reboot") {
		t.Errorf("the alert does not name the rollout: %v", a.Annotations)
	}
}

// A host seen healthy after its maintenance is back: trouble that begins
// then is new and pages as usual, while what began in the maintenance
// still has its grace period.
func TestTroubleAfterAHostIsBack(t *testing.T) {
	b := newBench(t)
	b.p.Maintain(Maintenance{Host: "a-000", Rollout: "r-7", Step: "reboot", Start: b.now})
	b.p.Maintain(Maintenance{Host: "a-001", Rollout: "r-7", Step: "reboot", Start: b.now})
	b.down("a-001")
	expect(t, "rebooting on plan", b.wait(time.Minute))
	end := b.now
	b.p.Maintain(Maintenance{Host: "a-000", Rollout: "r-7", Step: "reboot", Start: t0, End: end, Back: end})
	b.p.Maintain(Maintenance{Host: "a-001", Rollout: "r-7", Step: "reboot", Start: t0, End: end})
	b.wait(10 * time.Second)
	b.down("a-000")
	ns := b.wait(time.Minute)
	expect(t, "new trouble after the host was back", ns, "+a-000")
	if a := ns[0].Firing[0]; a.Annotations["rollout"] != "" {
		t.Errorf("new trouble is blamed on the rollout: %v", a.Annotations)
	}
}
