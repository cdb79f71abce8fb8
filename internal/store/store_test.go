package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
	"github.com/illico-dev/illico/internal/store/pgtest"
	"github.com/illico-dev/illico/internal/store/storetest"
)

func openStore(t testing.TB, dsn string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sqliteDSN(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "illico.db")
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t testing.TB) *store.Store { return openStore(t, sqliteDSN(t)) })
}

func TestPostgres(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	storetest.Run(t, func(t testing.TB) *store.Store { return openStore(t, cluster.NewDatabase(t)) })
}

// TestReopen checks that what one Open wrote, the next one reads, and that
// opening again migrates nothing.
func TestReopen(t *testing.T) {
	dsns := map[string]func(t testing.TB) string{
		"sqlite":   sqliteDSN,
		"postgres": pgtest.Start,
	}
	for name, dsnFor := range dsns {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			first := openStore(t, dsn)
			_, secret, err := first.CreateToken(t.Context(), "admin", fleet.RoleAdmin)
			if err != nil {
				t.Fatal(err)
			}
			page, err := first.StatusPageIdentity(t.Context(), "")
			if err != nil {
				t.Fatal(err)
			}
			first.Close()
			for range 2 {
				s := openStore(t, dsn)
				if _, err := s.Authenticate(t.Context(), secret.Reveal()); err != nil {
					t.Fatalf("after reopening: %v", err)
				}
				if again, err := s.StatusPageIdentity(t.Context(), ""); err != nil || again.ID != page.ID {
					t.Fatalf("after reopening: page ID %q, error %v, want %q", again.ID, err, page.ID)
				}
				if n, err := s.CountTokens(t.Context()); err != nil || n != 1 {
					t.Fatalf("after reopening: %d tokens, error %v", n, err)
				}
				s.Close()
			}
		})
	}
}

// TestConcurrentOpen starts daemons on one new database at once: the
// migrations must run once, not fail on each other.
func TestConcurrentOpen(t *testing.T) {
	dsns := map[string]func(t testing.TB) string{
		"sqlite":   sqliteDSN,
		"postgres": pgtest.Start,
	}
	for name, dsnFor := range dsns {
		t.Run(name, func(t *testing.T) {
			dsn := dsnFor(t)
			const n = 6
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					s, err := store.Open(t.Context(), dsn)
					if err == nil {
						s.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			s := openStore(t, dsn)
			if v, err := s.SchemaVersion(t.Context()); err != nil || v < 1 {
				t.Fatalf("schema version %d, error %v", v, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name, dsn string
		kind      fleet.Kind
	}{
		{"no scheme", "illico.db", fleet.KindInvalid},
		{"mysql", "mysql://root:hunter2@db/illico", fleet.KindInvalid},
		{"memory", "sqlite::memory:", fleet.KindInvalid},
		{"query in path", "sqlite:/tmp/x.db?mode=ro", fleet.KindInvalid},
		{"missing directory", "sqlite:" + filepath.Join(t.TempDir(), "nope", "illico.db"), fleet.KindUnavailable},
		{"postgres down", "postgres://illico:hunter2@127.0.0.1:1/illico?connect_timeout=2", fleet.KindUnavailable},
		{"bad postgres URL", "postgres://illico:hunter2@127.0.0.1:notaport/illico", fleet.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(t.Context(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if got := fleet.KindOf(err); got != tc.kind {
				t.Errorf("error %q has kind %v, want %v", err, got, tc.kind)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	dsns := map[string]func(t testing.TB) string{
		"sqlite":   sqliteDSN,
		"postgres": pgtest.Start,
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, dsns[name](b))
			e := store.Event{Kind: "host.rebooted", Subject: "web-gra-01", Message: "rebooted in 42s", Data: []byte(`{"wave": 3}`)}
			for b.Loop() {
				if _, err := s.AppendEvent(b.Context(), e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A second daemon on the SQLite file of a running one is refused, saying
// why and what to do; once the first has closed it, the next one opens.
func TestOneDaemonPerSQLiteFile(t *testing.T) {
	dsn := sqliteDSN(t)
	first, err := store.Open(t.Context(), dsn, store.OneDaemon())
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(t.Context(), dsn, store.OneDaemon())
	if fleet.KindOf(err) != fleet.KindConflict || !strings.Contains(err.Error(), "in use by another illico serve") || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("a second daemon's open: %v", err)
	}
	// What reads the store without being the daemon is not refused.
	reader, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("an open without OneDaemon: %v", err)
	}
	reader.Close()
	first.Close()
	again, err := store.Open(t.Context(), dsn, store.OneDaemon())
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	again.Close()
}

// The one daemon of a SQLite file leads at once after a restart: the
// lease a killed daemon left cannot be anyone else's.
func TestOneDaemonTakesTheLeaseAtOnce(t *testing.T) {
	dsn := sqliteDSN(t)
	first, err := store.Open(t.Context(), dsn, store.OneDaemon())
	if err != nil {
		t.Fatal(err)
	}
	if l, err := first.Campaign(t.Context(), fleet.Replica{ID: "killed"}, time.Hour); err != nil || l.Holder != "killed" {
		t.Fatalf("first campaign: %+v, %v", l, err)
	}
	first.Close()
	again, err := store.Open(t.Context(), dsn, store.OneDaemon())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	l, err := again.Campaign(t.Context(), fleet.Replica{ID: "restarted"}, time.Hour)
	if err != nil || l.Holder != "restarted" || l.Epoch != 2 {
		t.Fatalf("after a restart: %+v, %v", l, err)
	}
}

// The disruption ledger's grant rate: one lease taken and released per
// op, with 100 leases held, each grant checking them all.
func BenchmarkGrantLease(b *testing.B) {
	dsns := map[string]func(t testing.TB) string{
		"sqlite":   sqliteDSN,
		"postgres": pgtest.Start,
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, dsns[name](b))
			for i := range 100 {
				if _, err := s.GrantLease(b.Context(), fleet.Lease{Host: fmt.Sprintf("held-%03d", i), Kind: fleet.LeaseRollout, Holder: "r1", Since: time.Now()}, func([]fleet.Lease) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			admit := func(held []fleet.Lease) error {
				if len(held) < 100 {
					return fmt.Errorf("saw %d leases", len(held))
				}
				return nil
			}
			for b.Loop() {
				if _, err := s.GrantLease(b.Context(), fleet.Lease{Host: "web-gra-01", Kind: fleet.LeaseRollout, Holder: "r2", Since: time.Now()}, admit); err != nil {
					b.Fatal(err)
				}
				if err := s.ReleaseLease(b.Context(), "web-gra-01", fleet.LeaseRollout, "r2"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
