package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/inventory"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/lb"
	"github.com/illico-dev/illico/internal/server/servertest"
)

// An operator drains a host by hand through the ledger: its partner is
// then refused to a second drain and to a rollout, which waits on it and
// says why; forced, the drain says which budget it broke; undrained, the
// rollout goes on and ends done.
func TestHandsOnDrainHoldsTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("a lab rollout: slow")
	}
	l := labtest.Start(t, lab.Options{Hosts: 4, RebootMin: time.Second, RebootMax: time.Second})
	d := start(t, sqlite, servertest.Options{Inventory: l.Info().Files.Inventory})
	op := createToken(t, d, d.AdminToken, "alice", "operator").Secret
	reader := createToken(t, d, d.AdminToken, "watcher", "reader").Secret
	balancer := func(host string) string {
		for _, s := range l.Status(t.Context()) {
			if s.Name == host {
				return s.Balancer
			}
		}
		return ""
	}

	if a := call(t, d, "POST", "/api/v1/hosts/web-gra-01/drain", reader, api.Drain{}); a.status != http.StatusForbidden {
		t.Fatalf("a reader drained a host: %d %s", a.status, a.body)
	}
	a := call(t, d, "POST", "/api/v1/hosts/web-gra-01/drain", op, api.Drain{Reason: "disk errors"})
	if a.status != http.StatusOK {
		t.Fatalf("drain: %d %s", a.status, a.body)
	}
	var drained api.Drained
	a.decode(t, &drained)
	if drained.Lease.Host != "web-gra-01" || drained.Lease.Kind != "drain" || !strings.Contains(drained.Lease.Holder, "alice") || drained.Broke != "" {
		t.Fatalf("drained %+v", drained)
	}
	if b := balancer("web-gra-01"); b != "MAINT" {
		t.Fatalf("web-gra-01 is %q in HAProxy after its drain, want MAINT", b)
	}

	// The partner is refused, saying who holds what; nothing changes.
	a = call(t, d, "POST", "/api/v1/hosts/web-sbg-01/drain", op, api.Drain{Reason: "also"})
	if a.status != http.StatusConflict || !strings.Contains(string(a.body), "partner web-gra-01 is drained by "+drained.Lease.Holder+" since") {
		t.Fatalf("the partner's drain: %d %s", a.status, a.body)
	}
	if b := balancer("web-sbg-01"); b != "UP" {
		t.Fatalf("a refused drain left web-sbg-01 %q", b)
	}
	var budgets api.Budgets
	call(t, d, "GET", "/api/v1/budget", reader, nil).decode(t, &budgets)
	var web01 *api.GroupBudget
	for i := range budgets.Groups {
		if budgets.Groups[i].Name == "web-01" {
			web01 = &budgets.Groups[i]
		}
	}
	if web01 == nil || web01.Out != 1 || web01.Allowed != 1 || len(web01.Members) != 2 || web01.Members[0].Lease == nil || web01.Members[0].Lease.Reason != "disk errors" {
		t.Fatalf("budget of web-01: %+v", web01)
	}

	// A rollout on the other datacenter: its canary, web-sbg-01, waits on
	// its drained partner, and says so.
	a = call(t, d, "POST", "/api/v1/rollouts", op, labPlan(t, l, "urgent-openssl.yaml", "datacenter=sbg"))
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	waitEvent(t, d, ro.ID, "web-sbg-01 waits: partner web-gra-01 is drained by "+drained.Lease.Holder)
	if b := balancer("web-sbg-01"); b != "UP" {
		t.Fatalf("the rollout took web-sbg-01 (%q) while its partner was drained", b)
	}

	// Undrained, the rollout goes on.
	a = call(t, d, "POST", "/api/v1/hosts/web-gra-01/undrain", op, nil)
	if a.status != http.StatusOK {
		t.Fatalf("undrain: %d %s", a.status, a.body)
	}
	ro = waitRollout(t, d, op, ro.ID, 2*time.Minute, func(ro api.Rollout) bool { return ro.State == "done" })
	if b := balancer("web-gra-01"); b != "UP" {
		t.Fatalf("web-gra-01 is %q after its undrain", b)
	}
	if a := call(t, d, "POST", "/api/v1/hosts/web-gra-01/undrain", op, nil); a.status != http.StatusConflict {
		t.Fatalf("a second undrain: %d %s", a.status, a.body)
	}

	// Forced past the budget: done, and said.
	call(t, d, "POST", "/api/v1/hosts/web-gra-02/drain", op, api.Drain{Reason: "first"})
	a = call(t, d, "POST", "/api/v1/hosts/web-sbg-02/drain", op, api.Drain{Reason: "both, on purpose", Force: true})
	a.decode(t, &drained)
	if a.status != http.StatusOK || !strings.Contains(drained.Broke, "partner web-gra-02 is drained by "+drained.Lease.Holder) {
		t.Fatalf("forced drain: %d %s", a.status, a.body)
	}
	if b := balancer("web-sbg-02"); b != "MAINT" {
		t.Fatalf("web-sbg-02 is %q after a forced drain", b)
	}
	if a := call(t, d, "POST", "/api/v1/hosts/web-nope/drain", op, api.Drain{}); a.status != http.StatusNotFound {
		t.Fatalf("an unknown host: %d %s", a.status, a.body)
	}
}

