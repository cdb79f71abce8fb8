package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// The status page's status is one document in one row (migration 004): the
// page reads it whole on each change and every change rewrites it whole, so
// rows per incident or update would buy nothing but joins. The document is
// fleet.Status in encoding/json's form, field names as in package fleet:
// renaming one there needs a migration of the stored documents.
//
// A change reads the row and writes it back in one transaction. Writers
// queue rather than race: on SQLite the transaction holds the database's
// one write lock from its start (BEGIN IMMEDIATE), on PostgreSQL the row's
// lock (SELECT … FOR UPDATE). So a change function always runs on the latest
// status and never needs to be run again; the UPDATE's compare-and-set on
// the version proves it, and would fail a change rather than lose another
// one if the locking were ever wrong.

// StatusVersion returns the version of the stored status: one integer,
// cheap to poll.
func (s *Store) StatusVersion(ctx context.Context) (uint64, error) {
	var v int64
	if err := s.read.QueryRowContext(ctx, "SELECT version FROM status_page WHERE id = 1").Scan(&v); err != nil {
		return 0, fmt.Errorf("read the status page's version: %w", err)
	}
	return uint64(v), nil
}

// Status returns the stored status; a store that never had one returns an
// empty status of version 0.
func (s *Store) Status(ctx context.Context) (fleet.Status, error) {
	st, _, err := s.conn(s.read).status(ctx, "")
	return st, err
}

func (d db) status(ctx context.Context, lock string) (fleet.Status, []byte, error) {
	var v int64
	var doc []byte
	if err := d.q.QueryRowContext(ctx, "SELECT version, document FROM status_page WHERE id = 1"+lock).Scan(&v, &doc); err != nil {
		return fleet.Status{}, nil, fmt.Errorf("read the status page: %w", err)
	}
	var st fleet.Status
	if err := json.Unmarshal(doc, &st); err != nil {
		return fleet.Status{}, nil, fmt.Errorf("read the status page: version %d: %w", v, err)
	}
	st.Version = uint64(v)
	return st, doc, nil
}

func encodeStatus(st fleet.Status) ([]byte, error) {
	st.Version = 0 // the row's column holds it
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode the status page: %w", err)
	}
	return b, nil
}

// UpdateStatus changes the stored status with change, in one transaction,
// and returns the status as it then is. change gets the transaction, for
// what must be written with the status or not at all (the subscribers'
// notifications); when it returns an error, nothing is written and
// UpdateStatus returns that error. A change that leaves the status as it was
// writes nothing and keeps the version; any other one takes the next version
// and UpdatedAt from the store's clock.
func (s *Store) UpdateStatus(ctx context.Context, change func(tx *Tx, st *fleet.Status) error) (fleet.Status, error) {
	var out fleet.Status
	err := s.Tx(ctx, func(tx *Tx) error {
		st, old, err := tx.status(ctx, tx.d.forUpdate)
		if err != nil {
			return err
		}
		version, updated := st.Version, st.UpdatedAt
		if err := change(tx, &st); err != nil {
			return err
		}
		st.UpdatedAt = updated
		doc, err := encodeStatus(st)
		if err != nil {
			return err
		}
		if bytes.Equal(doc, old) {
			st.Version = version
			out = st
			return nil
		}
		st.UpdatedAt = tx.now().UTC()
		if doc, err = encodeStatus(st); err != nil {
			return err
		}
		res, err := tx.q.ExecContext(ctx, "UPDATE status_page SET version = $1, document = $2 WHERE id = 1 AND version = $3",
			int64(version+1), string(doc), int64(version))
		if err != nil {
			return fmt.Errorf("write the status page: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("write the status page: %w", err)
		} else if n == 0 {
			return fleet.Errorf(fleet.KindConflict, "write the status page: version %d was changed by another writer meanwhile", version)
		}
		st.Version = version + 1
		out = st
		return nil
	})
	if err != nil {
		return fleet.Status{}, err
	}
	return out, nil
}

// PageIdentity is what names the status page for good (migration 008): its
// page_id, of which the feed's ids are made, so that renaming the page or
// moving it to another address changes none of them.
type PageIdentity struct {
	// ID is the page_id: 12 lower-case letters and digits, as Statuspage's.
	ID string
	// Adopted is set for a page older daemons served before the store kept
	// an ID, when they derived it from the page's name and address: the time
	// the store kept that derived ID. It is zero for an ID drawn at random.
	Adopted time.Time
}

// StatusPageIdentity returns the status page's identity. The first call
// stores one that every later call, on every daemon of the database, gets:
// derived, with the time, when older daemons already wrote the page's status
// (derived is then the ID they gave it), else one drawn at random. An empty
// derived draws one in every case.
func (s *Store) StatusPageIdentity(ctx context.Context, derived string) (PageIdentity, error) {
	var out PageIdentity
	err := s.Tx(ctx, func(tx *Tx) error {
		var version int64
		var id PageIdentity
		err := tx.q.QueryRowContext(ctx, "SELECT version, page_id, page_id_adopted FROM status_page WHERE id = 1"+tx.d.forUpdate).
			Scan(&version, &id.ID, timeScanner{&id.Adopted})
		if err != nil {
			return fmt.Errorf("read the status page's ID: %w", err)
		}
		if id.ID != "" {
			out = id
			return nil
		}
		var adopted any
		if id = (PageIdentity{ID: newPageID()}); version > 0 && derived != "" {
			id = PageIdentity{ID: derived, Adopted: tx.now().UTC().Truncate(Precision)}
			adopted = tx.d.time(id.Adopted)
		}
		if _, err := tx.q.ExecContext(ctx, "UPDATE status_page SET page_id = $1, page_id_adopted = $2 WHERE id = 1", id.ID, adopted); err != nil {
			return fmt.Errorf("store the status page's ID: %w", err)
		}
		out = id
		return nil
	})
	if err != nil {
		return PageIdentity{}, err
	}
	return out, nil
}

// newPageID draws a page_id: 60 random bits in lower-case letters and
// digits.
func newPageID() string { return strings.ToLower(rand.Text()[:12]) }
