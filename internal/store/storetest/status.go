package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// statusTests check the status page's document in the store.
var statusTests = []test{
	{"status: a new store has an empty status of version 0", testStatusEmpty},
	{"status: every field round-trips", testStatusRoundTrip},
	{"status: a change that fails or changes nothing writes nothing", testStatusNoWrite},
	{"status: concurrent writers lose no change", testStatusConcurrent},
	{"status: the page's ID is drawn once and kept", testPageIDDrawn},
	{"status: a page served before keeps its derived ID", testPageIDAdopted},
	{"status: of concurrent first starts, one page ID wins for all", testPageIDConcurrent},
}

func testStatusEmpty(t *testing.T, s *store.Store) {
	c := ctx(t)
	st := must(s.Status(c))(t)
	if !reflect.DeepEqual(st, fleet.Status{}) {
		t.Errorf("a new store's status: %+v", st)
	}
	if v := must(s.StatusVersion(c))(t); v != 0 {
		t.Errorf("a new store's status version: %d", v)
	}
}

// fullStatus sets every field of a status, in UTC, as the store gives
// times back.
func fullStatus() fleet.Status {
	t0 := time.Date(2026, 3, 14, 10, 0, 0, 123456789, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	update := func(id string, m int) fleet.StatusUpdate {
		return fleet.StatusUpdate{
			ID: id, Status: "identified", Body: fleet.Text{"en": "Looking.", "fr": "On regarde."},
			DisplayAt: at(m), CreatedAt: at(m), UpdatedAt: at(m + 1),
			Affected: []fleet.AffectedComponent{{Component: "web", Old: fleet.Operational, New: fleet.PartialOutage}},
		}
	}
	return fleet.Status{
		Groups: []fleet.ComponentGroup{{ID: "hosting", Name: "Hosting", Description: "Shared hosting", Position: 1, CreatedAt: at(0), UpdatedAt: at(1)}},
		Components: []fleet.Component{{
			ID: "web", Name: "Web", Description: "Web servers", Group: "hosting", Position: 2, Hosts: []string{"web-01", "web-02"},
			Override: fleet.MajorOutage, OnlyShowIfDegraded: true, Showcase: true, CreatedAt: at(0), UpdatedAt: at(2),
		}},
		Hosts: map[string]fleet.HostHealth{"web-01": fleet.HostInMaintenance, "web-02": fleet.HostDown},
		Incidents: []fleet.Incident{{
			ID: "i1", Name: fleet.Text{"en": "Outage", "de": "Ausfall"}, Status: fleet.Resolved, Impact: fleet.ImpactMajor,
			Components: []string{"web"}, StartedAt: at(3), CreatedAt: at(3), UpdatedAt: at(9), MonitoringAt: at(7), ResolvedAt: at(9),
			Updates: []fleet.StatusUpdate{update("u1", 3), update("u2", 9)}, Rollout: "r1",
		}},
		Maintenance: []fleet.Maintenance{{
			ID: "m1", Name: fleet.Text{"en": "Upgrade"}, Status: fleet.MaintenanceInProgress, Components: []string{"web"},
			ScheduledFor: at(10), ScheduledUntil: at(70), StartedAt: at(11), CompletedAt: at(80), CreatedAt: at(5), UpdatedAt: at(11),
			Updates: []fleet.StatusUpdate{update("u3", 11)}, Rollout: "r2",
		}},
	}
}

func testStatusRoundTrip(t *testing.T, s *store.Store) {
	c := ctx(t)
	want := fullStatus()
	got := must(s.UpdateStatus(c, func(_ *store.Tx, st *fleet.Status) error {
		*st = fullStatus()
		return nil
	}))(t)
	if got.Version != 1 || got.UpdatedAt.IsZero() {
		t.Fatalf("after the first change: version %d, updated %s", got.Version, got.UpdatedAt)
	}
	want.Version, want.UpdatedAt = got.Version, got.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateStatus returned\n%+v\nwant\n%+v", got, want)
	}
	read := must(s.Status(c))(t)
	if !reflect.DeepEqual(read, want) {
		t.Errorf("Status read back\n%+v\nwant\n%+v", read, want)
	}
	if v := must(s.StatusVersion(c))(t); v != 1 {
		t.Errorf("StatusVersion = %d, want 1", v)
	}
}

