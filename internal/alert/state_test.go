package alert

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// restart is b's pipeline saved as the daemon saves it (to JSON), and a
// new pipeline on the same config and inventory restored from it, as after
// a restart at b.now plus down.
func (b *bench) restart(down time.Duration) {
	b.tb.Helper()
	data, err := json.Marshal(b.p.State())
	if err != nil {
		b.tb.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		b.tb.Fatal(err)
	}
	cfg, err := Load("alerts.yaml", []byte("route: {receiver: oncall, repeat_interval: 1h}\nreceivers: {oncall: {webhook: {url: 'http://127.0.0.1:9/'}}}\nmaintenance_grace: 2m\n"))
	if err != nil {
		b.tb.Fatal(err)
	}
	b.p = New(cfg, b.inv)
	if dropped := b.p.Restore(st); dropped != 0 {
		b.tb.Fatalf("restore dropped %d groups", dropped)
	}
	b.now = b.now.Add(down)
}

func TestRestore(t *testing.T) {
	t.Run("still firing: not told again before the repeat interval, then resolved", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000", "a-001")
		expect(t, "firing", b.wait(time.Minute), "+a-000|+a-001")
		b.restart(time.Minute)
		// The probes find them down again, from unknown.
		b.down("a-000", "a-001")
		expect(t, "after the restart, within the repeat interval", b.wait(55*time.Minute))
		expect(t, "the repeat interval counts from before the restart", b.wait(5*time.Minute), "+a-000|+a-001")
		b.up("a-000")
		expect(t, "resolved", b.wait(5*time.Minute), "+a-001|-a-000")
	})
	t.Run("resolved during the downtime", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000")
		expect(t, "firing", b.wait(time.Minute), "+a-000")
		b.restart(10 * time.Minute)
		b.up("a-000")
		expect(t, "the resolved notice goes out", b.wait(time.Minute), "-a-000")
		expect(t, "once", b.wait(2*time.Hour))
		if len(b.p.alerts) != 0 || len(b.p.groups) != 0 {
			t.Errorf("the pipeline still holds %d alerts and %d groups", len(b.p.alerts), len(b.p.groups))
		}
	})
	t.Run("resolved before the restart, notice not yet sent", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000", "a-001")
		expect(t, "firing", b.wait(time.Minute), "+a-000|+a-001")
		b.up("a-000")
		expect(t, "within the group interval", b.wait(time.Minute))
		b.restart(time.Minute)
		b.down("a-001")
		expect(t, "the resolved notice at the group interval", b.wait(5*time.Minute), "+a-001|-a-000")
	})
	t.Run("silenced after it was told, resolved after the restart", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000")
		expect(t, "firing", b.wait(time.Minute), "+a-000")
		m, err := labels.ParseMatcher(`host="a-000"`)
		if err != nil {
			t.Fatal(err)
		}
		sl := Silence{ID: "7", Matchers: []labels.Matcher{m}, StartsAt: b.now, EndsAt: b.now.Add(time.Hour), CreatedBy: "ops", Comment: "known"}
		if _, err := b.p.AddSilence(sl); err != nil {
			t.Fatal(err)
		}
		b.restart(time.Minute)
		// The daemon gives the silences back before the state.
		if _, err := b.p.AddSilence(sl); err != nil {
			t.Fatal(err)
		}
		b.down("a-000")
		expect(t, "silenced", b.wait(20*time.Minute))
		b.up("a-000")
		expect(t, "resolved all the same", b.wait(5*time.Minute), "-a-000")
	})
	t.Run("a lost datacenter pages neither again nor for its hosts", func(t *testing.T) {
		b := newBench(t)
		var hosts []string
		for i := range 10 {
			hosts = append(hosts, fmt.Sprintf("a-%03d", i))
		}
		b.down(hosts...)
		expect(t, "folded", b.wait(time.Minute), "+a")
		b.restart(30 * time.Second)
		// Before the probes have run again: nothing changes.
		expect(t, "before the probes run", b.wait(10*time.Second))
		b.down(hosts...)
		expect(t, "after they run", b.wait(30*time.Minute))
		b.up(hosts...)
		expect(t, "back", b.wait(5*time.Minute), "-a")
	})
	t.Run("a new routing tree drops what it cannot place", func(t *testing.T) {
		b := newBench(t)
		b.down("a-000")
		expect(t, "firing", b.wait(time.Minute), "+a-000")
		st := b.p.State()
		cfg, err := Load("alerts.yaml", []byte("route: {receiver: pager}\nreceivers: {pager: {webhook: {url: 'http://127.0.0.1:9/'}}}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if dropped := New(cfg, b.inv).Restore(st); dropped != 1 {
			t.Errorf("dropped %d groups, want 1", dropped)
		}
	})
}

