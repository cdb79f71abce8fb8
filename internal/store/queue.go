package store

import (
	"context"
	"fmt"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

// Enqueue queues msg for every confirmed subscriber who follows one of its
// components, in the subscriber's language, and returns how many rows it
// added. A subscriber who already has msg.Key queued, sent or failed is
// skipped, so enqueueing again after a crash sends nothing twice.
func (d db) Enqueue(ctx context.Context, msg fleet.SubscriberMessage) (int, error) {
	if msg.Key == "" || len(msg.Key) > 500 {
		return 0, fleet.Errorf(fleet.KindInvalid, "a message needs a key of at most 500 bytes")
	}
	now := d.d.time(d.now())
	args := []any{msg.Key, now}
	var cases [2]string
	for i, text := range []fleet.Text{msg.Subject, msg.Body} {
		c := "CASE s.language"
		for _, lang := range fleet.LanguageCodes() {
			args = append(args, text.In(lang, "en"))
			c += fmt.Sprintf(" WHEN '%s' THEN $%d", lang, len(args))
		}
		cases[i] = c + " END"
	}
	follows := ""
	if len(msg.Components) > 0 {
		follows = fmt.Sprintf(" AND (s.all_components OR EXISTS (SELECT 1 FROM subscriber_components c WHERE c.subscriber_id = s.id AND c.component IN (%s)))",
			placeholders(len(args)+1, len(msg.Components)))
		for _, c := range msg.Components {
			args = append(args, c)
		}
	}
	res, err := d.q.ExecContext(ctx, `INSERT INTO notifications (subscriber_id, message_key, subject, body, state, attempts, next_attempt_at, last_error, created)
		SELECT s.id, $1, `+cases[0]+`, `+cases[1]+`, 'pending', 0, $2, '', $2 FROM subscribers s
		WHERE s.confirmed_at IS NOT NULL`+follows+`
		ON CONFLICT (subscriber_id, message_key) DO NOTHING`, args...)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", msg.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", msg.Key, err)
	}
	return int(n), nil
}

const notificationColumns = "n.id, n.message_key, n.subject, n.body, n.state, n.attempts, n.next_attempt_at, n.last_error, n.created, n.sent_at, " +
	"s.id, s.kind, s.address, s.language, s.all_components, s.secret, s.nonce, s.created, s.confirmed_at"

func scanNotification(row interface{ Scan(...any) error }) (fleet.Notification, error) {
	var n fleet.Notification
	var state, kind, secret string
	var all bool
	s := &n.Subscriber
	err := row.Scan(&n.ID, &n.Key, &n.Subject, &n.Body, &state, &n.Attempts, timeScanner{&n.NextAttemptAt}, &n.LastError,
		timeScanner{&n.Created}, timeScanner{&n.SentAt},
		&s.ID, &kind, &s.Address, &s.Language, &all, &secret, &s.Nonce, timeScanner{&s.Created}, timeScanner{&s.ConfirmedAt})
	n.State, s.Kind, s.Secret = fleet.NotificationState(state), fleet.SubscriberKind(kind), fleet.Secret(secret)
	return n, err
}

