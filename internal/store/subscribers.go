package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
)

func checkSubscriber(sub fleet.Subscriber) error {
	var errs []error
	if sub.Kind != fleet.SubscriberEmail && sub.Kind != fleet.SubscriberWebhook {
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "subscriber kind %q: expected email or webhook", sub.Kind))
	}
	if sub.Address == "" || len(sub.Address) > 2000 {
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "a subscriber needs an address of at most 2000 bytes"))
	}
	if !fleet.IsLanguage(sub.Language) {
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "subscriber language %q: expected %s", sub.Language, fleet.LanguageChoice()))
	}
	if len(sub.Components) > 1000 {
		errs = append(errs, fleet.Errorf(fleet.KindInvalid, "a subscriber follows at most 1000 components"))
	}
	return errors.Join(errs...)
}

const subscriberColumns = "id, kind, address, language, all_components, secret, nonce, created, confirmed_at"

func scanSubscriber(row interface{ Scan(...any) error }) (fleet.Subscriber, error) {
	var s fleet.Subscriber
	var kind, secret string
	var all bool
	err := row.Scan(&s.ID, &kind, &s.Address, &s.Language, &all, &secret, &s.Nonce, timeScanner{&s.Created}, timeScanner{&s.ConfirmedAt})
	s.Kind, s.Secret = fleet.SubscriberKind(kind), fleet.Secret(secret)
	return s, err
}