// A server set to MAINT by hand in HAProxy, outside illico: a rollout
// counts it as down and never takes its partner until it is back.
func TestMaintByHandInHAProxyIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("a lab rollout: slow")
	}
	l := labtest.Start(t, lab.Options{Hosts: 2, RebootMin: time.Second, RebootMax: time.Second})
	d := start(t, sqlite, servertest.Options{Inventory: l.Info().Files.Inventory})
	inv, err := inventory.Load(l.Info().Files.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	g := inv.Group("web-01")
	haproxy := lb.New(inv.LoadBalancer(g.Balancer.LoadBalancer))
	if err := haproxy.SetState(t.Context(), g.Balancer.Backend, g.Balancer.Server("web-gra-01"), lb.Maint); err != nil {
		t.Fatal(err)
	}
	a := call(t, d, "POST", "/api/v1/rollouts", d.AdminToken, labPlan(t, l, "urgent-openssl.yaml", "datacenter=sbg"))
	if a.status != http.StatusCreated {
		t.Fatalf("start: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	waitEvent(t, d, ro.ID, "web-sbg-01 waits: partner web-gra-01 is out of rotation in load balancer")
	var budgets api.Budgets
	call(t, d, "GET", "/api/v1/budget", d.AdminToken, nil).decode(t, &budgets)
	if len(budgets.Groups) != 1 || budgets.Groups[0].Out != 1 || !strings.Contains(budgets.Groups[0].Members[0].Out, "MAINT") {
		t.Fatalf("budget: %+v", budgets.Groups)
	}
	if st := waitRollout(t, d, d.AdminToken, ro.ID, time.Second, func(api.Rollout) bool { return true }); st.Counts["pending"] != 1 {
		t.Fatalf("web-sbg-01 started while its partner was in MAINT: %+v", st.Hosts)
	}
	if err := haproxy.SetState(t.Context(), g.Balancer.Backend, g.Balancer.Server("web-gra-01"), lb.Ready); err != nil {
		t.Fatal(err)
	}
	if ro = waitRollout(t, d, d.AdminToken, ro.ID, time.Minute, func(ro api.Rollout) bool { return ro.State == "done" }); ro.State != "done" {
		t.Fatalf("rollout %s", ro.State)
	}
}

// waitEvent waits until one of the rollout's events says want.
func waitEvent(t testing.TB, d *servertest.Daemon, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var evs api.Events
		call(t, d, "GET", "/api/v1/rollouts/"+id+"/events", d.AdminToken, nil).decode(t, &evs)
		for _, e := range evs.Events {
			if strings.Contains(e.Message, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event of rollout %s says %q: %+v", id, want, evs.Events)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A maintenance scheduled by hand with hosts takes them out through the
// ledger while it is in progress: a host whose partner an operator holds
// waits, and says why, until the partner is back; an operator cannot put
// a maintenance's host back by hand; at the window's end every host is
// back in service and no lease is left.
func TestMaintenanceWithHostsTakesLeases(t *testing.T) {
	if testing.Short() {
		t.Skip("a lab with its HAProxy, and a window of seconds")
	}
	l := labtest.Start(t, lab.Options{Hosts: 4})
	d := start(t, sqlite, servertest.Options{Inventory: l.Info().Files.Inventory})
	op := createToken(t, d, d.AdminToken, "alice", "operator").Secret
	balancer := func(host string) string {
		for _, s := range l.Status(t.Context()) {
			if s.Name == host {
				return s.Balancer
			}
		}
		return ""
	}
	leases := func() map[string]api.Lease {
		var budgets api.Budgets
		call(t, d, "GET", "/api/v1/budget", op, nil).decode(t, &budgets)
		out := map[string]api.Lease{}
		for _, g := range budgets.Groups {
			for _, m := range g.Members {
				if m.Lease != nil {
					out[m.Host] = *m.Lease
				}
			}
		}
		return out
	}
	eventually := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !ok(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("not within %s: %s; leases %+v", within, what, leases())
			}
		}
	}

	if a := call(t, d, "POST", "/api/v1/hosts/web-gra-02/drain", op, api.Drain{Reason: "fan"}); a.status != http.StatusOK {
		t.Fatalf("drain: %d %s", a.status, a.body)
	}
	now := time.Now()
	a := call(t, d, "POST", "/api/v1/status/maintenances", op, api.NewMaintenance{
		Name: fleet.Text{"en": "Disk swap"}, Hosts: "datacenter=sbg", Body: fleet.Text{"en": "We swap disks."},
		ScheduledFor: now, ScheduledUntil: now.Add(20 * time.Second),
	})
	if a.status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", a.status, a.body)
	}
	var m api.Maintenance
	a.decode(t, &m)
	if !slices.Equal(m.Hosts, []string{"web-sbg-01", "web-sbg-02"}) || m.Status != "in_progress" || len(m.Components) == 0 {
		t.Fatalf("maintenance %+v", m)
	}

	eventually("web-sbg-01 in MAINT under the maintenance's lease", 10*time.Second, func() bool {
		l, ok := leases()["web-sbg-01"]
		return ok && l.Kind == "maintenance" && l.Holder == m.ID && balancer("web-sbg-01") == "MAINT"
	})
	eventually("web-sbg-02 waits and says why", 10*time.Second, func() bool {
		return strings.Contains(d.Logs.String(), "partner web-gra-02 is drained by")
	})
	if b := balancer("web-sbg-02"); b != "UP" {
		t.Fatalf("web-sbg-02 is %q while its partner is drained by hand, want UP", b)
	}
	if a := call(t, d, "POST", "/api/v1/hosts/web-sbg-01/undrain", op, nil); a.status != http.StatusConflict || !strings.Contains(string(a.body), "maintenance "+m.ID) {
		t.Fatalf("undrain of a maintenance's host: %d %s", a.status, a.body)
	}

	if a := call(t, d, "POST", "/api/v1/hosts/web-gra-02/undrain", op, nil); a.status != http.StatusOK {
		t.Fatalf("undrain: %d %s", a.status, a.body)
	}
	eventually("web-sbg-02 in MAINT once its partner is back", 10*time.Second, func() bool {
		l, ok := leases()["web-sbg-02"]
		return ok && l.Holder == m.ID && balancer("web-sbg-02") == "MAINT"
	})

	eventually("every host back and no lease left after the window", 30*time.Second, func() bool {
		return len(leases()) == 0 && balancer("web-sbg-01") == "UP" && balancer("web-sbg-02") == "UP"
	})
}
