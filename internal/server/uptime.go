package server

import (
	"context"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/statuspage"
)

// dailyRuns is the probes' history, as the status page's bars need it.
type dailyRuns interface {
	Daily(id string, now time.Time, n int) []probe.Bucket
}

// uptime is the status page's History, drawn from the probes' runs: a
// component's day is the mean availability, that day, of the probes of the
// hosts of the groups naming it. A probe that did not run that day counts
// for nothing, and a day on which none ran has no data.
type uptime struct {
	runs      func() dailyRuns
	targets   func() []*probe.Target
	inventory func() *fleet.Inventory
	now       func() time.Time
}

// Daily implements statuspage.History.
func (u *uptime) Daily(_ context.Context, component string, days int) ([]statuspage.Day, error) {
	hosts := map[string]bool{}
	for _, g := range u.inventory().Groups {
		if g.Component != "" && componentID(g.Component) == component {
			for _, m := range g.Members {
				hosts[m] = true
			}
		}
	}
	if days <= 0 {
		return nil, nil
	}
	now, runs := u.now(), u.runs()
	sums, counts := make([]float64, days), make([]int, days)
	for _, t := range u.targets() {
		if t.Host == nil || !hosts[t.Host.Name] {
			continue
		}
		bs := runs.Daily(t.ID, now, days)
		// Memory keeps fewer days than a page may ask for: align on today.
		off := days - len(bs)
		for i, b := range bs {
			if a := b.Availability(); a >= 0 {
				sums[off+i] += a
				counts[off+i]++
			}
		}
	}
	out := make([]statuspage.Day, 0, days)
	// Memory's days are UTC days, as are the page's unless told otherwise.
	today := now.UTC().Truncate(24 * time.Hour)
	for i := range days {
		d := statuspage.Day{Date: today.AddDate(0, 0, i-days+1), NoData: counts[i] == 0}
		if counts[i] > 0 {
			d.Availability = sums[i] / float64(counts[i])
		}
		out = append(out, d)
	}
	return out, nil
}

// uptime is the page's History. The page is made before the probes, so
// it looks them up when asked.
func (s *Server) uptime() *uptime {
	return &uptime{
		runs:      func() dailyRuns { return s.probes.runs },
		targets:   func() []*probe.Target { return s.probes.current() },
		inventory: s.inventory, now: s.now,
	}
}

// current is the probe targets in force.
func (hl *health) current() []*probe.Target {
	var out []*probe.Target
	for _, s := range hl.standings() {
		out = append(out, s.target)
	}
	return out
}
