package drive

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/rollout"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

var t0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t0.Add(d)
}

var testPlan = &fleet.Plan{
	Name: "Urgent openssl patch",
	Steps: []fleet.Step{
		{Kind: fleet.StepDrain}, {Kind: fleet.StepRun}, {Kind: fleet.StepReboot},
		{Kind: fleet.StepWaitHealthy}, {Kind: fleet.StepUndrain},
	},
	Rollback: []fleet.Step{{Kind: fleet.StepDrain}, {Kind: fleet.StepRun}, {Kind: fleet.StepUndrain}},
}

// threeComponents is a status page with three components: a rollout on the web-01
// hosts must name only Web cluster 01.
func threeComponents() fleet.Status {
	return fleet.Status{
		Components: []fleet.Component{
			{ID: "web-01", Name: "Web cluster 01", Position: 1, Hosts: []string{"a1", "a2", "a3", "a4"}},
			{ID: "web-02", Name: "Web cluster 02", Position: 2, Hosts: []string{"b1", "b2"}},
			{ID: "mail", Name: "Mail", Position: 3, Hosts: []string{"m1"}},
		},
	}
}

// host is a host's state in a frame: "pending", "done", or "running:STEP".
type frame struct {
	at    time.Duration
	state fleet.RolloutState
	hosts []string // a1..a4 (wave 1 is a1, wave 2 a2 a3, wave 3 a4) and b1
	eta   time.Duration

	// What the page then says.
	maintenance fleet.MaintenanceStatus
	updates     int // maintenance updates so far
	statuses    map[string]fleet.ComponentStatus
	incident    fleet.IncidentStatus // "" for none
	say         string               // in the last maintenance update, in English
}

var names = []string{"a1", "a2", "a3", "a4", "b1"}
var waves = []int{1, 2, 2, 3, 3}

// progress is the rollout of frame f. ended keeps, across the frames of a
// test, when each host finished, as the engine records it.
func progress(t testing.TB, f frame, ended map[string]time.Time) rollout.Progress {
	t.Helper()
	r := &fleet.Rollout{ID: "r1", Plan: testPlan, State: f.state}
	for i, s := range f.hosts {
		h := fleet.HostRun{Host: names[i], Wave: waves[i]}
		state, step, _ := strings.Cut(s, ":")
		h.State = fleet.HostState(state)
		if step != "" {
			h.Step = int(step[0] - '0')
		}
		if h.State != fleet.HostPending && !h.State.Active() {
			if _, ok := ended[h.Host]; !ok {
				ended[h.Host] = t0.Add(f.at)
			}
			h.EndedAt = ended[h.Host]
		}
		r.Hosts = append(r.Hosts, h)
	}
	return rollout.Progress{Rollout: r, ETA: f.eta, Finishes: true}
}

type driverCase struct {
	name   string
	frames []frame
}