// SaveSubscriber records a subscription waiting for its confirmation and
// returns the subscriber as stored. If the address is already subscribed and
// confirmed, nothing changes and the confirmed subscriber comes back: the
// caller must answer both cases alike, so that nobody learns who subscribed.
// If it is subscribed and still waiting, the new request replaces the old
// one, tokens included.
func (d db) SaveSubscriber(ctx context.Context, sub fleet.Subscriber, confirmHash, unsubscribeHash string) (fleet.Subscriber, error) {
	if err := checkSubscriber(sub); err != nil {
		return fleet.Subscriber{}, err
	}
	if confirmHash == "" || unsubscribeHash == "" {
		return fleet.Subscriber{}, fleet.Errorf(fleet.KindInvalid, "a subscriber needs the hashes of its tokens")
	}
	old, err := scanSubscriber(d.q.QueryRowContext(ctx, "SELECT "+subscriberColumns+" FROM subscribers WHERE kind = $1 AND address = $2"+d.d.forUpdate,
		string(sub.Kind), sub.Address))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fleet.Subscriber{}, fmt.Errorf("save subscriber: %w", err)
	case old.Confirmed():
		return d.withComponents(ctx, old)
	default:
		if _, err := d.q.ExecContext(ctx, "DELETE FROM subscribers WHERE id = $1", old.ID); err != nil {
			return fleet.Subscriber{}, fmt.Errorf("save subscriber: %w", err)
		}
	}
	comps := slices.Compact(slices.Sorted(slices.Values(sub.Components)))
	row := d.q.QueryRowContext(ctx, `INSERT INTO subscribers (kind, address, language, all_components, secret, nonce, confirm_hash, unsubscribe_hash, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+subscriberColumns,
		string(sub.Kind), sub.Address, sub.Language, len(comps) == 0, sub.Secret.Reveal(), sub.Nonce, confirmHash, unsubscribeHash, d.d.time(d.now()))
	saved, err := scanSubscriber(row)
	if err != nil {
		return fleet.Subscriber{}, fmt.Errorf("save subscriber: %w", err)
	}
	for _, c := range comps {
		if _, err := d.q.ExecContext(ctx, "INSERT INTO subscriber_components (subscriber_id, component) VALUES ($1, $2)", saved.ID, c); err != nil {
			return fleet.Subscriber{}, fmt.Errorf("save subscriber: %w", err)
		}
	}
	saved.Components = comps
	return saved, nil
}

func (d db) withComponents(ctx context.Context, s fleet.Subscriber) (fleet.Subscriber, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT component FROM subscriber_components WHERE subscriber_id = $1 ORDER BY component", s.ID)
	if err != nil {
		return fleet.Subscriber{}, fmt.Errorf("read subscriber %d: %w", s.ID, err)
	}
	defer rows.Close()
	s.Components = nil
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return fleet.Subscriber{}, fmt.Errorf("read subscriber %d: %w", s.ID, err)
		}
		s.Components = append(s.Components, c)
	}
	if err := rows.Err(); err != nil {
		return fleet.Subscriber{}, fmt.Errorf("read subscriber %d: %w", s.ID, err)
	}
	return s, nil
}

// ConfirmSubscriber confirms the subscriber whose confirmation token hashes
// to confirmHash. Confirming twice is not an error: a mail client that
// follows the link before its reader does must not spoil the click.
func (d db) ConfirmSubscriber(ctx context.Context, confirmHash string) (fleet.Subscriber, error) {
	s, err := scanSubscriber(d.q.QueryRowContext(ctx, "SELECT "+subscriberColumns+" FROM subscribers WHERE confirm_hash = $1"+d.d.forUpdate, confirmHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fleet.Subscriber{}, fleet.Errorf(fleet.KindNotFound, "unknown or expired confirmation link")
	case err != nil:
		return fleet.Subscriber{}, fmt.Errorf("confirm subscriber: %w", err)
	}
	if !s.Confirmed() {
		s.ConfirmedAt = d.now().UTC().Truncate(Precision)
		if _, err := d.q.ExecContext(ctx, "UPDATE subscribers SET confirmed_at = $1 WHERE id = $2", d.d.time(s.ConfirmedAt), s.ID); err != nil {
			return fleet.Subscriber{}, fmt.Errorf("confirm subscriber %d: %w", s.ID, err)
		}
	}
	return d.withComponents(ctx, s)
}

// Unsubscribe forgets the subscriber whose unsubscribe token hashes to
// unsubscribeHash, and the notifications still queued for it.
func (d db) Unsubscribe(ctx context.Context, unsubscribeHash string) (fleet.Subscriber, error) {
	s, err := scanSubscriber(d.q.QueryRowContext(ctx, "DELETE FROM subscribers WHERE unsubscribe_hash = $1 RETURNING "+subscriberColumns, unsubscribeHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fleet.Subscriber{}, fleet.Errorf(fleet.KindNotFound, "unknown unsubscribe link, or already unsubscribed")
	case err != nil:
		return fleet.Subscriber{}, fmt.Errorf("unsubscribe: %w", err)
	}
	return s, nil
}

// Subscriber returns the subscriber with id.
func (d db) Subscriber(ctx context.Context, id int64) (fleet.Subscriber, error) {
	s, err := scanSubscriber(d.q.QueryRowContext(ctx, "SELECT "+subscriberColumns+" FROM subscribers WHERE id = $1", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fleet.Subscriber{}, fleet.Errorf(fleet.KindNotFound, "no subscriber with id %d", id)
	case err != nil:
		return fleet.Subscriber{}, fmt.Errorf("read subscriber %d: %w", id, err)
	}
	return d.withComponents(ctx, s)
}

// SubscriberCount counts subscribers, confirmed or not.
type SubscriberCount struct {
	Pending, Confirmed int
}

// CountSubscribers counts the subscribers of each kind.
func (d db) CountSubscribers(ctx context.Context) (map[fleet.SubscriberKind]SubscriberCount, error) {
	rows, err := d.q.QueryContext(ctx, "SELECT kind, confirmed_at IS NOT NULL, COUNT(*) FROM subscribers GROUP BY kind, confirmed_at IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("count subscribers: %w", err)
	}
	defer rows.Close()
	out := map[fleet.SubscriberKind]SubscriberCount{}
	for rows.Next() {
		var kind string
		var confirmed bool
		var n int
		if err := rows.Scan(&kind, &confirmed, &n); err != nil {
			return nil, fmt.Errorf("count subscribers: %w", err)
		}
		c := out[fleet.SubscriberKind(kind)]
		if confirmed {
			c.Confirmed += n
		} else {
			c.Pending += n
		}
		out[fleet.SubscriberKind(kind)] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count subscribers: %w", err)
	}
	return out, nil
}

// placeholders returns "$from, $from+1, …" for n parameters.
func placeholders(from, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("$%d", from+i)
	}
	return strings.Join(ps, ", ")
}

// SaveSubscriber records a subscription waiting for its confirmation; see
// (db).SaveSubscriber, which it runs in one transaction.
func (s *Store) SaveSubscriber(ctx context.Context, sub fleet.Subscriber, confirmHash, unsubscribeHash string) (fleet.Subscriber, error) {
	var out fleet.Subscriber
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.SaveSubscriber(ctx, sub, confirmHash, unsubscribeHash)
		return err
	})
	return out, err
}

// ConfirmSubscriber confirms the subscriber whose confirmation token hashes
// to confirmHash; confirming again changes nothing.
func (s *Store) ConfirmSubscriber(ctx context.Context, confirmHash string) (fleet.Subscriber, error) {
	var out fleet.Subscriber
	err := s.Tx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.ConfirmSubscriber(ctx, confirmHash)
		return err
	})
	return out, err
}

// Unsubscribe forgets the subscriber whose unsubscribe token hashes to
// unsubscribeHash, and its queued notifications.
func (s *Store) Unsubscribe(ctx context.Context, unsubscribeHash string) (fleet.Subscriber, error) {
	return s.conn(s.write).Unsubscribe(ctx, unsubscribeHash)
}

// Subscriber returns the subscriber with id.
func (s *Store) Subscriber(ctx context.Context, id int64) (fleet.Subscriber, error) {
	return s.conn(s.read).Subscriber(ctx, id)
}

// CountSubscribers counts the subscribers of each kind.
func (s *Store) CountSubscribers(ctx context.Context) (map[fleet.SubscriberKind]SubscriberCount, error) {
	return s.conn(s.read).CountSubscribers(ctx)
}
