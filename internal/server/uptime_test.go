package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/statuspage"
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
	targets := probeTargets(inv, time.Minute)
	now := time.Date(2026, 3, 12, 15, 4, 5, 0, time.UTC)
	today := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	mem := probe.NewMemory(1)
	record := func(host string, daysAgo int, ok ...bool) {
		t.Helper()
		for i, o := range ok {
			at := today.AddDate(0, 0, -daysAgo).Add(time.Duration(i+1) * time.Hour)
			mem.Record(sshProbe+"@"+host, probe.Record{At: at, OK: o})
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
		runs: func() dailyRuns { return mem },
		targets: func() []*probe.Target {
			out := make([]*probe.Target, len(targets))
			for i := range targets {
				out[i] = &targets[i]
			}
			return out
		},
		inventory: func() *fleet.Inventory { return inv },
		now:       func() time.Time { return now },
	}
	day := func(daysAgo int, avail float64) statuspage.Day {
		return statuspage.Day{Date: today.AddDate(0, 0, -daysAgo), Availability: avail}
	}
	noData := func(daysAgo int) statuspage.Day {
		return statuspage.Day{Date: today.AddDate(0, 0, -daysAgo), NoData: true}
	}
	tests := []struct {
		component string
		days      int
		want      []statuspage.Day
	}{
		{"web-front", 4, []statuspage.Day{noData(3), day(2, 0.75), day(1, 0.5), noData(0)}},
		{"mail", 3, []statuspage.Day{day(2, 0), day(1, 0), day(0, 0)}},
		{"web-front", 2, []statuspage.Day{day(1, 0.5), noData(0)}},
		{"nothing", 2, []statuspage.Day{noData(1), noData(0)}},
		// More days than probes keep: the oldest have no data.
		{"mail", 92, append([]statuspage.Day{noData(91), noData(90)}, mustDaily(t, u, "mail", 90)...)},
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

func mustDaily(t testing.TB, u *uptime, component string, days int) []statuspage.Day {
	t.Helper()
	d, err := u.Daily(context.Background(), component, days)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