func TestUnsent(t *testing.T) {
	b := newBench(t)
	b.down("a-000")
	ns := b.handOut(time.Minute)
	expect(t, "firing", ns, "+a-000")
	b.p.Unsent(ns[0])
	expect(t, "sent again at the group interval", b.wait(5*time.Minute), "+a-000")
	b.up("a-000")
	ns = b.handOut(5 * time.Minute)
	expect(t, "resolved", ns, "-a-000")
	b.p.Unsent(ns[0])
	expect(t, "the resolved notice again", b.wait(5*time.Minute), "-a-000")
	expect(t, "once delivered, nothing more", b.wait(time.Hour))
}

// A daemon killed while its notifications are on their way loses none: the
// state it saved carries them, and its successor sends them again, firing
// and resolved alike; once settled, they are not in the state any more.
func TestPendingGoAgainAfterRestart(t *testing.T) {
	b := newBench(t)
	b.down("a-000")
	expect(t, "firing, on its way", b.handOut(time.Minute), "+a-000")
	if got := len(b.p.State().Pending); got != 1 {
		t.Fatalf("the state has %d notifications on their way, want 1", got)
	}
	b.restart(10 * time.Second)
	expect(t, "sent again by the successor", b.wait(2*time.Second), "+a-000")
	expect(t, "and once only", b.wait(time.Hour-time.Minute))

	b.up("a-000")
	expect(t, "resolved, on its way", b.handOut(5*time.Minute), "-a-000")
	b.restart(10 * time.Second)
	expect(t, "the resolved notice again", b.wait(2*time.Second), "-a-000")
	if got := len(b.p.State().Pending); got != 0 {
		t.Fatalf("the state has %d notifications on their way after all were sent, want 0", got)
	}
	b.restart(10 * time.Second)
	expect(t, "nothing more", b.wait(2*time.Hour))
}

// TestSetTopology: a host an inventory reload adds to a datacenter counts
// in its share of hosts down.
func TestSetTopology(t *testing.T) {
	b := newBench(t)
	// 5 of a's 10 hosts down: 50%, under the 60% threshold.
	b.down("a-000", "a-001", "a-002", "a-003", "a-004")
	expect(t, "hosts alone", b.wait(time.Minute), "+a-000|+a-001|+a-002|+a-003|+a-004")
	// The reload moves b-000 and b-001 to a: 6 of 12 down is under the
	// threshold (6 of 10 was not), 7 of 12 is over it.
	var moved []*fleet.Host
	for _, h := range b.inv.Hosts {
		if h.Name == "b-000" || h.Name == "b-001" {
			c := *h
			c.Datacenter = "a"
			moved = append(moved, &c)
		}
	}
	inv := *b.inv
	inv.Hosts = nil
	for _, h := range b.inv.Hosts {
		if h.Name != "b-000" && h.Name != "b-001" {
			inv.Hosts = append(inv.Hosts, h)
		}
	}
	inv.Hosts = append(inv.Hosts, moved...)
	b.inv = &inv
	b.p.SetTopology(b.inv)
	b.down("a-005")
	expect(t, "6 of 12", b.wait(5*time.Minute), "+a-000|+a-001|+a-002|+a-003|+a-004|+a-005")
	b.down("b-000")
	expect(t, "7 of 12, a moved host counted in a", b.wait(5*time.Minute), "+a")
}

// FuzzRestore: whatever a saved state holds, restoring and flushing it
// does not panic.
func FuzzRestore(f *testing.F) {
	b := newBench(f)
	b.down("a-000", "a-001", "b-000")
	b.wait(time.Minute)
	b.up("a-001")
	seed, err := json.Marshal(b.p.State())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"alerts":[{"Labels":null}],"groups":[{"route":0,"receiver":"oncall","notified":[0,5,-1],"last_firing":[9]}]}`))
	f.Add([]byte(`{"groups":[{"route":-3,"receiver":"oncall"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st State
		if json.Unmarshal(data, &st) != nil {
			return
		}
		b := newBench(t)
		b.p.Restore(st)
		b.wait(10 * time.Minute)
		b.p.State()
	})
}