func driverCases() []driverCase {
	op := fleet.Operational
	um := fleet.UnderMaintenance
	return []driverCase{
		{"a rollout that goes well", []frame{
			{at: 0, state: "running", hosts: []string{"running:0", "pending", "pending", "pending", "pending"}, eta: time.Hour,
				maintenance: "in_progress", updates: 1, statuses: map[string]fleet.ComponentStatus{"web-01": um, "web-02": op, "mail": op},
				say: "Planned maintenance on Web cluster 01 and Web cluster 02 has started. We expect to finish by March 14, 2026, 11:00 UTC."},
			// Patched in service (run step after drain: still drained).
			{at: 10 * time.Second, state: "running", hosts: []string{"running:1", "pending", "pending", "pending", "pending"}, eta: time.Hour,
				maintenance: "in_progress", updates: 1, statuses: map[string]fleet.ComponentStatus{"web-01": um, "web-02": op}},
			// Undrained and through: no component in maintenance, and the
			// first wave is done but only 30 s passed: no update yet.
			{at: 30 * time.Second, state: "running", hosts: []string{"done", "pending", "pending", "pending", "pending"}, eta: time.Hour,
				maintenance: "in_progress", updates: 1, statuses: map[string]fleet.ComponentStatus{"web-01": op, "web-02": op}},
			// A minute after the start, the wave finished earlier is told.
			{at: 70 * time.Second, state: "running", hosts: []string{"done", "running:2", "pending", "pending", "pending"}, eta: 50 * time.Minute,
				maintenance: "in_progress", updates: 2, statuses: map[string]fleet.ComponentStatus{"web-01": um},
				say: "1 of 5 servers done. We now expect to finish by March 14, 2026, 10:51 UTC."},
			// No new milestone: no update, however late.
			{at: 5 * time.Minute, state: "running", hosts: []string{"done", "running:4", "running:3", "pending", "running:0"}, eta: 40 * time.Minute,
				maintenance: "in_progress", updates: 2, statuses: map[string]fleet.ComponentStatus{"web-01": um, "web-02": um}},
			// Wave 2 done (3 of 5: also a new quarter): one update.
			{at: 6 * time.Minute, state: "running", hosts: []string{"done", "done", "done", "pending", "running:1"}, eta: 20 * time.Minute,
				maintenance: "in_progress", updates: 3, statuses: map[string]fleet.ComponentStatus{"web-01": op, "web-02": um},
				say: "3 of 5 servers done."},
			// Another quarter within the minute: not yet.
			{at: 6*time.Minute + 30*time.Second, state: "running", hosts: []string{"done", "done", "done", "running:0", "done"}, eta: 10 * time.Minute,
				maintenance: "in_progress", updates: 3},
			{at: 10 * time.Minute, state: "done", hosts: []string{"done", "done", "done", "done", "done"},
				maintenance: "completed", updates: 4, statuses: map[string]fleet.ComponentStatus{"web-01": op, "web-02": op, "mail": op},
				say: "Maintenance on Web cluster 01 and Web cluster 02 is complete: all 5 servers are done."},
		}},
		{"a halt", []frame{
			{at: 0, state: "running", hosts: []string{"running:2", "pending", "pending", "pending", "pending"}, eta: time.Hour,
				maintenance: "in_progress", updates: 1, statuses: map[string]fleet.ComponentStatus{"web-01": um}},
			{at: 2 * time.Minute, state: "halting", hosts: []string{"rolling_back:0", "pending", "pending", "pending", "pending"},
				maintenance: "in_progress", updates: 1, incident: "identified", statuses: map[string]fleet.ComponentStatus{"web-01": um}},
			{at: 3 * time.Minute, state: "halted", hosts: []string{"rolled_back", "pending", "pending", "pending", "pending"},
				maintenance: "completed", updates: 2, incident: "identified", statuses: map[string]fleet.ComponentStatus{"web-01": op},
				say: "We stopped the maintenance on Web cluster 01 and Web cluster 02 because a server did not come back as expected."},
		}},
		{"an abort", []frame{
			{at: 0, state: "running", hosts: []string{"running:0", "pending", "pending", "pending", "pending"}, eta: time.Hour,
				maintenance: "in_progress", updates: 1},
			{at: 2 * time.Minute, state: "aborted", hosts: []string{"done", "pending", "pending", "pending", "pending"},
				maintenance: "completed", updates: 2, statuses: map[string]fleet.ComponentStatus{"web-01": op},
				say: "We ended the maintenance on Web cluster 01 and Web cluster 02 early, by our own decision: 1 of 5 servers were done"},
		}},
		{"a rollout that ended before it was seen", []frame{
			{at: 0, state: "done", hosts: []string{"done", "done", "done", "done", "done"},
				maintenance: "completed", updates: 2, statuses: map[string]fleet.ComponentStatus{"web-01": op}},
		}},
	}
}

func TestDriver(t *testing.T) {
	notices, err := page.NewNotices(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range driverCases() {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: t0}
			mem := page.NewMemory(threeComponents(), clk.Now)
			var current rollout.Progress
			d := New(Options{
				Progress: func(context.Context, string) (rollout.Progress, error) { return current, nil },
				Update:   mem.Update,
				Notices:  notices,
				Now:      clk.Now,
			})
			ended := map[string]time.Time{}
			for i, f := range tt.frames {
				clk.set(f.at)
				current = progress(t, f, ended)
				if err := d.Apply(t.Context(), rollout.Event{Rollout: "r1"}); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				st, _ := mem.Status(t.Context())
				check(t, i, st, f)
			}
		})
	}
}

