package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Campaign is one round of the leader election for replica r: in one
// transaction that holds the lease row, it records that r is alive, then
// renews r's lease if r holds it, takes it with the next epoch if no one
// holds it or its holder let it expire, or leaves it to its holder. It
// returns the lease as it stands afterwards; r leads when it is the
// holder. Times are the database's clock on PostgreSQL, so that replicas
// on machines whose clocks differ agree on when a lease expires. A store
// that holds its SQLite file's lock (OneDaemon) is the only daemon there
// can be: it takes the lease at once, from a daemon killed before its
// lease expired.
func (s *Store) Campaign(ctx context.Context, r fleet.Replica, ttl time.Duration) (fleet.Leadership, error) {
	var out fleet.Leadership
	err := s.txOn(ctx, s.electPool(), func(tx *Tx) error {
		now, err := tx.clock(ctx)
		if err != nil {
			return err
		}
		_, err = tx.q.ExecContext(ctx, `INSERT INTO replicas (id, address, started, seen) VALUES ($1, $2, $3, $3)
			ON CONFLICT (id) DO UPDATE SET address = excluded.address, seen = excluded.seen`, r.ID, r.Address, s.dialect.time(now))
		if err != nil {
			return fmt.Errorf("record replica %s: %w", r.ID, err)
		}
		cur, err := tx.leader(ctx, s.dialect.forUpdate)
		if err != nil {
			return err
		}
		out = cur
		switch {
		case cur.Held(r.ID, now):
			out.Renewed, out.Expires, out.Address = now, now.Add(ttl), r.Address
		case now.Before(cur.Expires) && s.lock == nil:
			return nil // another replica leads
		default:
			out = fleet.Leadership{Holder: r.ID, Address: r.Address, Epoch: cur.Epoch + 1, Renewed: now, Expires: now.Add(ttl)}
		}
		_, err = tx.q.ExecContext(ctx, "UPDATE leader SET holder = $1, address = $2, epoch = $3, renewed = $4, expires = $5 WHERE id = 1",
			out.Holder, out.Address, out.Epoch, s.dialect.time(out.Renewed), s.dialect.time(out.Expires))
		if err != nil {
			return fmt.Errorf("renew the leader's lease: %w", err)
		}
		return nil
	})
	out.Renewed, out.Expires = out.Renewed.UTC().Truncate(Precision), out.Expires.UTC().Truncate(Precision)
	return out, err
}

// Resign ends replica id's lease of epoch now, when it still holds it: a
// leader that stops cleanly lets another take over at its next campaign
// instead of when the lease would have expired.
func (s *Store) Resign(ctx context.Context, id string, epoch int64) error {
	return s.txOn(ctx, s.electPool(), func(tx *Tx) error {
		now, err := tx.clock(ctx)
		if err != nil {
			return err
		}
		_, err = tx.q.ExecContext(ctx, "UPDATE leader SET expires = $1 WHERE id = 1 AND holder = $2 AND epoch = $3", s.dialect.time(now), id, epoch)
		if err != nil {
			return fmt.Errorf("resign the leader's lease: %w", err)
		}
		return nil
	})
}

// Leader returns the leader's lease as it stands (fleet.KindNotFound when
// no replica ever led), with the database's time now.
func (s *Store) Leader(ctx context.Context) (fleet.Leadership, time.Time, error) {
	d := s.conn(s.read)
	now, err := d.clock(ctx)
	if err != nil {
		return fleet.Leadership{}, time.Time{}, err
	}
	l, err := d.leader(ctx, "")
	if err == nil && l.Epoch == 0 {
		return l, now, fleet.Errorf(fleet.KindNotFound, "no replica has led yet")
	}
	return l, now, err
}

// Replicas returns every replica that ever campaigned, the most recently
// seen first.
func (s *Store) Replicas(ctx context.Context) ([]fleet.Replica, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT id, address, started, seen FROM replicas ORDER BY seen DESC, id")
	if err != nil {
		return nil, fmt.Errorf("read the replicas: %w", err)
	}
	defer rows.Close()
	var out []fleet.Replica
	for rows.Next() {
		var r fleet.Replica
		if err := rows.Scan(&r.ID, &r.Address, timeScanner{&r.Started}, timeScanner{&r.Seen}); err != nil {
			return nil, fmt.Errorf("read the replicas: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// leader reads the lease's one row; epoch 0 is a lease no replica ever
// held.
func (d db) leader(ctx context.Context, lock string) (fleet.Leadership, error) {
	var l fleet.Leadership
	err := d.q.QueryRowContext(ctx, "SELECT holder, address, epoch, renewed, expires FROM leader WHERE id = 1"+lock).
		Scan(&l.Holder, &l.Address, &l.Epoch, timeScanner{&l.Renewed}, timeScanner{&l.Expires})
	if err != nil {
		return l, fmt.Errorf("read the leader's lease: %w", err)
	}
	return l, nil
}

// clock is the time the leases are measured by: PostgreSQL's own clock,
// shared by every replica; the daemon's on SQLite, where there is one.
func (d db) clock(ctx context.Context) (time.Time, error) {
	if d.d.name != "postgres" {
		return d.now().UTC(), nil
	}
	var t time.Time
	if err := d.q.QueryRowContext(ctx, "SELECT clock_timestamp()").Scan(&t); err != nil {
		return t, fmt.Errorf("read the database's clock: %w", err)
	}
	return t.UTC(), nil
}

// electPool is the pool of the election's transactions.
func (s *Store) electPool() *sql.DB {
	if s.elect != nil {
		return s.elect
	}
	return s.write
}

// Fenced is a view of s for the work of the leader of epoch (a func, as a
// replica learns its epoch when it wins): every write it makes with Exec,
// and every transaction, first checks inside its own transaction that
// epoch still leads, and fails with fleet.KindConflict once a newer leader
// exists. On PostgreSQL the check locks the lease row against a takeover
// until the write commits, so a write is either before the new leader or
// refused. Its reads, and writes that return rows, are not fenced: the
// rollout engine's writes, which decide what is done to the hosts, are all
// Exec and transactions. The view shares s's connections: close s.
func (s *Store) Fenced(epoch func() int64) *Store {
	v := *s
	v.fence = epoch
	return &v
}

// checkFence fails unless epoch leads.
func (d db) checkFence(ctx context.Context, epoch int64) error {
	l, err := d.leader(ctx, d.d.forShare)
	switch {
	case err != nil:
		return err
	case l.Epoch == 0:
		return fleet.Errorf(fleet.KindConflict, "this replica is not the leader: no replica leads yet")
	case l.Epoch != epoch:
		return fleet.Errorf(fleet.KindConflict, "this replica is not the leader any more: %s leads, epoch %d (this one held epoch %d)", l.Holder, l.Epoch, epoch)
	}
	return nil
}

// fenced is the write pool of a Fenced view: each Exec is a transaction
// of its own, checked.
type fenced struct{ s *Store }

func (f fenced) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := f.s.Tx(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.q.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

func (f fenced) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return f.s.write.QueryContext(ctx, query, args...)
}

func (f fenced) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return f.s.write.QueryRowContext(ctx, query, args...)
}
