package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/api"
	"github.com/illico-dev/illico/internal/lab"
	"github.com/illico-dev/illico/internal/lab/labtest"
	"github.com/illico-dev/illico/internal/server/servertest"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

// Three replicas on one PostgreSQL database: one leads, every one
// answers, and a command sent to any of them reaches the leader. The
// leader stops: another takes over within seconds, resumes its rollout,
// and the rollout ends done.
func TestReplicasOnOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons and a lab: slow")
	}
	l := labtest.Start(t, lab.Options{Hosts: 2})
	dsn := pgtest.Start(t)
	opts := servertest.Options{DSN: dsn, Inventory: l.Info().Files.Inventory}
	first := servertest.Start(t, opts)
	admin := first.AdminToken
	replicas := []*servertest.Daemon{first, servertest.Start(t, opts), servertest.Start(t, opts)}

	health := func(d *servertest.Daemon) api.Health {
		t.Helper()
		var h api.Health
		call(t, d, "GET", "/healthz", "", nil).decode(t, &h)
		return h
	}
	leader := func(within time.Duration) int {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			var leads []int
			for i, d := range replicas {
				if d != nil && health(d).Leader {
					leads = append(leads, i)
				}
			}
			if len(leads) > 1 {
				t.Fatalf("replicas %v lead at once", leads)
			}
			if len(leads) == 1 {
				return leads[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("no replica leads after %s", within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if lead := leader(time.Second); lead != 0 {
		t.Fatalf("replica %d leads; the first one started should", lead)
	}
	var cl api.Cluster
	call(t, replicas[2], "GET", "/api/v1/cluster", admin, nil).decode(t, &cl)
	if cl.Leader == nil || cl.Leader.Replica != health(first).Replica || len(cl.Replicas) != 3 || cl.This != health(replicas[2]).Replica {
		t.Fatalf("cluster, as replica 2 says: %+v", cl)
	}

	// A rollout started through a replica that does not lead runs on the
	// leader; it waits at its gate.
	gate := filepath.Join(t.TempDir(), "gate")
	t.Cleanup(func() { os.WriteFile(gate, nil, 0o600) })
	p := gatedPlan(gate, "")
	p.Selector = l.Info().Hosts[0].Name
	a := call(t, replicas[1], "POST", "/api/v1/rollouts", admin, p)
	if a.status != http.StatusCreated {
		t.Fatalf("start through replica 1: %d %s", a.status, a.body)
	}
	var ro api.Rollout
	a.decode(t, &ro)
	waitRollout(t, replicas[2], admin, ro.ID, 30*time.Second, func(ro api.Rollout) bool { return ro.Counts["running"] == 1 })

	// The leader stops; another replica takes over and resumes it.
	stopped := time.Now()
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	replicas[0] = nil
	next := leader(10 * time.Second)
	t.Logf("replica %d leads %s after the leader stopped", next, time.Since(stopped).Round(time.Millisecond))
	other := replicas[3-next]
	// Commands through the replica that does not lead reach the new one.
	if a := call(t, other, "POST", "/api/v1/rollouts/"+ro.ID+"/pause", admin, nil); a.status != http.StatusOK {
		t.Fatalf("pause through the replica that does not lead: %d %s", a.status, a.body)
	}
	if a := call(t, other, "POST", "/api/v1/rollouts/"+ro.ID+"/resume", admin, nil); a.status != http.StatusOK {
		t.Fatalf("resume through the replica that does not lead: %d %s", a.status, a.body)
	}
	os.WriteFile(gate, nil, 0o600)
	ro = waitRollout(t, other, admin, ro.ID, time.Minute, func(ro api.Rollout) bool { return ro.State == "done" })
	var evs api.Events
	call(t, other, "GET", "/api/v1/rollouts/"+ro.ID+"/events", admin, nil).decode(t, &evs)
	resumed := false
	for _, e := range evs.Events {
		resumed = resumed || strings.Contains(e.Message, "resumed after a restart")
	}
	if !resumed {
		t.Errorf("the new leader did not say it resumed the rollout: %+v", evs.Events)
	}
	var h map[string]any
	call(t, other, "GET", "/healthz", "", nil).decode(t, &h)
	if h["leader"] != false {
		t.Errorf("healthz of the replica that does not lead: %v", h)
	}
}