func testStatusNoWrite(t *testing.T, s *store.Store) {
	c := ctx(t)
	first := must(s.UpdateStatus(c, func(_ *store.Tx, st *fleet.Status) error {
		*st = fullStatus()
		return nil
	}))(t)
	refused := errors.New("refused")
	_, err := s.UpdateStatus(c, func(tx *store.Tx, st *fleet.Status) error {
		st.Incidents = nil
		// What the change wrote beside the status goes with it.
		if _, err := tx.AppendEvent(c, store.Event{Kind: "test.status", Subject: "x"}); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("a refused change returned %v, want its own error", err)
	}
	if evs := must(s.Events(c, store.EventFilter{Kind: "test.status"}))(t); len(evs) != 0 {
		t.Errorf("a refused change kept what it wrote beside the status: %+v", evs)
	}
	same := must(s.UpdateStatus(c, func(*store.Tx, *fleet.Status) error { return nil }))(t)
	if same.Version != first.Version || !same.UpdatedAt.Equal(first.UpdatedAt) {
		t.Errorf("a change that changes nothing: version %d updated %s, want %d %s", same.Version, same.UpdatedAt, first.Version, first.UpdatedAt)
	}
	if read := must(s.Status(c))(t); !reflect.DeepEqual(read, first) {
		t.Errorf("after a refused and an empty change the status is\n%+v\nwant\n%+v", read, first)
	}
}

// Writers on their own connections, as two daemons on one database are,
// each add incidents: none is lost, and each change took one version.
func testStatusConcurrent(t *testing.T, s *store.Store) {
	const writers, each = 8, 10
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := s.UpdateStatus(c, func(_ *store.Tx, st *fleet.Status) error {
					st.Incidents = append(st.Incidents, fleet.Incident{ID: fmt.Sprintf("w%d-%d", w, i)})
					return nil
				})
				if err != nil {
					errs <- err
				}
				// Readers and pollers run beside the writers.
				if _, err := s.StatusVersion(c); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := must(s.Status(c))(t)
	if st.Version != writers*each || len(st.Incidents) != writers*each {
		t.Fatalf("after %d changes: version %d with %d incidents", writers*each, st.Version, len(st.Incidents))
	}
	seen := map[string]bool{}
	for _, in := range st.Incidents {
		if seen[in.ID] {
			t.Errorf("incident %s twice", in.ID)
		}
		seen[in.ID] = true
	}
}

var pageIDShape = regexp.MustCompile(`^[a-z0-9]{12}$`)

func sameIdentity(a, b store.PageIdentity) bool { return a.ID == b.ID && a.Adopted.Equal(b.Adopted) }

func testPageIDDrawn(t *testing.T, s *store.Store) {
	c := ctx(t)
	first := must(s.StatusPageIdentity(c, "derivedid123"))(t)
	if !pageIDShape.MatchString(first.ID) || first.ID == "derivedid123" || !first.Adopted.IsZero() {
		t.Fatalf("a new page's identity %+v: want 12 random lower-case letters and digits, not the derived ID, never adopted", first)
	}
	// The status written since, and another derived ID (a page renamed or
	// moved), change nothing.
	must(s.UpdateStatus(c, func(_ *store.Tx, st *fleet.Status) error {
		*st = fullStatus()
		return nil
	}))(t)
	for _, derived := range []string{"derivedid123", "otherderived", ""} {
		if again := must(s.StatusPageIdentity(c, derived))(t); !sameIdentity(again, first) {
			t.Errorf("identity asked again with %q: %+v, want %+v", derived, again, first)
		}
	}
	if st := must(s.Status(c))(t); st.Version != 1 {
		t.Errorf("storing the page's ID moved the status's version to %d", st.Version)
	}
}

// A database whose status older daemons wrote keeps the ID they derived,
// and says since when.
func testPageIDAdopted(t *testing.T, s *store.Store) {
	c := ctx(t)
	must(s.UpdateStatus(c, func(_ *store.Tx, st *fleet.Status) error {
		*st = fullStatus()
		return nil
	}))(t)
	before := time.Now().UTC().Truncate(store.Precision)
	got := must(s.StatusPageIdentity(c, "derivedid123"))(t)
	after := time.Now().UTC()
	if got.ID != "derivedid123" || got.Adopted.Before(before) || got.Adopted.After(after) || got.Adopted.Location() != time.UTC {
		t.Fatalf("identity of a page served before: %+v, want the derived ID adopted between %s and %s, in UTC", got, before, after)
	}
	if again := must(s.StatusPageIdentity(c, "otherderived"))(t); !sameIdentity(again, got) {
		t.Errorf("asked again: %+v, want %+v", again, got)
	}
}

func testPageIDConcurrent(t *testing.T, s *store.Store) {
	c := ctx(t)
	const n = 8
	var wg sync.WaitGroup
	got := make([]store.PageIdentity, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = s.StatusPageIdentity(c, "") })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !sameIdentity(got[i], got[0]) || !pageIDShape.MatchString(got[i].ID) {
			t.Errorf("first start %d got %+v, first start 0 got %+v", i, got[i], got[0])
		}
	}
}
