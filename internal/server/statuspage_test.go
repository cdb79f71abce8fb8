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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/store"
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
	st, err := store.Open(t.Context(), sqlite(t))
	if err != nil {
		t.Fatal(err)
	}
	stderr, logs := &servertest.Buffer{}, &servertest.Buffer{}
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Store: st, Inventory: inventory,
		Listen: "127.0.0.1:0", PublicListen: "127.0.0.1:0", AdminTokenOut: stderr,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		st.Close()
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs)
		}
	})
	d := publicDaemon{Daemon: &servertest.Daemon{URL: "http://" + srv.Addr()}, public: "http://" + srv.PublicAddr()}
	for range 500 {
		if d.AdminToken = strings.TrimSpace(tokenIn(stderr.String())); d.AdminToken != "" {
			if resp, err := http.Get(d.URL + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return d
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the daemon did not start; stderr:\n%s", stderr)
	return d
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
	return api.StartRollout{PlanFile: name, Plan: string(data), Limit: limit}
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