// Claim hands out up to limit notifications that are due, oldest first, and
// marks them sending until now+lease: until then no other claim returns
// them, and after it they are due again, for a sender that died mid-send.
// On PostgreSQL, senders in several daemons skip each other's rows; on
// SQLite, the single writer serializes them.
func (d db) Claim(ctx context.Context, limit int, lease time.Duration) ([]fleet.Notification, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fleet.Errorf(fleet.KindInvalid, "claim: limit and lease must be positive")
	}
	now := d.now()
	skip := ""
	if d.d.forUpdate != "" {
		skip = d.d.forUpdate + " SKIP LOCKED"
	}
	rows, err := d.q.QueryContext(ctx, `UPDATE notifications SET state = 'sending', attempts = attempts + 1, next_attempt_at = $1
		WHERE id IN (SELECT id FROM notifications WHERE state IN ('pending', 'sending') AND next_attempt_at <= $2
			ORDER BY next_attempt_at, id LIMIT $3`+skip+`)
		RETURNING id`, d.d.time(now.Add(lease)), d.d.time(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim notifications: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return d.notifications(ctx, "n.id IN ("+placeholders(1, len(ids))+")", ids...)
}

func (d db) notifications(ctx context.Context, where string, args ...any) ([]fleet.Notification, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT "+notificationColumns+" FROM notifications n JOIN subscribers s ON s.id = n.subscriber_id WHERE "+where+" ORDER BY n.id", args...)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	defer rows.Close()
	var out []fleet.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return out, nil
}

// settle moves a claimed row on, if the claim still holds it.
func (d db) settle(ctx context.Context, what string, id int64, attempts int, set string, args ...any) error {
	args = append([]any{id, attempts}, args...)
	res, err := d.q.ExecContext(ctx, "UPDATE notifications SET "+set+" WHERE id = $1 AND attempts = $2 AND state = 'sending'", args...)
	if err != nil {
		return fmt.Errorf("%s notification %d: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s notification %d: %w", what, id, err)
	} else if n == 0 {
		return fleet.Errorf(fleet.KindConflict, "%s notification %d: its claim was lost (the lease ended, or it was settled already)", what, id)
	}
	return nil
}

// MarkSent records that the claimed notification went out: it is never
// handed out again.
func (d db) MarkSent(ctx context.Context, id int64, attempts int) error {
	return d.settle(ctx, "mark sent", id, attempts, "state = 'sent', sent_at = $3, last_error = ''", d.d.time(d.now()))
}

// Retry records a failed send: the notification is due again at at, or, if
// at is zero, failed for good.
func (d db) Retry(ctx context.Context, id int64, attempts int, at time.Time, reason string) error {
	if at.IsZero() {
		return d.settle(ctx, "fail", id, attempts, "state = 'failed', last_error = $3", reason)
	}
	return d.settle(ctx, "retry", id, attempts, "state = 'pending', next_attempt_at = $3, last_error = $4", d.d.time(at), reason)
}

// Release hands back a claimed notification that was not tried, due at
// once and without counting the claim as an attempt.
func (d db) Release(ctx context.Context, id int64, attempts int) error {
	return d.settle(ctx, "release", id, attempts, "state = 'pending', attempts = attempts - 1, next_attempt_at = $3", d.d.time(d.now()))
}

// QueueCounts counts the notifications in each state.
func (d db) QueueCounts(ctx context.Context) (map[fleet.NotificationState]int, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT state, COUNT(*) FROM notifications GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count notifications: %w", err)
	}
	defer rows.Close()
	out := map[fleet.NotificationState]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count notifications: %w", err)
		}
		out[fleet.NotificationState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count notifications: %w", err)
	}
	return out, nil
}

// Notifications returns the notifications queued for a subscriber, in
// order.
func (d db) Notifications(ctx context.Context, subscriberID int64) ([]fleet.Notification, error) {
	return d.notifications(ctx, "n.subscriber_id = $1", subscriberID)
}

// Enqueue queues msg for every confirmed subscriber who follows it; see
// (db).Enqueue.
func (s *Store) Enqueue(ctx context.Context, msg fleet.SubscriberMessage) (int, error) {
	return s.conn(s.write).Enqueue(ctx, msg)
}

// Claim hands out up to limit due notifications, marked sending until
// now+lease.
func (s *Store) Claim(ctx context.Context, limit int, lease time.Duration) ([]fleet.Notification, error) {
	var out []fleet.Notification
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.Claim(ctx, limit, lease)
		return err
	})
	return out, err
}

// MarkSent records that the claimed notification went out.
func (s *Store) MarkSent(ctx context.Context, id int64, attempts int) error {
	return s.conn(s.write).MarkSent(ctx, id, attempts)
}

// Retry records a failed send, due again at at, or failed for good if at is
// zero.
func (s *Store) Retry(ctx context.Context, id int64, attempts int, at time.Time, reason string) error {
	return s.conn(s.write).Retry(ctx, id, attempts, at, reason)
}

// Release hands back a claimed notification that was not tried.
func (s *Store) Release(ctx context.Context, id int64, attempts int) error {
	return s.conn(s.write).Release(ctx, id, attempts)
}

// QueueCounts counts the notifications in each state.
func (s *Store) QueueCounts(ctx context.Context) (map[fleet.NotificationState]int, error) {
	return s.conn(s.read).QueueCounts(ctx)
}

// Notifications returns the notifications queued for a subscriber.
func (s *Store) Notifications(ctx context.Context, subscriberID int64) ([]fleet.Notification, error) {
	return s.conn(s.read).Notifications(ctx, subscriberID)
}
