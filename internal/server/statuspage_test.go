package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// publicDaemon is a daemon that also serves its status page.
type publicDaemon struct {
	*servertest.Daemon
	public string // the status page's base URL
}

// startPublic starts a daemon on inventory with its status page on a port
// of its own; servertest's daemons have none.
func startPublic(t testing.TB, inventory string) publicDaemon {
	t.Helper()
	d, _ := startPublicWith(t, publicOptions{dsn: sqlite(t), inventory: inventory})
	return d
}

// publicOptions say how startPublicWith starts a daemon.
type publicOptions struct {
	dsn, inventory string
	now            func() time.Time // nil: time.Now
	page           page.Page
}

// startPublicWith starts a daemon with its status page; stop ends it, and
// the test's end does if stop was not called. On a store that has tokens
// already, the daemon shows no admin token: the test keeps the first one.
func startPublicWith(t testing.TB, o publicOptions) (d publicDaemon, stop func()) {
	t.Helper()
	st, err := store.Open(t.Context(), o.dsn)
	if err != nil {
		t.Fatal(err)
	}
	stderr, logs := &servertest.Buffer{}, &servertest.Buffer{}
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Store: st, Inventory: o.inventory, Now: o.now,
		Listen: "127.0.0.1:0", PublicListen: "127.0.0.1:0", AdminTokenOut: stderr, StatusPage: o.page,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("daemon: %v", err)
			}
			st.Close()
			if t.Failed() {
				t.Logf("daemon log:\n%s", logs)
			}
		})
	}
	t.Cleanup(stop)
	d = publicDaemon{Daemon: &servertest.Daemon{URL: "http://" + srv.Addr()}, public: "http://" + srv.PublicAddr()}
	for range 500 {
		if resp, err := http.Get(d.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d.AdminToken = strings.TrimSpace(tokenIn(stderr.String()))
				return d, stop
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the daemon did not start; stderr:\n%s", stderr)
	return d, stop
}

// tokenIn finds the admin token in the box the daemon shows it in.
func tokenIn(box string) string {
	for _, f := range strings.Fields(box) {
		if strings.HasPrefix(f, store.SecretPrefix) {
			return f
		}
	}
	return ""
}

// v2 is the part of Statuspage's v2 JSON the tests read.
type v2 struct {
	Components []struct {
		ID, Name, Status string
	} `json:"components"`
	Incidents []struct {
		ID, Name, Status, Impact string
		Components               []struct{ Name string } `json:"components"`
	} `json:"incidents"`
	ScheduledMaintenances []struct {
		ID, Name, Status string
		Components       []struct{ Name string } `json:"components"`
		IncidentUpdates  []struct{ Body string } `json:"incident_updates"`
	} `json:"scheduled_maintenances"`
}

func (d publicDaemon) v2(t testing.TB, path string) v2 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", d.public+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "fr")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v: %s", path, resp.Status, err, body)
	}
	var out v2
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return out
}

// await polls the status page until cond holds.
func (d publicDaemon) await(t testing.TB, path string, within time.Duration, what string, cond func(v2) bool) v2 {
	t.Helper()
	deadline := time.Now().Add(within)
	var last v2
	for time.Now().Before(deadline) {
		if last = d.v2(t, path); cond(last) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; %s says %+v", what, within, path, last)
	return last
}

func labPlan(t testing.TB, l *lab.Lab, name, limit string) api.StartRollout {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(l.Info().Files.Plans, name))
	if err != nil {
		t.Fatal(err)
	}
	return api.StartRollout{PlanFile: name, Plan: string(data), Selector: limit}
}

