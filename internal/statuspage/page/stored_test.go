package page_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStored(t testing.TB, s *store.Store) *page.Stored[*store.Tx] {
	t.Helper()
	st, err := page.NewStored(t.Context(), s, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Two daemons on one database: each sees its own change at once, and the
// other's once it refreshes.
func TestStored(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{
		"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") },
		"postgres": pgtest.Start,
	} {
		t.Run(name, func(t *testing.T) {
			dsn := dsn(t)
			a, b := newStored(t, openStore(t, dsn)), newStored(t, openStore(t, dsn))
			ctx := t.Context()
			open := func(id string) func(*fleet.Status) error {
				return func(st *fleet.Status) error {
					st.Incidents = append(st.Incidents, fleet.Incident{ID: id, Status: fleet.Investigating})
					return nil
				}
			}
			if err := a.Update(ctx, open("i1")); err != nil {
				t.Fatal(err)
			}
			if a.Version() != 1 || b.Version() != 0 {
				t.Fatalf("after a's change: versions %d and %d, want 1 and 0 (b has not looked)", a.Version(), b.Version())
			}
			if err := b.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := b.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if b.Version() != 1 || got.Version != 1 || len(got.Incidents) != 1 {
				t.Fatalf("b after a refresh: version %d, status %+v", b.Version(), got)
			}
			// b changes on top of a's change, without losing it.
			if err := b.Update(ctx, open("i2")); err != nil {
				t.Fatal(err)
			}
			refused := errors.New("refused")
			if err := a.Update(ctx, func(st *fleet.Status) error { st.Incidents = nil; return refused }); !errors.Is(err, refused) {
				t.Fatalf("a refused change: %v", err)
			}
			if err := a.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			got, err = a.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if a.Version() != 2 || len(got.Incidents) != 2 || got.Incidents[0].ID != "i1" || got.Incidents[1].ID != "i2" {
				t.Errorf("a after both changes: version %d, incidents %+v", a.Version(), got.Incidents)
			}
			// A copy handed out is the reader's own.
			got.Incidents[0].ID = "changed"
			if again, _ := a.Status(ctx); again.Incidents[0].ID != "i1" {
				t.Error("a change to a returned status reached the source")
			}
		})
	}
}

