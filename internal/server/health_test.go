package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/client"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/store"
)

// hook is a webhook receiver that keeps every Alertmanager-style payload.
type hook struct {
	mu   sync.Mutex
	msgs []api.AlertmanagerMessage
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m api.AlertmanagerMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, m)
	h.mu.Unlock()
}

// since returns the payloads received after the first n.
func (h *hook) since(n int) []api.AlertmanagerMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs[min(n, len(h.msgs)):])
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.msgs)
}

// startWatching starts a daemon on inventory that probes every second and
// sends its alerts to url, with short waits and grace.
func startWatching(t testing.TB, inventory, url string) *servertest.Daemon {
	t.Helper()
	alerts := filepath.Join(t.TempDir(), "alerts.yaml")
	cfg := fmt.Sprintf(`route:
  receiver: hook
  group_wait: 1s
  group_interval: 2s
receivers:
  hook:
    webhook: {url: %q}
    attempts: 2
    backoff: 100ms
maintenance_grace: 15s
`, url)
	if err := os.WriteFile(alerts, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), sqlite(t))
	if err != nil {
		t.Fatal(err)
	}
	stderr, logs := &servertest.Buffer{}, &servertest.Buffer{}
	srv, err := server.New(server.Options{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), Store: st, Inventory: inventory,
		Listen: "127.0.0.1:0", AdminTokenOut: stderr, Alerts: alerts, ProbeInterval: time.Second,
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
	d := &servertest.Daemon{URL: "http://" + srv.Addr()}
	for range 500 {
		if d.AdminToken = tokenIn(stderr.String()); d.AdminToken != "" {
			return d
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the daemon did not start; stderr:\n%s", stderr)
	return d
}

// await polls the daemon's path until cond holds on its JSON answer.
func await[T any](t testing.TB, d *servertest.Daemon, path string, within time.Duration, what string, cond func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(within)
	var v T
	for time.Now().Before(deadline) {
		a := call(t, d, "GET", path, d.AdminToken, nil)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var got T
		a.decode(t, &got)
		if v = got; cond(v) {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last %+v", what, within, v)
	return v
}

func probeStates(ps api.Probes, host string) map[string]string {
	out := map[string]string{}
	for _, p := range ps.Probes {
		if host == "" || p.Host == host {
			out[p.ID] = p.State
		}
	}
	return out
}

func firingFor(as api.Alerts, host string) *api.Alert {
	for i, a := range as.Alerts {
		if a.Status == "firing" && a.Labels["host"] == host {
			return &as.Alerts[i]
		}
	}
	return nil
}

// notified lists the hosts of the firing alerts in msgs.
func notified(msgs []api.AlertmanagerMessage) []string {
	var out []string
	for _, m := range msgs {
		for _, a := range m.Alerts {
			if a.Status == "firing" {
				out = append(out, a.Labels["alertname"]+"@"+a.Labels["host"])
			}
		}
	}
	return out
}

// The daemon watches a lab: its probes see the hosts up, then a frozen
// host down, which alerts and resolves once healed; a rollout rebooting
// every host sends no alert, and an Alertmanager alert its plan names
// pauses it; a host that does not come back from its reboot alerts once
// the maintenance grace is over, naming the rollout.
func TestProbesAndAlertsOnALab(t *testing.T) {
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: 2 * time.Second})
	h := &hook{}
	receiver := httptest.NewServer(h)
	t.Cleanup(receiver.Close)
	d := startWatching(t, l.Info().Files.Inventory, receiver.URL)

	all := await(t, d, "/api/v1/probes", 20*time.Second, "every probe up", func(ps api.Probes) bool {
		if len(ps.Probes) != 8 {
			return false
		}
		for _, p := range ps.Probes {
			if p.State != "up" {
				return false
			}
		}
		return true
	})
	var hosts []string
	for _, p := range all.Probes {
		if p.Probe == "ssh" {
			hosts = append(hosts, p.Host)
		}
	}
	slices.Sort(hosts)

	t.Run("frozen host", func(t *testing.T) {
		frozen := hosts[0]
		if _, err := l.Fault(frozen, lab.FaultFreeze); err != nil {
			t.Fatal(err)
		}
		await(t, d, "/api/v1/probes", 15*time.Second, frozen+"'s probes down", func(ps api.Probes) bool {
			st := probeStates(ps, frozen)
			return st["ssh@"+frozen] == "down" && st["site@"+frozen] == "down"
		})
		await(t, d, "/api/v1/alerts", 5*time.Second, "an alert for "+frozen, func(as api.Alerts) bool {
			return firingFor(as, frozen) != nil
		})
		// Its partner still serves the group behind HAProxy: the page says
		// degraded, not an outage.
		await(t, d, "/api/v1/status", 10*time.Second, frozen+"'s component degraded", func(sp api.StatusPage) bool {
			return componentOf(sp, frozen) == "degraded_performance"
		})
		deadline := time.Now().Add(10 * time.Second)
		for !slices.Contains(notified(h.since(0)), "ProbeDown@"+frozen) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if got := notified(h.since(0)); !slices.Contains(got, "ProbeDown@"+frozen) {
			t.Fatalf("the receiver was not told %s is down: %v", frozen, got)
		}
		if _, err := l.Heal(frozen); err != nil {
			t.Fatal(err)
		}
		await(t, d, "/api/v1/alerts", 20*time.Second, "the alert for "+frozen+" resolved", func(as api.Alerts) bool {
			return firingFor(as, frozen) == nil
		})
		await(t, d, "/api/v1/probes", 20*time.Second, "every probe up again", func(ps api.Probes) bool {
			return !slices.ContainsFunc(ps.Probes, func(p api.Probe) bool { return p.State != "up" })
		})
		await(t, d, "/api/v1/status", 10*time.Second, frozen+"'s component operational again", func(sp api.StatusPage) bool {
			return componentOf(sp, frozen) == "operational"
		})
		for i := 0; i < 100 && !slices.ContainsFunc(h.since(0), func(m api.AlertmanagerMessage) bool { return m.Status == "resolved" }); i++ {
			time.Sleep(100 * time.Millisecond)
		}
		if !slices.ContainsFunc(h.since(0), func(m api.AlertmanagerMessage) bool { return m.Status == "resolved" }) {
			t.Errorf("no resolved notice after heal: %+v", h.since(0))
		}
	})

	t.Run("rollout on plan", func(t *testing.T) {
		before := h.count()
		p := labPlan(t, l, "urgent-openssl.yaml", "")
		p.Plan = strings.Replace(p.Plan, "strategy:\n", "strategy:\n  pause_on_alerts: ['alertname=\"NodeDown\"', 'datacenter=~\".+\"']\n", 1)
		a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, p)
		if a.status != http.StatusCreated {
			t.Fatalf("start: %d %s", a.status, a.body)
		}
		var ro api.Rollout
		a.decode(t, &ro)
		// What the page says of the components while the rollout runs: its
		// hosts rebooting on plan are no outage.
		seen := map[string]bool{}
		watching, stopWatching := context.WithCancel(t.Context())
		var watched sync.WaitGroup
		watched.Go(func() {
			// Not call: it fails the test, which only the test's goroutine may.
			c, err := client.New(d.URL, d.AdminToken, nil)
			if err != nil {
				return
			}
			for watching.Err() == nil {
				if sp, err := c.Status(watching); err == nil {
					for _, c := range sp.Components {
						seen[c.Status] = true
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		waitRollout(t, d, d.AdminToken, ro.ID, 20*time.Second, func(ro api.Rollout) bool { return ro.Counts["running"] > 0 })

		am := func(labels map[string]string) api.Paused {
			t.Helper()
			a := call(t, d, "POST", "/api/v1/alertmanager", d.AdminToken, api.AlertmanagerMessage{
				Version: "4", Status: "firing", Receiver: "illico",
				Alerts: []api.AlertmanagerAlert{{Status: "firing", Labels: labels, StartsAt: time.Now()}},
			})
			if a.status != http.StatusOK {
				t.Fatalf("alertmanager: %d %s", a.status, a.body)
			}
			var out api.Paused
			a.decode(t, &out)
			return out
		}
		if got := am(map[string]string{"alertname": "NodeDown"}); len(got.Rollouts) != 0 {
			t.Errorf("an alert without a datacenter paused %+v", got)
		}
		got := am(map[string]string{"alertname": "NodeDown", "datacenter": "dc1"})
		if len(got.Rollouts) != 1 || got.Rollouts[0].ID != ro.ID {
			t.Fatalf("the matching alert paused %+v, want %s", got, ro.ID)
		}
		waitRollout(t, d, d.AdminToken, ro.ID, 10*time.Second, func(ro api.Rollout) bool { return ro.State == "paused" })
		var evs api.Events
		call(t, d, "GET", "/api/v1/rollouts/"+ro.ID+"/events", d.AdminToken, nil).decode(t, &evs)
		if !slices.ContainsFunc(evs.Events, func(e api.Event) bool {
			return e.Kind == "rollout.alert" && strings.Contains(e.Message, "NodeDown")
		}) {
			t.Errorf("no event says which alert paused the rollout: %+v", evs.Events)
		}
		if a := call(t, d, "POST", "/api/v1/rollouts/"+ro.ID+"/resume", d.AdminToken, nil); a.status != http.StatusOK {
			t.Fatalf("resume: %d %s", a.status, a.body)
		}
		waitRollout(t, d, d.AdminToken, ro.ID, 70*time.Second, func(ro api.Rollout) bool { return ro.Ended != nil })
		// Past the grace and a group wait: any alert would have gone out.
		time.Sleep(17 * time.Second)
		if got := notified(h.since(before)); len(got) > 0 {
			t.Errorf("a rollout on plan sent alerts: %v", got)
		}
		stopWatching()
		watched.Wait()
		if len(seen) == 0 {
			t.Error("the status page was never read during the rollout")
		}
		for st := range seen {
			if st != "operational" && st != "under_maintenance" {
				t.Errorf("during a rollout on plan, the page showed a component %s (all seen: %v)", st, seen)
			}
		}
	})

	t.Run("trouble right after a maintenance", func(t *testing.T) {
		// Back from its maintenance, a host that breaks again within the
		// grace period is new trouble: the grace hides it neither from the
		// receiver nor from the page, and does not blame the rollout.
		before := h.count()
		again := hosts[2]
		a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, labPlan(t, l, "urgent-openssl.yaml", again))
		if a.status != http.StatusCreated {
			t.Fatalf("start: %d %s", a.status, a.body)
		}
		var ro api.Rollout
		a.decode(t, &ro)
		waitRollout(t, d, d.AdminToken, ro.ID, 30*time.Second, func(ro api.Rollout) bool { return ro.Ended != nil })
		if _, err := l.Fault(again, lab.FaultFreeze); err != nil {
			t.Fatal(err)
		}
		alerted := await(t, d, "/api/v1/alerts", 15*time.Second, "an alert for "+again, func(as api.Alerts) bool {
			return firingFor(as, again) != nil
		})
		if a := firingFor(alerted, again); a.Maintenance != "" {
			t.Errorf("trouble after the rollout is muted by it: %+v", a)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !slices.Contains(notified(h.since(before)), "ProbeDown@"+again) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		msgs := h.since(before)
		if !slices.Contains(notified(msgs), "ProbeDown@"+again) {
			t.Fatalf("the receiver was not told %s is down: %v", again, notified(msgs))
		}
		for _, m := range msgs {
			for _, a := range m.Alerts {
				if a.Labels["host"] == again && a.Annotations["rollout"] != "" {
					t.Errorf("new trouble is blamed on rollout %s: %v", a.Annotations["rollout"], a.Annotations)
				}
			}
		}
		await(t, d, "/api/v1/status", 10*time.Second, again+"'s component degraded", func(sp api.StatusPage) bool {
			return componentOf(sp, again) == "degraded_performance"
		})
		if _, err := l.Heal(again); err != nil {
			t.Fatal(err)
		}
		await(t, d, "/api/v1/probes", 20*time.Second, "every probe up again", func(ps api.Probes) bool {
			return !slices.ContainsFunc(ps.Probes, func(p api.Probe) bool { return p.State != "up" })
		})
	})

	t.Run("host that does not return", func(t *testing.T) {
		before := h.count()
		lost := hosts[1]
		p := labPlan(t, l, "urgent-openssl.yaml", lost)
		// No rollback, and a reboot that gives up soon: the host stays down.
		steps, _, _ := strings.Cut(p.Plan, "rollback:")
		_, strategy, _ := strings.Cut(p.Plan, "strategy:")
		p.Plan = strings.Replace(steps, "timeout: 2m\n  - wait_healthy", "timeout: 6s\n  - wait_healthy", 1) + "strategy:" + strategy
		p.Plan = strings.ReplaceAll(p.Plan, "3.0.13", "3.0.11")
		if _, err := l.Fault(lost, lab.FaultNoReturn); err != nil {
			t.Fatal(err)
		}
		a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, p)
		if a.status != http.StatusCreated {
			t.Fatalf("start: %d %s", a.status, a.body)
		}
		deadline := time.Now().Add(50 * time.Second)
		for !slices.Contains(notified(h.since(before)), "ProbeDown@"+lost) && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		msgs := h.since(before)
		if got := notified(msgs); !slices.Contains(got, "ProbeDown@"+lost) {
			t.Fatalf("%s did not come back and no alert went out: %v", lost, got)
		}
		var named bool
		for _, m := range msgs {
			for _, a := range m.Alerts {
				named = named || a.Labels["host"] == lost && a.Annotations["rollout"] != "" && strings.Contains(a.Annotations["summary"], "not back")
			}
		}
		if !named {
			t.Errorf("the alert does not name the rollout that took %s down: %+v", lost, msgs)
		}
	})
}

// hostSite is a host's health endpoint as a check sees it: JSON whose status
// each host may turn to degraded, counting the answers of each kind.
type hostSite struct {
	mu       sync.Mutex
	degraded map[string]bool
	answers  map[string]int // "host ok" or "host degraded"
}

func newSite(t testing.TB) (*hostSite, string) {
	t.Helper()
	s := &hostSite{degraded: map[string]bool{}, answers: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *hostSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	s.mu.Lock()
	status := "ok"
	if s.degraded[host] {
		status = "degraded"
	}
	s.answers[host+" "+status]++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status": %q}`, status)
}

// set turns host's status to degraded or back to ok, and returns how many
// answers of the new kind it had given before.
func (s *hostSite) set(host string, degraded bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.degraded[host] = degraded
	return s.answers[host+" "+map[bool]string{false: "ok", true: "degraded"}[degraded]]
}

func (s *hostSite) count(host, status string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answers[host+" "+status]
}

// bodyCheck is a group check on the site's JSON body, on its own interval.
func bodyCheck(url string) string {
	return fmt.Sprintf(`      - name: site
        kind: http
        target: %s/health?host=${name}
        interval: 1s
        timeout: 1s
        conditions: ['[STATUS] == 200', '[BODY].status == "ok"']
        failure_threshold: 2
        success_threshold: 2
`, url)
}

// A group check's condition on the body drives each member's probe down
// and up again, after as many runs in a row as its thresholds say.
func TestCheckConditionsDriveProbes(t *testing.T) {
	s, url := newSite(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sshAddr := closed.Addr().String() // refused: the hosts' ssh probes fail, beside the point
	closed.Close()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	text := "datacenters: {dc: {}}\ndefaults: {ssh: {known_hosts: known_hosts, identity_files: [id]}}\n" +
		"groups:\n  web:\n    checks:\n" + bodyCheck(url) +
		"hosts:\n  web-1: {address: \"" + sshAddr + "\", datacenter: dc, groups: [web]}\n" +
		"  web-2: {address: \"" + strings.Replace(sshAddr, "127.0.0.1", "127.0.0.2", 1) + "\", datacenter: dc, groups: [web]}\n"
	if err := os.WriteFile(inv, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, sqlite, servertest.Options{Inventory: inv})
	site := func(host string) func(api.Probes) api.Probe {
		return func(ps api.Probes) api.Probe {
			for _, p := range ps.Probes {
				if p.ID == "site@"+host {
					return p
				}
			}
			return api.Probe{}
		}
	}
	await(t, d, "/api/v1/probes", 10*time.Second, "both sites up", func(ps api.Probes) bool {
		return site("web-1")(ps).State == "up" && site("web-2")(ps).State == "up"
	})

	before := s.set("web-1", true)
	ps := await(t, d, "/api/v1/probes", 10*time.Second, "web-1's site down", func(ps api.Probes) bool {
		return site("web-1")(ps).State == "down"
	})
	if p := site("web-1")(ps); p.Last == nil || p.Last.Reason != `[BODY].status == "ok" (saw "degraded")` || p.Interval != "1s" {
		t.Errorf("web-1's site: %+v, last %+v", p, p.Last)
	}
	if n := s.count("web-1", "degraded") - before; n < 2 {
		t.Errorf("down after %d degraded answers, want failure_threshold 2", n)
	}
	if st := site("web-2")(ps).State; st != "up" {
		t.Errorf("web-2's site is %s, want up", st)
	}

	before = s.set("web-1", false)
	await(t, d, "/api/v1/probes", 10*time.Second, "web-1's site up again", func(ps api.Probes) bool {
		return site("web-1")(ps).State == "up"
	})
	if n := s.count("web-1", "ok") - before; n < 2 {
		t.Errorf("up after %d good answers, want success_threshold 2", n)
	}
}

// wait_healthy runs the host's probes with their conditions: a host whose
// site answers but says it is degraded fails the gate, with the condition
// and what was seen; its healthy partner passes it, ssh probe included.
func TestWaitHealthyFailsOnACondition(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lab")
	}
	l := labtest.Start(t, lab.Options{Hosts: 2})
	s, url := newSite(t)
	fl, err := inventory.Load(l.Info().Files.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	// The lab's own site check gives way to one on the test's site.
	for _, g := range fl.Groups {
		g.Checks = []fleet.Check{{
			Name: "site", Kind: fleet.CheckHTTP, Target: url + "/health?host=${name}", Interval: time.Second, Timeout: time.Second,
			Conditions: []string{"[STATUS] == 200", `[BODY].status == "ok"`},
		}}
	}
	data, err := inventory.Encode(fl, l.Info().Dir)
	if err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(l.Info().Dir, "inventory-body.yaml")
	if err := os.WriteFile(inv, data, 0o600); err != nil {
		t.Fatal(err)
	}
	d := start(t, sqlite, servertest.Options{Inventory: inv})
	// Each host waits at a gate, healthy: a host whose checks fail is
	// down, and no rollout starts it. The degraded one goes bad there, and
	// its wait_healthy sees it.
	plan := func(gate string) string {
		return fmt.Sprintf("name: Look\nsteps:\n  - run: \"until [ -e %s ]; do sleep 0.1; done\"\n  - wait_healthy:\n    min_healthy: 1s\n    timeout: 5s\n", gate)
	}

	// The healthy host first: the other, without rollback steps, is left
	// stuck, which holds its group's budget.
	hosts := l.Info().Hosts
	degraded := hosts[1].Name
	for _, h := range hosts {
		t.Run(h.Name, func(t *testing.T) {
			gate := filepath.Join(t.TempDir(), "gate")
			t.Cleanup(func() { os.WriteFile(gate, nil, 0o600) })
			a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, api.StartRollout{PlanFile: "look.yaml", Plan: plan(gate), Selector: h.Name})
			if a.status != http.StatusCreated {
				t.Fatalf("start: %d %s", a.status, a.body)
			}
			var ro api.Rollout
			a.decode(t, &ro)
			waitRollout(t, d, d.AdminToken, ro.ID, 30*time.Second, func(ro api.Rollout) bool { return ro.Counts["running"] == 1 })
			if h.Name == degraded {
				s.set(degraded, true)
			}
			if err := os.WriteFile(gate, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			ro = waitRollout(t, d, d.AdminToken, ro.ID, 30*time.Second, func(ro api.Rollout) bool { return ro.Ended != nil })
			if len(ro.Hosts) != 1 {
				t.Fatalf("rollout hosts %+v", ro.Hosts)
			}
			got := ro.Hosts[0]
			if h.Name == degraded {
				if !got.Failed || !strings.Contains(got.Error, `wait_healthy): unhealthy: probe site: [BODY].status == "ok" (saw "degraded")`) {
					t.Errorf("degraded host: %s %q, want failed on the body's condition", got.State, got.Error)
				}
				return
			}
			if got.State != "done" {
				t.Errorf("healthy host: %s %q, want done", got.State, got.Error)
			}
		})
	}
}

// componentOf is the status the page gives the component host serves.
func componentOf(sp api.StatusPage, host string) string {
	for _, c := range sp.Components {
		if slices.Contains(c.Hosts, host) {
			return c.Status
		}
	}
	return ""
}
