package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// leaderTests check the leader election and the fence on the leader's
// writes.
var leaderTests = []test{
	{"leader: take, renew, let expire, take over with the next epoch", testLeaderLease},
	{"leader: a fenced write is refused once a newer leader exists", testLeaderFence},
	{"leader: concurrent campaigns elect one", testLeaderConcurrent},
}

func testLeaderLease(t *testing.T, s *store.Store) {
	c := ctx(t)
	a := fleet.Replica{ID: "a", Address: "http://10.0.0.1:8080"}
	b := fleet.Replica{ID: "b", Address: "http://10.0.0.2:8080"}
	if _, _, err := s.Leader(c); fleet.KindOf(err) != fleet.KindNotFound {
		t.Fatalf("a new store's leader: %v", err)
	}
	const ttl = 400 * time.Millisecond
	first := must(s.Campaign(c, a, ttl))(t)
	if first.Holder != "a" || first.Epoch != 1 || first.Address != a.Address || first.Expires.Sub(first.Renewed) != ttl {
		t.Fatalf("first campaign: %+v", first)
	}
	if got := must(s.Campaign(c, b, ttl))(t); got.Holder != "a" || got.Epoch != 1 {
		t.Fatalf("b took a held lease: %+v", got)
	}
	renewed := must(s.Campaign(c, a, ttl))(t)
	if renewed.Holder != "a" || renewed.Epoch != 1 || !renewed.Expires.After(first.Expires) {
		t.Fatalf("renewal: %+v after %+v", renewed, first)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	took := must(s.Campaign(c, b, ttl))(t)
	if took.Holder != "b" || took.Epoch != 2 || took.Address != b.Address {
		t.Fatalf("b after a's lease expired: %+v", took)
	}
	// a, back, does not lead: b holds the lease.
	if got := must(s.Campaign(c, a, ttl))(t); got.Holder != "b" || got.Epoch != 2 {
		t.Fatalf("a took b's lease back: %+v", got)
	}
	// b resigns: a takes over at once, with the next epoch.
	if err := s.Resign(c, "b", 2); err != nil {
		t.Fatal(err)
	}
	if got := must(s.Campaign(c, a, time.Minute))(t); got.Holder != "a" || got.Epoch != 3 {
		t.Fatalf("after b resigned: %+v", got)
	}
	// A resignation of an old epoch changes nothing.
	if err := s.Resign(c, "a", 1); err != nil {
		t.Fatal(err)
	}
	l, now := must2(s.Leader(c))(t)
	if !l.Held("a", now) || l.Epoch != 3 {
		t.Fatalf("after a stale resignation: %+v at %v", l, now)
	}
	reps := must(s.Replicas(c))(t)
	if len(reps) != 2 {
		t.Fatalf("replicas: %+v", reps)
	}
}

func testLeaderFence(t *testing.T, s *store.Store) {
	c := ctx(t)
	const ttl = 300 * time.Millisecond
	old := must(s.Campaign(c, fleet.Replica{ID: "a"}, ttl))(t)
	leader := s.Fenced(func() int64 { return old.Epoch })
	r := sampleRollout("r1", time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	if err := leader.CreateRollout(c, r); err != nil {
		t.Fatalf("the leader's write: %v", err)
	}
	if _, err := leader.GrantLease(c, fleet.Lease{Host: r.Hosts[0].Host, Kind: fleet.LeaseRollout, Holder: "r1", Since: time.Now()}, func([]fleet.Lease) error { return nil }); err != nil {
		t.Fatalf("the leader's grant: %v", err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	next := must(s.Campaign(c, fleet.Replica{ID: "b"}, time.Minute))(t)
	if next.Epoch != old.Epoch+1 {
		t.Fatalf("takeover: %+v", next)
	}
	// Every write of the rollout engine, from the old leader: refused,
	// and nothing written.
	h := r.Hosts[0]
	h.State = fleet.HostRunning
	wantKind(t, leader.SaveHostRun(c, "r1", h), fleet.KindConflict)
	r.State = fleet.RolloutPaused
	wantKind(t, leader.UpdateRollout(c, r), fleet.KindConflict)
	wantKind(t, leader.CreateRollout(c, sampleRollout("r2", time.Now())), fleet.KindConflict)
	wantKind(t, leader.ReleaseLease(c, r.Hosts[0].Host, fleet.LeaseRollout, "r1"), fleet.KindConflict)
	_, err := leader.GrantLease(c, fleet.Lease{Host: r.Hosts[1].Host, Kind: fleet.LeaseRollout, Holder: "r1", Since: time.Now()}, func([]fleet.Lease) error { return nil })
	wantKind(t, err, fleet.KindConflict)
	got := must(s.Rollout(c, "r1"))(t)
	if got.State != fleet.RolloutRunning || got.Hosts[0].State != fleet.HostPending {
		t.Fatalf("the old leader's refused writes changed the rollout: %s, %s", got.State, got.Hosts[0].State)
	}
	if _, err := s.Rollout(c, "r2"); fleet.KindOf(err) != fleet.KindNotFound {
		t.Fatalf("the old leader's refused rollout exists: %v", err)
	}
	if held := must(s.Leases(c))(t); len(held) != 1 {
		t.Fatalf("leases after the old leader's refused writes: %+v", held)
	}
	// The new leader writes.
	if err := s.Fenced(func() int64 { return next.Epoch }).SaveHostRun(c, "r1", h); err != nil {
		t.Fatalf("the new leader's write: %v", err)
	}
}

func testLeaderConcurrent(t *testing.T, s *store.Store) {
	c := ctx(t)
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("r%d", i)
			l, err := s.Campaign(c, fleet.Replica{ID: id}, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if l.Holder == id {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	l, _ := must2(s.Leader(c))(t)
	if won.Load() != 1 || l.Epoch != 1 {
		t.Fatalf("%d replicas won; lease %+v", won.Load(), l)
	}
}
