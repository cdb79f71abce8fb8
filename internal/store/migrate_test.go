package store

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store/pgtest"
)

func TestMigrationsEmbedded(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		list, err := migrations(migrationFiles, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Fatalf("no migrations for %s", d)
		}
	}
	s, err := migrations(migrationFiles, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := migrations(migrationFiles, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != len(p) {
		t.Fatalf("sqlite has %d migrations, postgres %d: every change needs both", len(s), len(p))
	}
	for i := range s {
		if s[i].name != p[i].name {
			t.Errorf("migration %d is %q for sqlite, %q for postgres", i+1, s[i].name, p[i].name)
		}
	}
}

func TestMigrationsOrder(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for _, tc := range []struct {
		name  string
		files []string
		ok    bool
	}{
		{"in order", []string{"001_init.sql", "002_rollouts.sql"}, true},
		{"gap", []string{"001_init.sql", "003_rollouts.sql"}, false},
		{"twice", []string{"001_init.sql", "0001_again.sql"}, false},
		{"bad name", []string{"001_init.sql", "002-rollouts.sql"}, false},
		{"zero", []string{"000_init.sql"}, false},
		{"not sql", []string{"001_init.txt"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["migrations/x/"+f] = file
			}
			_, err := migrations(fsys, "x")
			if (err == nil) != tc.ok {
				t.Errorf("got error %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func FuzzParseMigrationName(f *testing.F) {
	for _, s := range []string{"001_init.sql", "0001_x.sql", "999999999999999999999_x.sql", "_.sql", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v, n, err := parseMigrationName(name)
		if err == nil && (v < 1 || n == "") {
			t.Errorf("%q parsed as version %d name %q", name, v, n)
		}
	})
}

// TestNewerSchema checks that a binary refuses a database migrated by a newer
// one instead of misreading it.
func TestNewerSchema(t *testing.T) {
	dsns := map[string]func(t testing.TB) string{
		"sqlite":   func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "illico.db") },
		"postgres": pgtest.Start,
	}
	for name, dsnFor := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			dsn := dsnFor(t)
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.write.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied) VALUES (999, 'future', $1)", s.dialect.time(time.Now())); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s, err = Open(ctx, dsn)
			if err == nil {
				s.Close()
				t.Fatal("opened a database with a newer schema")
			}
			if fleet.KindOf(err) != fleet.KindConflict {
				t.Errorf("error %q has kind %v, want conflict", err, fleet.KindOf(err))
			}
			t.Log(err)
		})
	}
}
