package store

import (
	"context"
	"fmt"

	"github.com/illico-dev/illico/internal/fleet"
)

// GrantLease takes lease l on its host, or refuses. In one transaction that
// holds the ledger still against every other grant (PostgreSQL locks the
// table; SQLite's writer lock does it already), admit is shown every lease
// held and refuses with an error when l would break a budget. A host leased
// to another holder is refused (fleet.KindConflict, saying who holds it);
// the same holder's second grant returns its first lease unchanged.
func (s *Store) GrantLease(ctx context.Context, l fleet.Lease, admit func(held []fleet.Lease) error) (fleet.Lease, error) {
	l.Since = l.Since.UTC().Truncate(Precision)
	err := s.Tx(ctx, func(tx *Tx) error {
		if s.dialect.lockLeases != "" {
			if _, err := tx.q.ExecContext(ctx, s.dialect.lockLeases); err != nil {
				return fmt.Errorf("lock the leases: %w", err)
			}
		}
		held, err := tx.Leases(ctx)
		if err != nil {
			return err
		}
		for _, h := range held {
			if h.Host != l.Host {
				continue
			}
			if h.Held(l.Kind, l.Holder) {
				l = h
				return nil
			}
			return fleet.Errorf(fleet.KindConflict, "%s is %s", h.Host, h)
		}
		if err := admit(held); err != nil {
			return err
		}
		_, err = tx.q.ExecContext(ctx, "INSERT INTO leases (host, kind, holder, reason, since) VALUES ($1, $2, $3, $4, $5)",
			l.Host, string(l.Kind), l.Holder, l.Reason, s.dialect.time(l.Since))
		if err != nil {
			return fmt.Errorf("grant the lease on %s: %w", l.Host, err)
		}
		return nil
	})
	return l, err
}

// ReleaseLease ends the lease on host if kind and holder hold it; releasing
// a lease that is not held is no error.
func (d db) ReleaseLease(ctx context.Context, host string, kind fleet.LeaseKind, holder string) error {
	if _, err := d.q.ExecContext(ctx, "DELETE FROM leases WHERE host = $1 AND kind = $2 AND holder = $3", host, string(kind), holder); err != nil {
		return fmt.Errorf("release the lease on %s: %w", host, err)
	}
	return nil
}

// Leases returns every lease held, by host.
func (d db) Leases(ctx context.Context) ([]fleet.Lease, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT host, kind, holder, reason, since FROM leases ORDER BY host")
	if err != nil {
		return nil, fmt.Errorf("read the leases: %w", err)
	}
	defer rows.Close()
	var out []fleet.Lease
	for rows.Next() {
		var l fleet.Lease
		var kind string
		if err := rows.Scan(&l.Host, &kind, &l.Holder, &l.Reason, timeScanner{&l.Since}); err != nil {
			return nil, fmt.Errorf("read the leases: %w", err)
		}
		l.Kind = fleet.LeaseKind(kind)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the leases: %w", err)
	}
	return out, nil
}

// ReleaseLease ends the lease on host if kind and holder hold it.
func (s *Store) ReleaseLease(ctx context.Context, host string, kind fleet.LeaseKind, holder string) error {
	return s.conn(s.write).ReleaseLease(ctx, host, kind, holder)
}

// Leases returns every lease held, by host.
func (s *Store) Leases(ctx context.Context) ([]fleet.Lease, error) {
	return s.conn(s.read).Leases(ctx)
}