func check(t testing.TB, i int, st fleet.Status, f frame) {
	t.Helper()
	if len(st.Maintenance) != 1 {
		t.Fatalf("frame %d: %d maintenances, want 1", i, len(st.Maintenance))
	}
	m := st.Maintenance[0]
	if m.Status != f.maintenance || len(m.Updates) != f.updates {
		t.Errorf("frame %d: maintenance %s with %d updates, want %s with %d", i, m.Status, len(m.Updates), f.maintenance, f.updates)
	}
	if want := []string{"web-01", "web-02"}; strings.Join(m.Components, ",") != strings.Join(want, ",") || m.Rollout != "r1" {
		t.Errorf("frame %d: components %v of rollout %q", i, m.Components, m.Rollout)
	}
	if f.maintenance == fleet.MaintenanceInProgress && m.ScheduledUntil.Before(m.StartedAt) {
		t.Errorf("frame %d: until %s before start %s", i, m.ScheduledUntil, m.StartedAt)
	}
	if f.say != "" {
		last := m.Updates[len(m.Updates)-1]
		if !strings.Contains(last.Body["en"], f.say) {
			t.Errorf("frame %d: last update says %q, want %q", i, last.Body["en"], f.say)
		}
		if last.Body["fr"] == "" || last.Body["de"] == "" {
			t.Errorf("frame %d: last update not in French and German: %v", i, last.Body)
		}
	}
	for _, c := range st.Components {
		want, ok := f.statuses[c.ID]
		if got := page.Derive(c, st.Hosts, st.Maintenance); ok && got != want {
			t.Errorf("frame %d: %s is %s, want %s", i, c.ID, got, want)
		}
	}
	switch {
	case f.incident == "" && len(st.Incidents) > 0:
		t.Errorf("frame %d: incidents %+v, want none", i, st.Incidents)
	case f.incident != "" && (len(st.Incidents) != 1 || st.Incidents[0].Status != f.incident):
		t.Errorf("frame %d: incidents %+v, want one %s", i, st.Incidents, f.incident)
	case f.incident != "":
		in := st.Incidents[0]
		if strings.Join(in.Components, ",") != "web-01,web-02" || !strings.Contains(in.Name["en"], "Web cluster 01") || in.Updates[0].Body["fr"] == "" {
			t.Errorf("frame %d: incident %+v", i, in)
		}
	}
}