func names(cs []struct{ Name string }) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// The status page follows the rollouts of a lab: the urgent patch on one
// web cluster opens a maintenance on that cluster only, shows it under
// maintenance while a host is out, and completes the maintenance; the bad
// patch on the other cluster, at the same time, turns into an incident.
func TestStatusPageOnALab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	d := startPublic(t, l.Info().Files.Inventory)

	before := d.v2(t, "/api/v2/summary.json")
	if got := len(before.Components); got != 2 || len(before.ScheduledMaintenances) != 0 || len(before.Incidents) != 0 {
		t.Fatalf("before any rollout: %+v", before)
	}
	for _, tc := range []struct{ plan, limit string }{{"urgent-openssl.yaml", "web-01"}, {"bad-openssl.yaml", "web-02"}} {
		if a := call(t, d.Daemon, "POST", "/api/v1/rollouts", d.AdminToken, labPlan(t, l, tc.plan, tc.limit)); a.status != http.StatusCreated {
			t.Fatalf("start %s: %d %s", tc.plan, a.status, a.body)
		}
	}

	active := d.await(t, "/api/v2/scheduled-maintenances/active.json", 10*time.Second, "two maintenances in progress", func(v v2) bool {
		return len(v.ScheduledMaintenances) == 2
	})
	for _, m := range active.ScheduledMaintenances {
		if m.Status != "in_progress" || len(m.Components) != 1 || len(m.IncidentUpdates) == 0 {
			t.Errorf("maintenance %+v", m)
		}
		if !strings.Contains(m.Name, m.Components[0].Name) || !strings.Contains(m.IncidentUpdates[0].Body, "a commencé") {
			t.Errorf("maintenance %q does not name its component in French: %+v", m.Name, m)
		}
	}
	d.await(t, "/api/v2/summary.json", 20*time.Second, "Web cluster 01 under maintenance", func(v v2) bool {
		return slices.ContainsFunc(v.Components, func(c struct{ ID, Name, Status string }) bool {
			return c.Name == "Web cluster 01" && c.Status == "under_maintenance"
		})
	})

	done := d.await(t, "/api/v2/scheduled-maintenances.json", 50*time.Second, "both maintenances completed", func(v v2) bool {
		return len(v.ScheduledMaintenances) == 2 && !slices.ContainsFunc(v.ScheduledMaintenances, func(m struct {
			ID, Name, Status string
			Components       []struct{ Name string } `json:"components"`
			IncidentUpdates  []struct{ Body string } `json:"incident_updates"`
		}) bool {
			return m.Status != "completed"
		})
	})
	byComponent := map[string]string{}
	for _, m := range done.ScheduledMaintenances {
		byComponent[strings.Join(names(m.Components), ",")] = m.IncidentUpdates[0].Body
	}
	if !strings.Contains(byComponent["Web cluster 01"], "terminée") {
		t.Errorf("the urgent patch's maintenance ends with %q", byComponent["Web cluster 01"])
	}
	if !strings.Contains(byComponent["Web cluster 02"], "interrompu") {
		t.Errorf("the bad patch's maintenance ends with %q", byComponent["Web cluster 02"])
	}

	unresolved := d.v2(t, "/api/v2/incidents/unresolved.json")
	if len(unresolved.Incidents) != 1 {
		t.Fatalf("unresolved incidents %+v, want the bad patch's", unresolved.Incidents)
	}
	in := unresolved.Incidents[0]
	if got := names(in.Components); !slices.Equal(got, []string{"Web cluster 02"}) || in.Status != "identified" {
		t.Errorf("incident %+v", in)
	}
	summary := d.v2(t, "/api/v2/summary.json")
	for _, c := range summary.Components {
		if c.Status != "operational" {
			t.Errorf("after the rollouts, %s is %s", c.Name, c.Status)
		}
	}

	// An operator resolves the incident by hand.
	a := call(t, d.Daemon, "POST", "/api/v1/status/incidents/"+in.ID+"/updates", d.AdminToken,
		map[string]any{"status": "resolved", "body": map[string]string{"fr": "Tout est rentré dans l'ordre.", "en": "All is well again."}})
	if a.status != http.StatusCreated {
		t.Fatalf("resolve: %d %s", a.status, a.body)
	}
	if u := d.v2(t, "/api/v2/incidents/unresolved.json"); len(u.Incidents) != 0 {
		t.Errorf("resolved by hand, still unresolved: %+v", u.Incidents)
	}
}

