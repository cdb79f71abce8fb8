package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// nullTime encodes a zero time as NULL.
func (d dialect) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.time(t)
}

// CreateRollout records a new rollout and all of its host runs at once. The
// rollout's Plan is not stored, only PlanSource, from which it is read again
// on resume, and PlanName.
func (d db) CreateRollout(ctx context.Context, r *fleet.Rollout) error {
	_, err := d.q.ExecContext(ctx, `INSERT INTO rollouts (id, plan_name, plan_file, plan_source, selector, urgent, state, reason, created, updated, ended)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.PlanName, r.PlanFile, r.PlanSource, r.Selector, r.Urgent, string(r.State), r.Reason,
		d.d.time(r.CreatedAt), d.d.time(r.UpdatedAt), d.d.nullTime(r.EndedAt))
	if err != nil {
		return fmt.Errorf("create rollout %s: %w", r.ID, err)
	}
	for i, h := range r.Hosts {
		_, err := d.q.ExecContext(ctx, `INSERT INTO host_runs (rollout_id, seq, host, wave, canary, state, step, failed, boot_id, issued, started, ended, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			r.ID, i, h.Host, h.Wave, h.Canary, string(h.State), h.Step, h.Failed, h.BootID, h.Issued,
			d.d.nullTime(h.StartedAt), d.d.nullTime(h.EndedAt), h.Error)
		if err != nil {
			return fmt.Errorf("create rollout %s: host %s: %w", r.ID, h.Host, err)
		}
	}
	return nil
}

// UpdateRollout records a rollout's state, reason and times.
func (d db) UpdateRollout(ctx context.Context, r *fleet.Rollout) error {
	res, err := d.q.ExecContext(ctx, "UPDATE rollouts SET state = $1, reason = $2, updated = $3, ended = $4 WHERE id = $5",
		string(r.State), r.Reason, d.d.time(r.UpdatedAt), d.d.nullTime(r.EndedAt), r.ID)
	return oneRow(res, err, "rollout", r.ID)
}

// SaveHostRun records one host's progress in a rollout.
func (d db) SaveHostRun(ctx context.Context, rolloutID string, h fleet.HostRun) error {
	res, err := d.q.ExecContext(ctx, `UPDATE host_runs SET state = $1, step = $2, failed = $3, boot_id = $4, issued = $5, started = $6, ended = $7, error = $8
		WHERE rollout_id = $9 AND host = $10`,
		string(h.State), h.Step, h.Failed, h.BootID, h.Issued, d.d.nullTime(h.StartedAt), d.d.nullTime(h.EndedAt), h.Error, rolloutID, h.Host)
	return oneRow(res, err, "host run", rolloutID+"/"+h.Host)
}

func oneRow(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("save %s %s: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("save %s %s: %w", what, id, err)
	} else if n == 0 {
		return fleet.Errorf(fleet.KindNotFound, "no %s %s", what, id)
	}
	return nil
}

const rolloutColumns = "id, plan_name, plan_file, plan_source, selector, urgent, state, reason, created, updated, ended"

func scanRollout(row interface{ Scan(...any) error }) (*fleet.Rollout, error) {
	r := &fleet.Rollout{}
	var state string
	err := row.Scan(&r.ID, &r.PlanName, &r.PlanFile, &r.PlanSource, &r.Selector, &r.Urgent, &state, &r.Reason,
		timeScanner{&r.CreatedAt}, timeScanner{&r.UpdatedAt}, timeScanner{&r.EndedAt})
	r.State = fleet.RolloutState(state)
	return r, err
}

// Rollout returns one rollout with its host runs, in schedule order.
func (d db) Rollout(ctx context.Context, id string) (*fleet.Rollout, error) {
	r, err := scanRollout(d.q.QueryRowContext(ctx, "SELECT "+rolloutColumns+" FROM rollouts WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fleet.Errorf(fleet.KindNotFound, "no rollout %s", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read rollout %s: %w", id, err)
	}
	if err := d.hostRuns(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

func (d db) hostRuns(ctx context.Context, r *fleet.Rollout) error {
	rows, err := d.q.QueryContext(ctx, `SELECT host, wave, canary, state, step, failed, boot_id, issued, started, ended, error
		FROM host_runs WHERE rollout_id = $1 ORDER BY seq`, r.ID)
	if err != nil {
		return fmt.Errorf("read rollout %s: %w", r.ID, err)
	}
	defer rows.Close()
	r.Hosts = nil
	for rows.Next() {
		var h fleet.HostRun
		var state string
		if err := rows.Scan(&h.Host, &h.Wave, &h.Canary, &state, &h.Step, &h.Failed, &h.BootID, &h.Issued,
			timeScanner{&h.StartedAt}, timeScanner{&h.EndedAt}, &h.Error); err != nil {
			return fmt.Errorf("read rollout %s: %w", r.ID, err)
		}
		h.State = fleet.HostState(state)
		r.Hosts = append(r.Hosts, h)
	}
	return rows.Err()
}

// Rollouts returns the most recent rollouts first, with their host runs.
// ended false lists only those still going.
func (d db) Rollouts(ctx context.Context, limit int, unfinishedOnly bool) ([]*fleet.Rollout, error) {
	query := "SELECT " + rolloutColumns + " FROM rollouts"
	if unfinishedOnly {
		query += " WHERE ended IS NULL"
	}
	query += " ORDER BY created DESC, id DESC LIMIT $1"
	rows, err := d.q.QueryContext(ctx, query, limit)
	if err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	var list []*fleet.Rollout
	for rows.Next() {
		r, err := scanRollout(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list rollouts: %w", err)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list rollouts: %w", err)
	}
	for _, r := range list {
		if err := d.hostRuns(ctx, r); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// CreateRollout records a new rollout and its host runs in one transaction.
func (s *Store) CreateRollout(ctx context.Context, r *fleet.Rollout) error {
	return s.Tx(ctx, func(tx *Tx) error { return tx.CreateRollout(ctx, r) })
}

// UpdateRollout records a rollout's state, reason and times.
func (s *Store) UpdateRollout(ctx context.Context, r *fleet.Rollout) error {
	return s.conn(s.write).UpdateRollout(ctx, r)
}

// SaveHostRun records one host's progress in a rollout.
func (s *Store) SaveHostRun(ctx context.Context, rolloutID string, h fleet.HostRun) error {
	return s.conn(s.write).SaveHostRun(ctx, rolloutID, h)
}

// Rollout returns one rollout with its host runs.
func (s *Store) Rollout(ctx context.Context, id string) (*fleet.Rollout, error) {
	return s.conn(s.read).Rollout(ctx, id)
}

// Rollouts returns up to limit rollouts, the most recent first.
func (s *Store) Rollouts(ctx context.Context, limit int) ([]*fleet.Rollout, error) {
	return s.conn(s.read).Rollouts(ctx, limit, false)
}

// UnfinishedRollouts returns every rollout that has not ended, for the
// daemon to resume at start.
func (s *Store) UnfinishedRollouts(ctx context.Context) ([]*fleet.Rollout, error) {
	return s.conn(s.read).Rollouts(ctx, 1<<20, true)
}