// The page is served from a Stored source, and shows a change another
// daemon made once the source refreshed.
func TestStoredServes(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "illico.db")
	other, src := openStore(t, dsn), newStored(t, openStore(t, dsn))
	h, err := page.Handler(page.Options{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.UpdateStatus(t.Context(), func(_ *store.Tx, st *fleet.Status) error {
		st.Components = []fleet.Component{{ID: "web", Name: "Web", Position: 1, Override: fleet.MajorOutage}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := src.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/v2/status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"indicator":"critical"`) {
		t.Errorf("status.json after another daemon's change: %s", body)
	}
}

// A component's updated_at is when its shown status last changed, and a
// restart keeps it: it is stored with the status.
func TestStoredComponentUpdatedAt(t *testing.T) {
	for name, dsn := range map[string]func(testing.TB) string{
		"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") },
		"postgres": pgtest.Start,
	} {
		t.Run(name, func(t *testing.T) {
			dsn := dsn(t)
			t0 := time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)
			now := t0
			clock := func() time.Time { return now }
			first, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			src, err := page.NewStored(t.Context(), first, clock)
			if err != nil {
				t.Fatal(err)
			}
			change := func(at time.Time, f func(*fleet.Status)) {
				t.Helper()
				now = at
				if err := src.Update(t.Context(), func(st *fleet.Status) error { f(st); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			change(t0, func(st *fleet.Status) {
				st.Components = []fleet.Component{{ID: "web", Name: "Web", Hosts: []string{"w1"}, CreatedAt: t0, UpdatedAt: t0}}
				st.Hosts = map[string]fleet.HostHealth{"w1": fleet.HostUp}
			})
			down := t0.Add(time.Hour)
			change(down, func(st *fleet.Status) { st.Hosts["w1"] = fleet.HostDown })
			change(down.Add(time.Minute), func(st *fleet.Status) { st.Incidents = append(st.Incidents, fleet.Incident{ID: "i1"}) })
			first.Close()

			// The restarted daemon reads the time back.
			now = down.Add(time.Hour)
			src = newStored(t, openStore(t, dsn))
			st, err := src.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Components) != 1 || !st.Components[0].UpdatedAt.Equal(down) {
				t.Fatalf("after a restart, components %+v: want web updated when w1 went down, %s", st.Components, down)
			}
			h, err := page.Handler(page.Options{Source: src, Now: clock})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/components.json", nil))
			if want := `"updated_at":"2026-03-14T09:00:00.000Z"`; !strings.Contains(rec.Body.String(), want) {
				t.Errorf("components.json after a restart lacks %s:\n%s", want, rec.Body)
			}
		})
	}
}

// stubStore is a StatusStore in memory, whose reads fail while down is set:
// a database gone.
type stubStore struct {
	mu   sync.Mutex
	st   fleet.Status
	down bool
}

var errDown = errors.New("connection refused")

func (s *stubStore) StatusVersion(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return 0, errDown
	}
	return s.st.Version, nil
}

func (s *stubStore) Status(context.Context) (fleet.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return fleet.Status{}, errDown
	}
	return s.st.Clone(), nil
}

func (s *stubStore) UpdateStatus(_ context.Context, change func(page.Outbox, *fleet.Status) error) (fleet.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return fleet.Status{}, errDown
	}
	next := s.st.Clone()
	if err := change(nil, &next); err != nil {
		return fleet.Status{}, err
	}
	next.Version++
	s.st = next
	return next.Clone(), nil
}

func (s *stubStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Reads of the store and changes may run at once on one Stored: the race
// detector holds that the copy in memory is never read while replaced.
func TestStoredConcurrent(t *testing.T) {
	db := &stubStore{}
	a, err := page.NewStored[page.Outbox](t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := page.NewStored[page.Outbox](t.Context(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := func(st *fleet.Status) error {
		st.Incidents = append(st.Incidents, fleet.Incident{ID: "i", Status: fleet.Investigating})
		return nil
	}
	var wg sync.WaitGroup
	for _, s := range []*page.Stored[page.Outbox]{a, b} {
		wg.Go(func() {
			for range 50 {
				if err := s.Update(t.Context(), open); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			if err := b.Refresh(t.Context()); err != nil {
				t.Error(err)
				return
			}
			if _, err := b.Status(t.Context()); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if err := b.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, err := b.Status(t.Context()); err != nil || st.Version != 100 || len(st.Incidents) != 100 {
		t.Errorf("after 100 changes: version %d, %d incidents, err %v", st.Version, len(st.Incidents), err)
	}
}

// Checked moves with every read of the store that finds the copy in memory
// the newest, and stays while the store cannot be read.
func TestStoredChecked(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	db := &stubStore{}
	src, err := page.NewStored[page.Outbox](t.Context(), db, clock)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	want := func(step string, at time.Time) {
		t.Helper()
		if got := src.Checked(); !got.Equal(at) {
			t.Errorf("%s: checked %s, want %s", step, got, at)
		}
	}
	want("opened", t0)

	now = t0.Add(2 * time.Second)
	if err := src.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want("refreshed", now)

	db.setDown(true)
	lastGood := now
	for range 3 {
		now = now.Add(2 * time.Second)
		if err := src.Refresh(ctx); !errors.Is(err, errDown) {
			t.Fatalf("refresh with the store down: %v", err)
		}
	}
	if err := src.Update(ctx, func(*fleet.Status) error { return nil }); !errors.Is(err, errDown) {
		t.Fatalf("update with the store down: %v", err)
	}
	want("store down", lastGood)
	if st, err := src.Status(ctx); err != nil || st.Version != 0 {
		t.Fatalf("status from memory with the store down: version %d, %v", st.Version, err)
	}
	want("status from memory", lastGood)

	db.setDown(false)
	now = now.Add(2 * time.Second)
	if err := src.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want("store back", now)

	now = now.Add(time.Second)
	if err := src.Update(ctx, func(*fleet.Status) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want("own change", now)

	// Another daemon's change: the copy in memory is behind until read.
	if _, err := db.UpdateStatus(ctx, func(_ page.Outbox, st *fleet.Status) error { return nil }); err != nil {
		t.Fatal(err)
	}
	behind := now
	now = now.Add(2 * time.Second)
	if err := src.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want("newer version seen", behind)
	now = now.Add(time.Second)
	if st, err := src.Status(ctx); err != nil || st.Version != 2 {
		t.Fatalf("status after another daemon's change: version %d, %v", st.Version, err)
	}
	want("newer version read", now)
}

// A daemon whose store goes away keeps serving the page it last read, says
// it is stale a minute after its last good look, and stops saying so at the
// first look that works.
func TestStoredStale(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	db := &stubStore{st: fleet.Status{Version: 1, UpdatedAt: t0,
		Components: []fleet.Component{{ID: "web", Name: "Web", Position: 1, Override: fleet.PartialOutage}}}}
	src, err := page.NewStored[page.Outbox](t.Context(), db, clock)
	if err != nil {
		t.Fatal(err)
	}
	h, err := page.Handler(page.Options{Source: src, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s at %s: %d %s", path, now.Sub(t0), rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	const banner = `<p class="stale">Since March 14, 2026, 08:00 UTC, this page`
	summary := get("/api/v2/summary.json")
	if strings.Contains(get("/"), banner) {
		t.Fatal("a banner on a page just read")
	}
	db.setDown(true)
	// Follow's ticks, with the store down.
	for now.Sub(t0) < 2*time.Minute {
		now = now.Add(2 * time.Second)
		if err := src.Refresh(t.Context()); err == nil {
			t.Fatal("refresh with the store down worked")
		}
		if got := get("/api/v2/summary.json"); got != summary {
			t.Fatalf("summary.json at %s with the store down:\n%s\nwas\n%s", now.Sub(t0), got, summary)
		}
		if stale := now.Sub(t0) > time.Minute; stale != strings.Contains(get("/"), banner) {
			t.Fatalf("at %s with the store down: banner %t, want %t", now.Sub(t0), !stale, stale)
		}
	}
	db.setDown(false)
	now = now.Add(2 * time.Second)
	if err := src.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if page := get("/"); strings.Contains(page, `class="stale"`) || !strings.Contains(page, "Partial System Outage") {
		t.Errorf("with the store back: %s", page)
	}
}
