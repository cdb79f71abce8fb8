package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

func sampleRollout(id string, created time.Time) *fleet.Rollout {
	return &fleet.Rollout{
		ID: id, Plan: &fleet.Plan{Name: "Urgent patch"}, PlanName: "Urgent patch", PlanFile: "patch.yaml", PlanSource: "name: Urgent patch\n",
		Selector: "datacenter=gra", Urgent: true, State: fleet.RolloutRunning, Reason: "started",
		CreatedAt: created, UpdatedAt: created,
		Hosts: []fleet.HostRun{
			{Host: "web-gra-01", State: fleet.HostPending, Wave: 1, Canary: true},
			{Host: "web-sbg-01", State: fleet.HostPending, Wave: 2},
			{Host: "web-gra-02", State: fleet.HostPending, Wave: 2},
		},
	}
}

func testRollouts(t *testing.T, s *store.Store) {
	c := ctx(t)
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r := sampleRollout("r1", t0)
	if err := s.CreateRollout(c, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRollout(c, r); err == nil {
		t.Fatal("a second rollout with the same id must fail")
	}
	h := r.Hosts[1]
	h.State, h.Step, h.BootID, h.Issued, h.StartedAt = fleet.HostRunning, 2, "boot-a", true, t0.Add(time.Minute)
	if err := s.SaveHostRun(c, "r1", h); err != nil {
		t.Fatal(err)
	}
	r.Hosts[1] = h
	r.State, r.Reason, r.UpdatedAt = fleet.RolloutPaused, "an operator asked to pause", t0.Add(2*time.Minute)
	if err := s.UpdateRollout(c, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Rollout(c, "r1")
	if err != nil {
		t.Fatal(err)
	}
	r.Plan = nil // not stored: read again from PlanSource; PlanName is
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
	}
	wantKind(t, s.SaveHostRun(c, "r1", fleet.HostRun{Host: "nope"}), fleet.KindNotFound)
	wantKind(t, s.UpdateRollout(c, &fleet.Rollout{ID: "nope"}), fleet.KindNotFound)
	if _, err := s.Rollout(c, "nope"); fleet.KindOf(err) != fleet.KindNotFound {
		t.Fatalf("missing rollout: %v", err)
	}

	done := sampleRollout("r2", t0.Add(time.Hour))
	done.State, done.EndedAt = fleet.RolloutDone, t0.Add(2*time.Hour)
	if err := s.CreateRollout(c, done); err != nil {
		t.Fatal(err)
	}
	unfinished, err := s.UnfinishedRollouts(c)
	if err != nil || len(unfinished) != 1 || unfinished[0].ID != "r1" || len(unfinished[0].Hosts) != 3 {
		t.Fatalf("unfinished: %+v, %v", unfinished, err)
	}
	all, err := s.Rollouts(c, 10)
	if err != nil || len(all) != 2 || all[0].ID != "r2" {
		t.Fatalf("most recent first: %+v, %v", all, err)
	}
}

// testHostRunsConcurrently saves the progress of many hosts of one rollout
// at once, as the host workers of a rollout do.
func testHostRunsConcurrently(t *testing.T, s *store.Store) {
	c := ctx(t)
	r := sampleRollout("r1", time.Now().UTC())
	r.Hosts = nil
	for i := range 40 {
		r.Hosts = append(r.Hosts, fleet.HostRun{Host: "h" + string(rune('A'+i)), State: fleet.HostPending})
	}
	if err := s.CreateRollout(c, r); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(r.Hosts)*5)
	for _, h := range r.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for step := range 5 {
				h.State, h.Step = fleet.HostRunning, step+1
				errs <- s.SaveHostRun(c, r.ID, h)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Rollout(c, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range got.Hosts {
		if h.Step != 5 {
			t.Fatalf("%s at step %d, want 5", h.Host, h.Step)
		}
	}
}
