package fleet

import "time"

// SubscriberKind is how a subscriber is reached.
type SubscriberKind string

const (
	SubscriberEmail   SubscriberKind = "email"
	SubscriberWebhook SubscriberKind = "webhook"
)

// Subscriber is someone told of the status page's incidents and
// maintenances, by e-mail or webhook. Its tokens are never stored, only
// their hashes.
type Subscriber struct {
	ID   int64
	Kind SubscriberKind
	// Address is the e-mail address or the webhook's URL.
	Address  string
	Language string
	// Components are the IDs of the components it follows; empty follows
	// them all.
	Components []string
	// Secret signs the webhook's bodies; empty for e-mail.
	Secret Secret
	// Nonce is random and public: with a key the store never sees, it
	// makes the subscriber's unsubscribe token, so that every message can
	// carry the link while the store keeps only its hash.
	Nonce       string
	Created     time.Time
	ConfirmedAt time.Time // zero: waiting for the double opt-in
}

// Confirmed reports whether the subscriber confirmed and gets notifications.
func (s Subscriber) Confirmed() bool { return !s.ConfirmedAt.IsZero() }

// NotificationState is where a queued notification stands.
type NotificationState string

const (
	NotificationPending NotificationState = "pending"
	// NotificationSending is a row handed to a sender until its lease
	// ends; if the sender dies, the row is due again after that.
	NotificationSending NotificationState = "sending"
	NotificationSent    NotificationState = "sent"
	NotificationFailed  NotificationState = "failed"
)

// SubscriberMessage is one update for the status page's subscribers,
// written in every language.
type SubscriberMessage struct {
	// Key names the update ("incident/42/update/3"): a subscriber gets
	// each key once, however often it is enqueued.
	Key string
	// Components are the IDs of the components the update is about; empty
	// is about the whole page.
	Components []string
	// Subject and Body by language; see Languages. English is
	// the fallback for a language missing.
	Subject, Body Text
}

// Notification is a message queued for one subscriber, in its language.
type Notification struct {
	ID            int64
	Subscriber    Subscriber
	Key           string
	Subject, Body string
	State         NotificationState
	// Attempts counts the claims; a claim's Attempts identifies it in
	// the store's MarkSent, Retry and Release.
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	Created       time.Time
	SentAt        time.Time
}
