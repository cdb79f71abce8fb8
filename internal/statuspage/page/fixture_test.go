package page

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

var testNow = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)

// testStatus is a small fleet's status: two groups, a maintenance under way
// on one cluster, one scheduled, one done, an open incident and a resolved one.
func testStatus() fleet.Status {
	t0 := testNow.Add(-30 * 24 * time.Hour)
	en := func(s string) fleet.Text { return fleet.Text{"en": s, "fr": "fr: " + s, "de": "de: " + s} }
	return fleet.Status{
		Version:   1,
		UpdatedAt: testNow.Add(-time.Minute),
		Groups: []fleet.ComponentGroup{
			{ID: "shared", Name: "Shared hosting", Position: 1, CreatedAt: t0, UpdatedAt: t0},
			{ID: "dedicated", Name: "Dedicated servers", Position: 2, CreatedAt: t0, UpdatedAt: t0},
		},
		Components: []fleet.Component{
			{ID: "web-a", Name: "Web cluster A", Group: "shared", Position: 1, Hosts: []string{"a1", "a2", "a3"}, Showcase: true, CreatedAt: t0, UpdatedAt: t0},
			{ID: "web-b", Name: "Web cluster B", Group: "shared", Position: 2, Hosts: []string{"b1", "b2"}, Showcase: true, CreatedAt: t0, UpdatedAt: t0},
			{ID: "ded", Name: "Dedicated", Group: "dedicated", Position: 3, Hosts: []string{"d1"}, Description: "Bare metal", CreatedAt: t0, UpdatedAt: t0},
			{ID: "dns", Name: "DNS", Position: 0, Showcase: true, CreatedAt: t0, UpdatedAt: t0},
		},
		Hosts: map[string]fleet.HostHealth{
			"a1": fleet.HostInMaintenance, "a2": fleet.HostUp, "a3": fleet.HostUp,
			"b1": fleet.HostUp, "b2": fleet.HostDown, "d1": fleet.HostUp,
		},
		Incidents: []fleet.Incident{
			{
				ID: "inc-open", Name: en("Slow mail"), Status: fleet.Identified, Impact: fleet.ImpactMinor,
				Components: []string{"web-b"}, StartedAt: testNow.Add(-2 * time.Hour),
				CreatedAt: testNow.Add(-2 * time.Hour), UpdatedAt: testNow.Add(-time.Hour),
				Updates: []fleet.StatusUpdate{
					{ID: "u1", Status: "investigating", Body: en("Looking into it"), CreatedAt: testNow.Add(-2 * time.Hour), UpdatedAt: testNow.Add(-2 * time.Hour),
						Affected: []fleet.AffectedComponent{{Component: "web-b", Old: fleet.Operational, New: fleet.DegradedPerformance}}},
					{ID: "u2", Status: "identified", Body: en("A disk is full"), CreatedAt: testNow.Add(-time.Hour), UpdatedAt: testNow.Add(-time.Hour)},
				},
			},
			{
				ID: "inc-old", Name: en("DNS outage"), Status: fleet.Resolved, Impact: fleet.ImpactMajor,
				Components: []string{"dns"}, StartedAt: testNow.Add(-72 * time.Hour),
				CreatedAt: testNow.Add(-72 * time.Hour), UpdatedAt: testNow.Add(-70 * time.Hour),
				MonitoringAt: testNow.Add(-71 * time.Hour), ResolvedAt: testNow.Add(-70 * time.Hour),
				Updates: []fleet.StatusUpdate{
					{ID: "u3", Status: "resolved", Body: en("Fixed"), CreatedAt: testNow.Add(-70 * time.Hour), UpdatedAt: testNow.Add(-70 * time.Hour)},
				},
			},
		},
		Maintenance: []fleet.Maintenance{
			{
				ID: "m-now", Name: en("Kernel update"), Status: fleet.MaintenanceInProgress, Components: []string{"web-a"},
				ScheduledFor: testNow.Add(-time.Hour), ScheduledUntil: testNow.Add(time.Hour), StartedAt: testNow.Add(-time.Hour),
				CreatedAt: testNow.Add(-24 * time.Hour), UpdatedAt: testNow.Add(-time.Hour), Rollout: "r1",
				Updates: []fleet.StatusUpdate{{ID: "u4", Status: "in_progress", Body: en("Started"), CreatedAt: testNow.Add(-time.Hour), UpdatedAt: testNow.Add(-time.Hour)}},
			},
			{
				ID: "m-next", Name: en("Network work"), Status: fleet.MaintenanceScheduled, Components: []string{"ded"},
				ScheduledFor: testNow.Add(48 * time.Hour), ScheduledUntil: testNow.Add(50 * time.Hour),
				CreatedAt: testNow.Add(-time.Hour), UpdatedAt: testNow.Add(-time.Hour),
				Updates: []fleet.StatusUpdate{{ID: "u5", Status: "scheduled", Body: en("Planned"), CreatedAt: testNow.Add(-time.Hour), UpdatedAt: testNow.Add(-time.Hour)}},
			},
			{
				ID: "m-done", Name: en("Old work"), Status: fleet.MaintenanceCompleted, Components: []string{"dns"},
				ScheduledFor: testNow.Add(-240 * time.Hour), ScheduledUntil: testNow.Add(-238 * time.Hour),
				StartedAt: testNow.Add(-240 * time.Hour), CompletedAt: testNow.Add(-238 * time.Hour),
				CreatedAt: testNow.Add(-300 * time.Hour), UpdatedAt: testNow.Add(-238 * time.Hour),
				Updates: []fleet.StatusUpdate{{ID: "u6", Status: "completed", Body: en("Done"), CreatedAt: testNow.Add(-238 * time.Hour), UpdatedAt: testNow.Add(-238 * time.Hour)}},
			},
		},
	}
}

// historyFunc is a History made of a function.
type historyFunc func(component string, days int) []Day

func (f historyFunc) Daily(_ context.Context, component string, days int) ([]Day, error) {
	return f(component, days), nil
}

// testHistory has 90 days, the first 10 without data, and a bad day 5 days
// ago on every component.
func testHistory() History {
	return historyFunc(func(_ string, days int) []Day {
		today := testNow.Truncate(24 * time.Hour)
		out := make([]Day, days)
		for i := range out {
			out[i] = Day{Date: today.AddDate(0, 0, i-days+1), Availability: 1}
			if i < 10 {
				out[i].NoData = true
			}
		}
		out[days-6].Availability = 0.98
		return out
	})
}

type testPage struct {
	url  string
	mem  *Memory
	now  *time.Time
	http *http.Client
}

func newTestPage(tb testing.TB, st fleet.Status) *testPage {
	tb.Helper()
	now := testNow
	tp := &testPage{now: &now}
	tp.mem = NewMemory(st, func() time.Time { return *tp.now })
	h, err := Handler(Options{
		Page:    Page{ID: "illico", Name: "Example Hosting", URL: "https://status.example.net"},
		Source:  tp.mem,
		History: testHistory(),
		Now:     func() time.Time { return *tp.now },
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	tp.url = srv.URL
	// The transport must not gunzip behind the test's back.
	tp.http = &http.Client{Transport: &http.Transport{DisableCompression: true}}
	tb.Cleanup(tp.http.CloseIdleConnections)
	return tp
}

// get fetches path with the given request headers, as name, value pairs.
func (tp *testPage) get(tb testing.TB, path string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, tp.url+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := tp.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, body
}
