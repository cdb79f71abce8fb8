package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// leaseTests check the disruption ledger.
var leaseTests = []test{
	{"leases: grant, refuse, regrant, release", testLeases},
	{"leases: concurrent grants never take both halves of a pair", testLeasesConcurrent},
}

// partnerFree admits a lease while its pair's other half holds
// none: the budget of a pair, as the rollout engine computes it.
func partnerFree(partner string) func(held []fleet.Lease) error {
	return func(held []fleet.Lease) error {
		for _, l := range held {
			if l.Host == partner {
				return fleet.Errorf(fleet.KindConflict, "partner %s is %s", partner, l)
			}
		}
		return nil
	}
}

func testLeases(t *testing.T, s *store.Store) {
	c := ctx(t)
	since := time.Date(2026, 12, 3, 10, 5, 12, 345678912, time.FixedZone("CET", 3600))
	web1 := fleet.Lease{Host: "web-01", Kind: fleet.LeaseRollout, Holder: "r1", Reason: "urgent-patch", Since: since}
	got := must(s.GrantLease(c, web1, partnerFree("web-02")))(t)
	want := web1
	want.Since = since.UTC().Truncate(store.Precision)
	if got != want {
		t.Fatalf("granted %+v, want %+v", got, want)
	}
	// The same holder again: its first lease, not a second one.
	again := web1
	again.Since = since.Add(time.Hour)
	if got := must(s.GrantLease(c, again, partnerFree("web-02")))(t); got != want {
		t.Errorf("a second grant to the holder returned %+v, want the first %+v", got, want)
	}
	// Another holder on the same host: refused, saying who holds it.
	_, err := s.GrantLease(c, fleet.Lease{Host: "web-01", Kind: fleet.LeaseDrain, Holder: "alice", Since: since}, func([]fleet.Lease) error { return nil })
	wantKind(t, err, fleet.KindConflict)
	if msg := err.Error(); msg != "web-01 is in rollout r1 since 09:05:12 (urgent-patch)" {
		t.Errorf("refusal says %q", msg)
	}
	// The partner: refused by the budget, and nothing recorded.
	_, err = s.GrantLease(c, fleet.Lease{Host: "web-02", Kind: fleet.LeaseRollout, Holder: "r2", Since: since}, partnerFree("web-01"))
	wantKind(t, err, fleet.KindConflict)
	if list := must(s.Leases(c))(t); len(list) != 1 || list[0] != want {
		t.Fatalf("leases after a refusal: %+v, want only %+v", list, want)
	}
	// Only the holder releases; releasing again is no error.
	if err := s.ReleaseLease(c, "web-01", fleet.LeaseRollout, "r2"); err != nil {
		t.Fatal(err)
	}
	if list := must(s.Leases(c))(t); len(list) != 1 {
		t.Fatalf("another holder released r1's lease: %+v", list)
	}
	for range 2 {
		if err := s.ReleaseLease(c, "web-01", fleet.LeaseRollout, "r1"); err != nil {
			t.Fatal(err)
		}
	}
	drain := fleet.Lease{Host: "web-02", Kind: fleet.LeaseDrain, Holder: "alice", Reason: "disk", Since: since}
	must(s.GrantLease(c, drain, partnerFree("web-01")))(t)
	if list := must(s.Leases(c))(t); len(list) != 1 || list[0].Host != "web-02" || list[0].String() != "drained by alice since 09:05:12 (disk)" {
		t.Fatalf("leases: %+v", list)
	}
}

func testLeasesConcurrent(t *testing.T, s *store.Store) {
	c := ctx(t)
	const pairs = 20
	var wg sync.WaitGroup
	errs := make([]error, 2*pairs)
	for p := range pairs {
		for half := range 2 {
			host, partner := fmt.Sprintf("web-%02d-%d", p, half), fmt.Sprintf("web-%02d-%d", p, 1-half)
			wg.Go(func() {
				_, errs[2*p+half] = s.GrantLease(c, fleet.Lease{Host: host, Kind: fleet.LeaseRollout, Holder: fmt.Sprintf("r%d", half), Since: time.Now()}, partnerFree(partner))
			})
		}
	}
	wg.Wait()
	held := map[string]bool{}
	for _, l := range must(s.Leases(c))(t) {
		held[l.Host] = true
	}
	for p := range pairs {
		a, b := fmt.Sprintf("web-%02d-0", p), fmt.Sprintf("web-%02d-1", p)
		if held[a] == held[b] {
			t.Errorf("pair %d: %s leased %v, %s leased %v (errors %v, %v): want exactly one", p, a, held[a], b, held[b], errs[2*p], errs[2*p+1])
		}
		for half, err := range errs[2*p : 2*p+2] {
			if err != nil && fleet.KindOf(err) != fleet.KindConflict {
				t.Errorf("pair %d half %d: %v, want a refusal", p, half, err)
			}
		}
	}
}