// The operator API of the status page: who may do what, and what it
// refuses.
func TestStatusAPI(t *testing.T) {
	d := startPublic(t, inventoryCopy(t))
	reader := createToken(t, d.Daemon, d.AdminToken, "grafana", "reader").Secret
	operator := createToken(t, d.Daemon, d.AdminToken, "oncall", "operator").Secret

	var st struct {
		Components []struct{ ID, Name, Status string }
		Incidents  []struct {
			ID, Status string
			Updates    []struct{ Status string }
		}
	}
	a := call(t, d.Daemon, "GET", "/api/v1/status", reader, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET /api/v1/status: %d %s", a.status, a.body)
	}
	a.decode(t, &st)
	if len(st.Components) != 1 || st.Components[0].ID != "web-cluster-01" || st.Components[0].Status != "operational" {
		t.Fatalf("components %+v", st.Components)
	}

	open := map[string]any{"name": map[string]string{"en": "Slow mail"}, "impact": "minor", "components": []string{"web-cluster-01"},
		"body": map[string]string{"en": "We are looking into it.", "fr": "Nous regardons."}}
	for _, tc := range []struct {
		name, token, path string
		body              any
		status            int
		says              string
	}{
		{"a reader cannot open one", reader, "/api/v1/status/incidents", open, http.StatusForbidden, ""},
		{"no body", operator, "/api/v1/status/incidents", map[string]any{"name": map[string]string{"en": "x"}}, http.StatusBadRequest, "body is empty"},
		{"unknown component", operator, "/api/v1/status/incidents", map[string]any{"name": map[string]string{"en": "x"}, "body": map[string]string{"en": "y"}, "components": []string{"mail"}}, http.StatusBadRequest, `no component \"mail\"`},
		{"unknown language", operator, "/api/v1/status/incidents", map[string]any{"name": map[string]string{"it": "x"}, "body": map[string]string{"en": "y"}}, http.StatusBadRequest, `no language \"it\"`},
		{"bad impact", operator, "/api/v1/status/incidents", map[string]any{"name": map[string]string{"en": "x"}, "body": map[string]string{"en": "y"}, "impact": "huge"}, http.StatusBadRequest, `impact \"huge\"`},
		{"no such incident", operator, "/api/v1/status/incidents/nope/updates", map[string]any{"status": "resolved", "body": map[string]string{"en": "y"}}, http.StatusNotFound, "no incident nope"},
		{"no such maintenance", operator, "/api/v1/status/maintenances/nope/updates", map[string]any{"status": "completed", "body": map[string]string{"en": "y"}}, http.StatusNotFound, "no maintenance nope"},
		{"an operator opens one", operator, "/api/v1/status/incidents", open, http.StatusCreated, "Slow mail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d.Daemon, "POST", tc.path, tc.token, tc.body)
			if a.status != tc.status || !strings.Contains(string(a.body), tc.says) {
				t.Errorf("%d %s, want %d saying %q", a.status, a.body, tc.status, tc.says)
			}
		})
	}
	a = call(t, d.Daemon, "GET", "/api/v1/status", reader, nil)
	a.decode(t, &st)
	if len(st.Incidents) != 1 || st.Incidents[0].Status != "investigating" {
		t.Fatalf("incidents %+v", st.Incidents)
	}
	id := st.Incidents[0].ID
	a = call(t, d.Daemon, "POST", "/api/v1/status/incidents/"+id+"/updates", operator, map[string]any{"status": "monitoring", "body": map[string]string{"de": "Behoben, wir beobachten."}})
	if a.status != http.StatusCreated {
		t.Fatalf("update: %d %s", a.status, a.body)
	}
	public := d.v2(t, "/api/v2/incidents/unresolved.json")
	if len(public.Incidents) != 1 || public.Incidents[0].Status != "monitoring" || public.Incidents[0].Name != "Slow mail" {
		t.Errorf("public page: %+v", public.Incidents)
	}
	// The public listener serves no API and takes no token.
	resp, err := http.Get(d.public + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/v1/status on the public listener: %s", resp.Status)
	}
}

func TestPublicListenConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want, problem string
	}{
		{"default", "listen: 127.0.0.1:9000\n", "127.0.0.1:8081", ""},
		{"set", "public_listen: 0.0.0.0:80\n", "0.0.0.0:80", ""},
		{"bad", "public_listen: nowhere\n", "", `illico.yaml:1:16: listen address "nowhere" is not HOST:PORT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := server.ParseConfig("illico.yaml", []byte(tc.yaml))
			switch {
			case tc.problem != "" && (err == nil || !strings.Contains(err.Error(), tc.problem)):
				t.Errorf("error %v, want %q", err, tc.problem)
			case tc.problem == "" && err != nil:
				t.Fatal(err)
			case tc.problem == "" && c.PublicListen != tc.want:
				t.Errorf("public_listen = %q, want %q", c.PublicListen, tc.want)
			}
		})
	}
	// A daemon refuses a public address it cannot listen on, and says which.
	busy, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	st, err := store.Open(t.Context(), sqlite(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = server.New(server.Options{Store: st, Listen: "127.0.0.1:0", PublicListen: busy.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "status page on "+busy.Addr().String()) {
		t.Errorf("a busy public address: %v", err)
	}
}

// statusPage is the part of GET /api/v1/status the tests read.
func statusPage(t testing.TB, d *servertest.Daemon, token string) api.StatusPage {
	t.Helper()
	a := call(t, d, "GET", "/api/v1/status", token, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET /api/v1/status: %d %s", a.status, a.body)
	}
	var page api.StatusPage
	a.decode(t, &page)
	return page
}

func TestStatusSurvivesARestartSQLite(t *testing.T) { testStatusSurvivesARestart(t, sqlite) }

func TestStatusSurvivesARestartPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	testStatusSurvivesARestart(t, pgtest.Start)
}

// What operators wrote on the page is there after a restart, and a second
// daemon on the same database shows the first one's changes.
func testStatusSurvivesARestart(t *testing.T, dsn func(t testing.TB) string) {
	db, inv := dsn(t), inventoryCopy(t)
	first, stop := startPublicWith(t, publicOptions{dsn: db, inventory: inv})
	admin := first.AdminToken
	a := call(t, first.Daemon, "POST", "/api/v1/status/incidents", admin, api.NewIncident{
		Name: fleet.Text{"en": "Slow mail"}, Components: []string{"web-cluster-01"}, Body: fleet.Text{"en": "Looking."}})
	if a.status != http.StatusCreated {
		t.Fatalf("open an incident: %d %s", a.status, a.body)
	}
	from := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	a = call(t, first.Daemon, "POST", "/api/v1/status/maintenances", admin, api.NewMaintenance{
		Name: fleet.Text{"en": "Network work"}, Components: []string{"web-cluster-01"}, ScheduledFor: from, ScheduledUntil: from.Add(time.Hour),
		Body: fleet.Text{"en": "We replace a switch.", "fr": "Nous changeons un commutateur."}})
	if a.status != http.StatusCreated {
		t.Fatalf("schedule a maintenance: %d %s", a.status, a.body)
	}
	a = call(t, first.Daemon, "POST", "/api/v1/status/components/web-cluster-01", admin, api.ComponentStatus{Status: "degraded_performance"})
	if a.status != http.StatusOK {
		t.Fatalf("override a component: %d %s", a.status, a.body)
	}
	before := statusPage(t, first.Daemon, admin)
	stop()

	again, _ := startPublicWith(t, publicOptions{dsn: db, inventory: inv})
	after := statusPage(t, again.Daemon, admin)
	if after.Version != before.Version || !reflect.DeepEqual(after.Incidents, before.Incidents) || !reflect.DeepEqual(after.Maintenances, before.Maintenances) {
		t.Errorf("after a restart the page is\n%+v\nnot\n%+v", after, before)
	}
	if c := after.Components; len(c) != 1 || c[0].Status != "degraded_performance" || c[0].Override != "degraded_performance" {
		t.Errorf("after a restart the components are %+v", c)
	}
	upcoming := again.v2(t, "/api/v2/scheduled-maintenances/upcoming.json")
	if len(upcoming.ScheduledMaintenances) != 1 || upcoming.ScheduledMaintenances[0].Status != "scheduled" ||
		upcoming.ScheduledMaintenances[0].IncidentUpdates[0].Body != "Nous changeons un commutateur." {
		t.Errorf("upcoming.json after a restart: %+v", upcoming)
	}

	// A second daemon on the same database: what one writes, the other's
	// page shows within a few seconds.
	second, _ := startPublicWith(t, publicOptions{dsn: db, inventory: inv})
	a = call(t, again.Daemon, "POST", "/api/v1/status/incidents/"+before.Incidents[0].ID+"/updates", admin,
		api.NewStatusUpdate{Status: "resolved", Body: fleet.Text{"en": "Fixed."}})
	if a.status != http.StatusCreated {
		t.Fatalf("resolve: %d %s", a.status, a.body)
	}
	second.await(t, "/api/v2/incidents/unresolved.json", 10*time.Second, "the other daemon's resolution", func(v v2) bool {
		return len(v.Incidents) == 0
	})
}

// A maintenance an operator schedules shows as upcoming, starts and ends
// with its window by itself, and is told to no one twice.
func TestMaintenanceByHand(t *testing.T) {
	var offset atomic.Int64 // the daemon's clock runs this far ahead
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	d, _ := startPublicWith(t, publicOptions{dsn: sqlite(t), inventory: inventoryCopy(t), now: now,
		page: page.Page{Name: "Example Hosting", URL: "https://status.example.net", Language: "fr"}})
	admin := d.AdminToken
	from := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	good := api.NewMaintenance{Name: fleet.Text{"en": "Network work"}, Components: []string{"web-cluster-01"},
		ScheduledFor: from, ScheduledUntil: from.Add(time.Hour), Body: fleet.Text{"en": "We replace a switch."}}
	for _, tc := range []struct {
		name   string
		change func(m *api.NewMaintenance)
		says   string
	}{
		{"no component", func(m *api.NewMaintenance) { m.Components = nil }, "components is empty"},
		{"unknown component", func(m *api.NewMaintenance) { m.Components = []string{"mail"} }, `no component \"mail\"`},
		{"no window", func(m *api.NewMaintenance) { m.ScheduledFor = time.Time{} }, "scheduled_for and scheduled_until are both needed"},
		{"ends before it starts", func(m *api.NewMaintenance) { m.ScheduledUntil = m.ScheduledFor.Add(-time.Minute) }, "is not after scheduled_for"},
		{"over already", func(m *api.NewMaintenance) {
			m.ScheduledFor, m.ScheduledUntil = from.Add(-3*time.Hour), from.Add(-2*time.Hour)
		}, "is already past"},
		{"no name", func(m *api.NewMaintenance) { m.Name = nil }, "name is empty"},
		{"a language the page lacks", func(m *api.NewMaintenance) { m.Body = fleet.Text{"it": "x"} }, `no language \"it\"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good
			tc.change(&m)
			if a := call(t, d.Daemon, "POST", "/api/v1/status/maintenances", admin, m); a.status != http.StatusBadRequest || !strings.Contains(string(a.body), tc.says) {
				t.Errorf("%d %s, want 400 saying %q", a.status, a.body, tc.says)
			}
		})
	}
	a := call(t, d.Daemon, "POST", "/api/v1/status/maintenances", admin, good)
	if a.status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", a.status, a.body)
	}
	var m api.Maintenance
	a.decode(t, &m)
	if m.Status != "scheduled" || m.Rollout != "" || !m.ScheduledFor.Equal(from) || len(m.Updates) != 1 {
		t.Fatalf("scheduled %+v", m)
	}

	summary := d.v2(t, "/api/v2/summary.json")
	if len(summary.ScheduledMaintenances) != 1 || summary.Components[0].Status != "operational" {
		t.Errorf("before the window: %+v", summary)
	}
	if up := d.v2(t, "/api/v2/scheduled-maintenances/upcoming.json"); len(up.ScheduledMaintenances) != 1 || up.ScheduledMaintenances[0].ID != m.ID {
		t.Errorf("upcoming.json: %+v", up)
	}
	page := get(t, d.public+"/api/v2/status.json")
	if !strings.Contains(page, `"name":"Example Hosting"`) || !strings.Contains(page, `"url":"https://status.example.net"`) {
		t.Errorf("the page does not say the name and URL it was given: %s", page)
	}

	offset.Store(int64(time.Hour))
	d.await(t, "/api/v2/summary.json", 10*time.Second, "the maintenance under way at its start", func(v v2) bool {
		return len(v.ScheduledMaintenances) == 1 && v.ScheduledMaintenances[0].Status == "in_progress" && v.Components[0].Status == "under_maintenance"
	})
	// Customers read of the start in their language.
	active := d.v2(t, "/api/v2/scheduled-maintenances/active.json")
	if !strings.Contains(active.ScheduledMaintenances[0].IncidentUpdates[0].Body, "a commencé") {
		t.Errorf("the start in French: %+v", active.ScheduledMaintenances[0].IncidentUpdates)
	}

	offset.Store(int64(2 * time.Hour))
	d.await(t, "/api/v2/scheduled-maintenances.json", 10*time.Second, "the maintenance completed at its end", func(v v2) bool {
		return len(v.ScheduledMaintenances) == 1 && v.ScheduledMaintenances[0].Status == "completed"
	})
	st := statusPage(t, d.Daemon, admin)
	if got := st.Maintenances[0]; len(got.Updates) != 3 || got.Updates[1].Status != "in_progress" || got.Updates[2].Status != "completed" ||
		got.CompletedAt == nil || st.Components[0].Status != "operational" {
		t.Errorf("after its window: %+v, components %+v", got, st.Components)
	}
}

// An operator's status for a component wins over its hosts' until "auto".
func TestComponentOverride(t *testing.T) {
	d := startPublic(t, inventoryCopy(t))
	reader := createToken(t, d.Daemon, d.AdminToken, "grafana", "reader").Secret
	for _, tc := range []struct {
		name, token, id, status string
		code                    int
		public                  string
	}{
		{"a reader may not", reader, "web-cluster-01", "major_outage", http.StatusForbidden, "operational"},
		{"an unknown status", d.AdminToken, "web-cluster-01", "down", http.StatusBadRequest, "operational"},
		{"an unknown component", d.AdminToken, "mail", "major_outage", http.StatusNotFound, "operational"},
		{"an outage", d.AdminToken, "web-cluster-01", "major_outage", http.StatusOK, "major_outage"},
		{"back to the hosts", d.AdminToken, "web-cluster-01", "auto", http.StatusOK, "operational"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, d.Daemon, "POST", "/api/v1/status/components/"+tc.id, tc.token, api.ComponentStatus{Status: tc.status})
			if a.status != tc.code {
				t.Fatalf("%d %s, want %d", a.status, a.body, tc.code)
			}
			if got := d.v2(t, "/api/v2/summary.json").Components[0].Status; got != tc.public {
				t.Errorf("the page shows %s, want %s", got, tc.public)
			}
		})
	}
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// A daemon stopped in the middle of a rollout and started again goes on
// with the rollout's maintenance on the page: one maintenance, told from
// start to end, without a second start.
func TestRolloutMaintenanceSurvivesARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a lab")
	}
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	db, inv := sqlite(t), l.Info().Files.Inventory
	first, stop := startPublicWith(t, publicOptions{dsn: db, inventory: inv})
	admin := first.AdminToken
	a := call(t, first.Daemon, "POST", "/api/v1/rollouts", admin, labPlan(t, l, "urgent-openssl.yaml", ""))
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	first.await(t, "/api/v2/scheduled-maintenances/active.json", 20*time.Second, "the rollout's maintenance", func(v v2) bool {
		return len(v.ScheduledMaintenances) == 1
	})
	waitRollout(t, first.Daemon, admin, ro.ID, 30*time.Second, func(ro api.Rollout) bool { return ro.Counts["running"] > 0 })
	stop()

	again, _ := startPublicWith(t, publicOptions{dsn: db, inventory: inv})
	again.await(t, "/api/v2/scheduled-maintenances.json", 90*time.Second, "the maintenance completed", func(v v2) bool {
		return len(v.ScheduledMaintenances) > 0 && v.ScheduledMaintenances[0].Status == "completed"
	})
	st := statusPage(t, again.Daemon, admin)
	var ms []api.Maintenance
	for _, m := range st.Maintenances {
		if m.Rollout == ro.ID {
			ms = append(ms, m)
		}
	}
	if len(ms) != 1 || len(st.Maintenances) != 1 {
		t.Fatalf("maintenances after a restart mid-rollout: %+v", st.Maintenances)
	}
	m := ms[0]
	ids := map[string]bool{}
	started := 0
	for _, u := range m.Updates {
		if ids[u.ID] {
			t.Errorf("update %s twice", u.ID)
		}
		ids[u.ID] = true
		if strings.Contains(u.Body["en"], "has started") {
			started++
		}
	}
	if last := m.Updates[len(m.Updates)-1]; started != 1 || !strings.Contains(last.Body["en"], "is complete: all 4 servers are done") {
		t.Errorf("the maintenance's updates: %+v", m.Updates)
	}
	if len(st.Incidents) != 0 {
		t.Errorf("incidents %+v", st.Incidents)
	}
}

func TestStatusPageConfig(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       page.Page // Name, URL and Language
		zone       string
		problems   []string
	}{
		{"none", "", page.Page{}, "", nil},
		{"all", "status_page: {name: Example Hosting, url: 'https://status.example.net', time_zone: Europe/Paris, language: fr}\n",
			page.Page{Name: "Example Hosting", URL: "https://status.example.net", Language: "fr"}, "Europe/Paris", nil},
		{"public_url alone still works", "public_url: https://status.example.net\n", page.Page{URL: "https://status.example.net"}, "", nil},
		{"both names", "public_url: https://a.example.net\nstatus_page: {url: 'https://b.example.net'}\n", page.Page{}, "",
			[]string{"illico.yaml:1:13: public_url is the older name of status_page.url: keep status_page.url only"}},
		{"bad values", "status_page: {url: status.example.net, time_zone: Mars/Olympus, language: it}\n", page.Page{}, "",
			[]string{`illico.yaml:1:20: status_page url "status.example.net"`, `status_page time_zone "Mars/Olympus"`, `status_page language "it": expected de, en, fr`}},
		{"a typo", "status_page: {nmae: x}\n", page.Page{}, "", []string{`did you mean "name"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := server.ParseConfig("illico.yaml", []byte(tc.yaml))
			if len(tc.problems) > 0 {
				for _, p := range tc.problems {
					if err == nil || !strings.Contains(err.Error(), p) {
						t.Errorf("%v\nlacks %q", err, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := c.StatusPage.Page()
			zone := ""
			if p.TimeZone != nil {
				zone = p.TimeZone.String()
			}
			if p.Name != tc.want.Name || p.URL != tc.want.URL || p.Language != tc.want.Language || zone != tc.zone {
				t.Errorf("page %+v (zone %q), want %+v", p, zone, tc.want)
			}
			if p.ID != "" {
				t.Errorf("page_id %q from the config: the store keeps it, for renaming or moving the page not to change it", p.ID)
			}
		})
	}
}
