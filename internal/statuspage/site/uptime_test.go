package site

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

func TestUptimeDaily(t *testing.T) {
	inv := &fleet.Inventory{
		Hosts: []*fleet.Host{{Name: "web1"}, {Name: "web2"}, {Name: "web3"}, {Name: "mail1"}},
		Groups: []*fleet.Group{
			{Name: "web-a", Component: "Web Front", Members: []string{"web1", "web2"}},
			{Name: "web-b", Component: "Web Front", Members: []string{"web3"}},
			{Name: "mail", Component: "Mail", Members: []string{"mail1"}},
			{Name: "spare", Members: []string{"web1"}},
		},
	}
	now := time.Date(2026, 3, 12, 15, 4, 5, 0, time.UTC)
	today := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	mem := probe.NewMemory(1)
	record := func(host string, daysAgo int, ok ...bool) {
		t.Helper()
		for i, o := range ok {
			at := today.AddDate(0, 0, -daysAgo).Add(time.Duration(i+1) * time.Hour)
			mem.Record(probe.SSHProbe+"@"+host, probe.Record{At: at, OK: o})
		}
	}
	// Two days ago: web1 always up, web2 half the time.
	record("web1", 2, true, true)
	record("web2", 2, true, false)
	// Yesterday: web1 down, web3 up; web2 did not run.
	record("web1", 1, false)
	record("web3", 1, true, true, true)
	// Mail: down every day, which must not leak into Web Front.
	for d := range 3 {
		record("mail1", d, false)
	}
	u := &uptime{
		runs:      mem,
		targets:   func() []*probe.Target { return sshTargets(inv) },
		inventory: func() *fleet.Inventory { return inv },
		now:       func() time.Time { return now },
	}
	day := func(daysAgo int, avail float64) page.Day {
		return page.Day{Date: today.AddDate(0, 0, -daysAgo), Availability: avail}
	}
	noData := func(daysAgo int) page.Day {
		return page.Day{Date: today.AddDate(0, 0, -daysAgo), NoData: true}
	}
	tests := []struct {
		component string
		days      int
		want      []page.Day
	}{
		{"web-front", 4, []page.Day{noData(3), day(2, 0.75), day(1, 0.5), noData(0)}},
		{"mail", 3, []page.Day{day(2, 0), day(1, 0), day(0, 0)}},
		{"web-front", 2, []page.Day{day(1, 0.5), noData(0)}},
		{"nothing", 2, []page.Day{noData(1), noData(0)}},
		// More days than probes keep: the oldest have no data.
		{"mail", 92, append([]page.Day{noData(91), noData(90)}, mustDaily(t, u, "mail", 90)...)},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d days", tc.component, tc.days), func(t *testing.T) {
			got, err := u.Daily(context.Background(), tc.component, tc.days)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d days, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !got[i].Date.Equal(tc.want[i].Date) || got[i].NoData != tc.want[i].NoData || got[i].Availability != tc.want[i].Availability {
					t.Errorf("day %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func mustDaily(t testing.TB, u *uptime, component string, days int) []page.Day {
	t.Helper()
	d, err := u.Daily(context.Background(), component, days)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sshTargets is an SSH probe on each host of inv.
func sshTargets(inv *fleet.Inventory) []*probe.Target {
	def := &probe.Definition{Name: probe.SSHProbe, Kind: probe.KindSSH}
	out := make([]*probe.Target, len(inv.Hosts))
	for i, h := range inv.Hosts {
		t := def.Expand(h)
		out[i] = &t
	}
	return out
}

// TestHistoryAcrossRestarts: the bars a daemon showed, the next one shows
// too, from the store, with the runs of neither counted twice.
func TestHistoryAcrossRestarts(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	inv := &fleet.Inventory{
		Hosts:  []*fleet.Host{{Name: "web1"}, {Name: "web2"}},
		Groups: []*fleet.Group{{Name: "web", Component: "Web", Members: []string{"web1", "web2"}}},
	}
	now := time.Date(2026, 3, 12, 15, 4, 5, 0, time.UTC)
	today := now.Truncate(24 * time.Hour)
	log := slog.New(slog.DiscardHandler)
	daemon := func() (*history, *uptime) {
		mem := probe.NewMemory(1)
		h := newHistory(mem, st, log, func() time.Time { return now })
		if err := h.load(t.Context()); err != nil {
			t.Fatal(err)
		}
		return h, &uptime{runs: mem, targets: func() []*probe.Target { return sshTargets(inv) },
			inventory: func() *fleet.Inventory { return inv }, now: func() time.Time { return now }}
	}
	bars := func(u *uptime) []page.Day {
		t.Helper()
		return mustDaily(t, u, "web", 90)
	}

	first, u := daemon()
	for d := range 80 {
		for i := range 4 {
			first.mem.Record(probe.SSHProbe+"@web1", probe.Record{At: today.AddDate(0, 0, -d).Add(time.Duration(i) * time.Hour), OK: (d+i)%3 != 0})
			first.mem.Record(probe.SSHProbe+"@web2", probe.Record{At: today.AddDate(0, 0, -d).Add(time.Duration(i) * time.Hour), OK: true})
		}
	}
	first.save(t.Context())
	// Runs after the last save, with a save at shutdown.
	first.mem.Record(probe.SSHProbe+"@web1", probe.Record{At: now, OK: false})
	first.save(t.Context())
	want := bars(u)

	second, u := daemon()
	got := bars(u)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("day %d after a restart: %+v, want %+v", i, got[i], want[i])
		}
	}
	// What was restored is not saved again.
	second.save(t.Context())
	_, u = daemon()
	if again := bars(u); again[89] != want[89] || again[10] != want[10] {
		t.Errorf("a second restart changed the bars: %+v and %+v, want %+v and %+v", again[10], again[89], want[10], want[89])
	}
}

// BenchmarkUptimeBars draws the 90-day bars of 50 components of 6 hosts
// with 3 probes each, a run every minute, from a history restored from
// the store.
func BenchmarkUptimeBars(b *testing.B) {
	const components, hosts = 50, 6
	inv := &fleet.Inventory{}
	mem := probe.NewMemory(1)
	var targets []*probe.Target
	today := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	daily := make([]probe.Bucket, 90)
	for d := range daily {
		daily[d] = probe.Bucket{Start: today.AddDate(0, 0, d-89), OK: 1430, Total: 1440}
	}
	for c := range components {
		g := &fleet.Group{Name: fmt.Sprintf("g%02d", c), Component: fmt.Sprintf("Component %02d", c)}
		for i := range hosts {
			h := &fleet.Host{Name: fmt.Sprintf("h%02d-%d", c, i)}
			inv.Hosts = append(inv.Hosts, h)
			g.Members = append(g.Members, h.Name)
			for _, name := range []string{"ssh", "http", "tcp"} {
				t := (&probe.Definition{Name: name}).Expand(h)
				targets = append(targets, &t)
				mem.Restore(t.ID, nil, daily)
			}
		}
		inv.Groups = append(inv.Groups, g)
	}
	u := &uptime{runs: mem, targets: func() []*probe.Target { return targets },
		inventory: func() *fleet.Inventory { return inv }, now: func() time.Time { return today.Add(12 * time.Hour) }}
	for b.Loop() {
		for c := range components {
			if _, err := u.Daily(b.Context(), componentID(fmt.Sprintf("Component %02d", c)), 90); err != nil {
				b.Fatal(err)
			}
		}
	}
}
