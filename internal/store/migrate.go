package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"

	"github.com/illico-dev/illico/internal/fleet"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one schema change, numbered from 1 without gaps.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{3,})_([a-z0-9_]+)\.sql$`)

// parseMigrationName reads "001_init.sql" as version 1, name "init".
func parseMigrationName(file string) (int, string, error) {
	m := migrationName.FindStringSubmatch(file)
	if m == nil {
		return 0, "", fmt.Errorf("migration file %q is not named NNN_name.sql", file)
	}
	v, err := strconv.Atoi(m[1])
	if err != nil || v < 1 {
		return 0, "", fmt.Errorf("migration file %q: version must be a number from 001", file)
	}
	return v, m[2], nil
}

// migrations returns the dialect's migrations in order, checking that they
// are numbered 1, 2, 3… so that a missing or doubled file fails every test.
func migrations(fsys fs.FS, dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var list []migration
	for _, e := range entries {
		v, name, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		if v != len(list)+1 {
			return nil, fmt.Errorf("migration %s: expected version %03d next", e.Name(), len(list)+1)
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		list = append(list, migration{version: v, name: name, sql: string(data)})
	}
	return list, nil
}

// migrationLock is the PostgreSQL advisory lock key that serializes daemons
// migrating the same database: "illico" in ASCII.
const migrationLock = 0x696c6c69636f

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    applied %s NOT NULL
)`

// Migrate applies the migrations the database has not seen, each in its own
// transaction with its row in schema_migrations; Open calls it, and calling it
// again changes nothing. It refuses a database whose schema is newer than
// this binary, which would misread it.
func (s *Store) Migrate(ctx context.Context) error {
	list, err := migrations(migrationFiles, s.dialect.name)
	if err != nil {
		return err
	}
	// One connection for the whole run: a PostgreSQL advisory lock belongs to
	// the session that took it.
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return &fleet.Error{Kind: fleet.KindUnavailable, Msg: "migrate database", Err: err}
	}
	defer conn.Close()
	timeType := "TEXT"
	if s.dialect.name == "postgres" {
		timeType = "TIMESTAMPTZ"
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
		// The unlock must run even when ctx ended; if it fails, closing the
		// session releases the lock anyway.
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(createMigrationsTable, timeType)); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range list {
		if err := s.apply(ctx, conn, m, len(list)); err != nil {
			return err
		}
	}
	return nil
}

// apply runs m unless the database has it already. The version is read
// inside m's transaction, which on SQLite holds the write lock: another
// process migrating the same file waits, then finds nothing left to do.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration, known int) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %03d_%s: %w", m.version, m.name, err)
	}
	defer tx.Rollback() // a no-op after Commit
	var current int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return fleet.Errorf(fleet.KindConflict,
			"the database schema is at version %d, newer than this illico knows (%d): run a newer illico, or restore a backup taken before the upgrade",
			current, known)
	}
	if current >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %03d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)",
		m.version, m.name, s.dialect.time(s.now())); err != nil {
		return fmt.Errorf("record migration %03d_%s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %03d_%s: commit: %w", m.version, m.name, err)
	}
	return nil
}

// SchemaVersion is the highest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
