// Package store keeps illico's durable state (the rollouts and their host
// runs, the event log, accounts and API tokens, silences, the alerts' and
// the status page's state, the subscribers' queue) in one SQL database
// behind database/sql: SQLite by default, so that a single binary needs
// nothing else, or PostgreSQL for a larger setup. Both dialects run the same
// queries and the same conformance suite (package storetest); only the
// schema migrations and the encoding of times differ.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/illico-dev/illico/internal/fleet"
)

// Store is an open database. Its methods are safe for concurrent use.
type Store struct {
	dialect dialect
	// write takes every write. On SQLite it holds one connection, so that
	// writers of this process queue here instead of failing with SQLITE_BUSY;
	// on PostgreSQL write and read are the same pool.
	write *sql.DB
	read  *sql.DB
	now   func() time.Time
	// oneDaemon asks for the SQLite file's lock, held in lock while open.
	oneDaemon bool
	lock      *os.File
	// elect is the leader election's own pool on PostgreSQL: a leader
	// busy writing must still renew its lease in time.
	elect *sql.DB
	// fence, in a view made by Fenced, is the epoch of the leadership its
	// writes must still hold.
	fence func() int64
}

// Option changes how Open sets up a Store.
type Option func(*Store)

// WithClock sets the clock that stamps created and revoked tokens and events
// appended without a time. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// OneDaemon makes Open refuse a SQLite file that another process opened
// with OneDaemon, and hold it until Close: the daemon's store, which two
// daemons must never share (each would resume the same rollouts). The
// commands that read or mend a store offline do not take it.
func OneDaemon() Option {
	return func(s *Store) { s.oneDaemon = true }
}

// Open opens the database named by dsn and brings its schema up to date. dsn
// is "sqlite:PATH" (the file is created if missing; its directory must exist)
// or a PostgreSQL URL starting with postgres:// or postgresql://.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		err = s.openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		err = s.openPostgres(ctx, dsn)
	default:
		return nil, fleet.Errorf(fleet.KindInvalid, "database %q: expected sqlite:PATH or a postgres:// URL", redact(dsn))
	}
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePragmas apply to every connection: WAL lets readers run beside the
// writer, busy_timeout makes another process's lock a wait instead of an
// error, and foreign keys are off in SQLite unless asked for.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

func (s *Store) openSQLite(ctx context.Context, path string) error {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return fleet.Errorf(fleet.KindInvalid, "database sqlite:%s: expected the path of a file (without ? or #)", path)
	}
	s.dialect = sqliteDialect
	// A transaction on the writer starts with BEGIN IMMEDIATE: it takes the
	// write lock up front, so two processes never deadlock upgrading a read.
	w, err := sql.Open("sqlite", "file:"+path+"?"+sqlitePragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Ping before opening the readers: it sets WAL mode, which they rely on.
	if err := pingSQLite(ctx, w); err != nil {
		w.Close()
		return fleet.Errorf(fleet.KindUnavailable, "open database %s: %v", path, err)
	}
	if s.oneDaemon {
		if s.lock, err = lockFile(path); err != nil {
			w.Close()
			return err
		}
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		s.unlock()
		return fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.write, s.read = w, r
	return nil
}

// pingSQLite opens the first connection. Switching a new file to WAL needs
// it alone, and SQLite answers SQLITE_BUSY at once, without waiting, when
// another process opens it at the same moment: so that is retried, a bounded
// number of times.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	var err error
	for attempt := range 50 {
		if err = db.PingContext(ctx); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return err
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (or one of its
// extended codes).
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	s.dialect = postgresDialect
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return fleet.Errorf(fleet.KindInvalid, "database %s: not a valid PostgreSQL URL", redact(dsn))
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return &fleet.Error{Kind: fleet.KindUnavailable, Msg: "cannot reach PostgreSQL at " + redact(dsn), Err: err}
	}
	s.write, s.read = db, db
	s.elect = stdlib.OpenDB(*cfg)
	s.elect.SetMaxOpenConns(2)
	return nil
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		if strings.Contains(dsn, "@") {
			return "<unparsable URL>"
		}
		return dsn
	}
	return u.Redacted()
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect.name }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return &fleet.Error{Kind: fleet.KindUnavailable, Msg: "database does not answer", Err: err}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	if s.elect != nil {
		err = errors.Join(err, s.elect.Close())
	}
	s.unlock()
	return err
}

func (s *Store) unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// Tx runs fn in one transaction: everything fn did is committed if it returns
// nil and rolled back if it returns an error, which Tx returns. Inside fn, use
// tx's methods only: on SQLite the Store's own writes would wait for fn.
func (s *Store) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.txOn(ctx, s.write, fn)
}

// txOn is Tx on the pool p.
func (s *Store) txOn(ctx context.Context, p *sql.DB, fn func(tx *Tx) error) error {
	sqlTx, err := p.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{db: s.conn(sqlTx)}
	if s.fence != nil {
		err = tx.checkFence(ctx, s.fence())
	}
	if err == nil {
		err = fn(tx)
	}
	if err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("roll back: %w", rbErr))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Tx is a transaction in progress; see (*Store).Tx.
type Tx struct {
	db
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// db runs the queries of every table against a pool or a transaction; Store
// and Tx share it.
type db struct {
	q   querier
	d   dialect
	now func() time.Time
}

func (s *Store) conn(q querier) db {
	if s.fence != nil && q == querier(s.write) {
		q = fenced{s}
	}
	return db{q: q, d: s.dialect, now: s.now}
}

// dialect is what differs between SQLite and PostgreSQL once the schema
// exists. Queries use $1-style parameters, which both drivers accept.
type dialect struct {
	name string
	// forUpdate locks the selected rows until the end of the transaction
	// where the database needs to be told; SQLite's writer lock already does.
	forUpdate string
	// lockLeases holds the ledger still for a grant, where the database
	// needs to be told: two grants reading the same leases at once could
	// each take one half of a pair.
	lockLeases string
	// forShare locks the selected rows against writers, not readers.
	forShare string
}

var (
	sqliteDialect   = dialect{name: "sqlite"}
	postgresDialect = dialect{name: "postgres", forUpdate: " FOR UPDATE", lockLeases: "LOCK TABLE leases IN SHARE ROW EXCLUSIVE MODE", forShare: " FOR SHARE"}
)

// sqliteTime is fixed-width so that text comparison is time order.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// Precision is what survives a round trip through the store: PostgreSQL keeps
// microseconds, and SQLite is made to match.
const Precision = time.Microsecond

// time encodes t as a query argument.
func (d dialect) time(t time.Time) any {
	t = t.UTC().Truncate(Precision)
	if d.name == "sqlite" {
		return t.Format(sqliteTime)
	}
	return t
}

// timeScanner reads a time column of either dialect into t, in UTC; NULL
// reads as the zero time.
type timeScanner struct{ t *time.Time }

func (ts timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*ts.t = time.Time{}
	case time.Time:
		*ts.t = v.UTC()
	case string:
		return ts.parse(v)
	case []byte:
		return ts.parse(string(v))
	default:
		return fmt.Errorf("time column holds a %T", src)
	}
	return nil
}

func (ts timeScanner) parse(s string) error {
	t, err := time.Parse(sqliteTime, s)
	if err != nil {
		return fmt.Errorf("time column: %w", err)
	}
	*ts.t = t
	return nil
}