// A rollout on hosts no component serves leaves the page as it was, and
// its version with it.
func TestDriverIgnoresRolloutsOffThePage(t *testing.T) {
	notices, err := page.NewNotices(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	mem := page.NewMemory(threeComponents(), func() time.Time { return t0 })
	v := mem.Version()
	pr := rollout.Progress{Rollout: &fleet.Rollout{ID: "r2", Plan: testPlan, State: "running",
		Hosts: []fleet.HostRun{{Host: "db1", State: fleet.HostRunning, Step: 2}}}}
	d := New(Options{
		Progress: func(context.Context, string) (rollout.Progress, error) { return pr, nil },
		Update:   mem.Update, Notices: notices, Now: func() time.Time { return t0 },
	})
	if err := d.Apply(t.Context(), rollout.Event{Rollout: "r2"}); err != nil {
		t.Fatal(err)
	}
	if mem.Version() != v {
		t.Errorf("version %d → %d for a rollout off the page", v, mem.Version())
	}
}

// Events queued while Run is not looking are applied once Run is: the
// engine may emit them before the driver's goroutine starts.
func TestDriverRun(t *testing.T) {
	notices, err := page.NewNotices(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	mem := page.NewMemory(threeComponents(), func() time.Time { return t0 })
	applied := make(chan string, 10)
	pr := progress(t, frame{state: "running", hosts: []string{"running:0"}}, map[string]time.Time{})
	d := New(Options{
		Progress: func(_ context.Context, id string) (rollout.Progress, error) {
			applied <- id
			return pr, nil
		},
		Update: mem.Update, Notices: notices, Now: func() time.Time { return t0 },
	})
	for range 3 {
		d.Notify(rollout.Event{Rollout: "r1", Kind: rollout.KindHostStep})
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	select {
	case id := <-applied:
		if id != "r1" {
			t.Errorf("applied %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the queued event was not applied")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(applied); n != 0 {
		t.Errorf("three events of one rollout queued together were applied %d more times", n)
	}
	st, _ := mem.Status(t.Context())
	if len(st.Maintenance) != 1 {
		t.Errorf("maintenances %+v", st.Maintenance)
	}
}

// A daemon restarted mid-rollout starts a new driver: reading back from the
// stored page what the old one knew, it goes on with the same maintenance
// and incident and tells the same updates at the same times as a driver
// that never stopped. Here the driver is started afresh before every look.
func TestDriverRestarts(t *testing.T) {
	notices, err := page.NewNotices(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range driverCases() {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: t0}
			mem := page.NewMemory(threeComponents(), clk.Now)
			var current rollout.Progress
			progressNow := func(context.Context, string) (rollout.Progress, error) { return current, nil }
			kept := New(Options{Progress: progressNow, Update: mem.Update, Notices: notices, Now: clk.Now})

			db, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "illico.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.UpdateStatus(t.Context(), func(_ *store.Tx, st *fleet.Status) error { *st = threeComponents(); return nil }); err != nil {
				t.Fatal(err)
			}
			ended := map[string]time.Time{}
			for i, f := range tt.frames {
				clk.set(f.at)
				current = progress(t, f, ended)
				if err := kept.Apply(t.Context(), rollout.Event{Rollout: "r1"}); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				stored, err := page.NewStored(t.Context(), db, clk.Now)
				if err != nil {
					t.Fatal(err)
				}
				restarted := New(Options{Progress: progressNow, Update: stored.Update, Notices: notices, Now: clk.Now})
				if err := restarted.Apply(t.Context(), rollout.Event{Rollout: "r1"}); err != nil {
					t.Fatalf("frame %d, restarted: %v", i, err)
				}
				got, err := stored.Status(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				check(t, i, got, f)
				want, _ := mem.Status(t.Context())
				if !reflect.DeepEqual(got.Maintenance, want.Maintenance) || !reflect.DeepEqual(got.Incidents, want.Incidents) {
					t.Fatalf("frame %d: restarted, the page says\n%+v\n%+v\nnot, as without a restart,\n%+v\n%+v",
						i, got.Maintenance, got.Incidents, want.Maintenance, want.Incidents)
				}
			}
		})
	}
}

// A rollout that ended while the daemon was down: the restarted driver
// looks at it first thing, without an event, and closes its maintenance.
func TestDriverResumes(t *testing.T) {
	notices, err := page.NewNotices(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: t0}
	mem := page.NewMemory(threeComponents(), clk.Now)
	current := progress(t, frame{state: "running", hosts: []string{"running:0", "pending", "pending", "pending", "pending"}, eta: time.Hour}, map[string]time.Time{})
	opts := Options{
		Progress: func(context.Context, string) (rollout.Progress, error) { return current, nil },
		Update:   mem.Update, Status: mem.Status, Notices: notices, Now: clk.Now,
	}
	if err := New(opts).Apply(t.Context(), rollout.Event{Rollout: "r1"}); err != nil {
		t.Fatal(err)
	}
	clk.set(10 * time.Minute)
	current = progress(t, frame{at: 10 * time.Minute, state: "done", hosts: []string{"done", "done", "done", "done", "done"}}, map[string]time.Time{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- New(opts).Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	for range 1000 {
		st, _ := mem.Status(t.Context())
		if st.Maintenance[0].Status == fleet.MaintenanceCompleted {
			if n := len(st.Maintenance[0].Updates); n != 2 {
				t.Errorf("closed with %d updates, want the start and the end", n)
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the restarted driver did not close the maintenance of a rollout that ended meanwhile")
}
