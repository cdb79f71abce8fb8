package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Event is one line of the event log: something that happened to the fleet
// or to illico (a rollout started, a host rebooted, a token was created).
type Event struct {
	ID   int64
	Time time.Time
	// Kind is a dotted name, like "token.created" or "rollout.started".
	Kind string
	// Subject names what the event is about: a host, a group, a rollout.
	Subject string
	Message string
	// Data is any JSON value, or nil.
	Data json.RawMessage
}

// EventFilter selects events. Zero fields select everything.
type EventFilter struct {
	Kind    string
	Subject string
	Since   time.Time // inclusive
	Until   time.Time // exclusive
	// After is the ID of the last event of the previous page.
	After int64
	// Limit is the page size: DefaultEventLimit when zero, at most
	// MaxEventLimit.
	Limit int
}

const (
	DefaultEventLimit = 100
	MaxEventLimit     = 1000
)

// AppendEvent adds e to the log and returns it with its ID. A zero Time is
// the store's clock.
func (d db) AppendEvent(ctx context.Context, e Event) (Event, error) {
	if e.Kind == "" {
		return Event{}, fleet.Errorf(fleet.KindInvalid, "an event needs a kind")
	}
	if e.Time.IsZero() {
		e.Time = d.now()
	}
	e.Time = e.Time.UTC().Truncate(Precision)
	var data any
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return Event{}, fleet.Errorf(fleet.KindInvalid, "event %s: data is not valid JSON", e.Kind)
		}
		data = string(e.Data)
	}
	err := d.q.QueryRowContext(ctx, "INSERT INTO events (time, kind, subject, message, data) VALUES ($1, $2, $3, $4, $5) RETURNING id",
		d.d.time(e.Time), e.Kind, e.Subject, e.Message, data).Scan(&e.ID)
	if err != nil {
		return Event{}, fmt.Errorf("append event %s: %w", e.Kind, err)
	}
	return e, nil
}

// Events returns the events f selects, in the order they were appended.
func (d db) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	if f.Limit < 0 || f.After < 0 {
		return nil, fleet.Errorf(fleet.KindInvalid, "event filter: limit and after cannot be negative")
	}
	limit := f.Limit
	if limit == 0 {
		limit = DefaultEventLimit
	}
	limit = min(limit, MaxEventLimit)
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	add("id > $%d", f.After)
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.Subject != "" {
		add("subject = $%d", f.Subject)
	}
	if !f.Since.IsZero() {
		add("time >= $%d", d.d.time(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < $%d", d.d.time(f.Until))
	}
	args = append(args, limit)
	query := fmt.Sprintf("SELECT id, time, kind, subject, message, data FROM events WHERE %s ORDER BY id LIMIT $%d",
		strings.Join(where, " AND "), len(args))
	rows, err := d.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	list := []Event{}
	for rows.Next() {
		var e Event
		var data []byte
		if err := rows.Scan(&e.ID, timeScanner{&e.Time}, &e.Kind, &e.Subject, &e.Message, &data); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		if data != nil {
			e.Data = json.RawMessage(data)
		}
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return list, nil
}

// AppendEvent adds e to the log and returns it with its ID. A zero Time is
// the store's clock.
func (s *Store) AppendEvent(ctx context.Context, e Event) (Event, error) {
	return s.conn(s.write).AppendEvent(ctx, e)
}

// Events returns the events f selects, in the order they were appended.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	return s.conn(s.read).Events(ctx, f)
}
