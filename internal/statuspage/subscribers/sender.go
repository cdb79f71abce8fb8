package subscribers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/illico-dev/illico/internal/deliver"
	"github.com/illico-dev/illico/internal/fleet"
)

// Queue is what a Sender needs of the store.
type Queue interface {
	Claim(ctx context.Context, limit int, lease time.Duration) ([]fleet.Notification, error)
	// MarkSent, Retry and Release settle a claimed notification.
	MarkSent(ctx context.Context, id int64, attempts int) error
	Retry(ctx context.Context, id int64, attempts int, at time.Time, reason string) error
	Release(ctx context.Context, id int64, attempts int) error
}

// SenderOptions configure a Sender. Zero values take the defaults.
type SenderOptions struct {
	Queue  Queue
	Links  Links
	Mailer *Mailer
	Poster *Poster
	// Concurrency bounds the sends at once (16).
	Concurrency int
	// Lease is how long a claimed row is the Sender's (2 minutes): a
	// Sender that dies leaves its rows to the next after that.
	Lease time.Duration
	// Timeout bounds one send (30 seconds); it must be well under Lease.
	Timeout time.Duration
	// Poll is how often an idle Sender looks for due rows (5 seconds).
	Poll time.Duration
	// Attempts is how many tries a notification gets (8), Backoff the
	// wait after the first failure (30 seconds), doubled each time up to
	// an hour, less a random part of up to half, or longer when the
	// server's Retry-After asks.
	Attempts int
	Backoff  time.Duration
	Log      *slog.Logger
	Now      func() time.Time
}

// Sender drains the queue: it claims due notifications and sends them,
// Concurrency at a time, in the background of whoever enqueued them.
type Sender struct {
	o     SenderOptions
	texts mailTexts
	sched deliver.Schedule
	kick  chan struct{}
}

// NewSender returns a Sender; call Run to start it.
func NewSender(o SenderOptions) (*Sender, error) {
	if err := o.Links.check(); err != nil {
		return nil, err
	}
	if o.Queue == nil || o.Mailer == nil || o.Poster == nil {
		return nil, errors.New("notify: a sender needs a queue, a mailer and a poster")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Attempts <= 0 {
		o.Attempts = 8
	}
	def(&o.Lease, 2*time.Minute)
	def(&o.Timeout, 30*time.Second)
	def(&o.Poll, 5*time.Second)
	def(&o.Backoff, 30*time.Second)
	if o.Timeout >= o.Lease {
		return nil, fmt.Errorf("notify: the send timeout (%v) must be shorter than the lease (%v)", o.Timeout, o.Lease)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	mt, err := loadMailTexts()
	if err != nil {
		return nil, err
	}
	return &Sender{o: o, texts: mt, sched: deliver.Schedule{Attempts: o.Attempts, First: o.Backoff, Max: time.Hour}, kick: make(chan struct{}, 1)}, nil
}

// Kick wakes the Sender to look for due rows now; it never blocks.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends. It then claims nothing more, hands back the rows
// it claimed but did not start, and waits for the sends under way (each
// bounded by Timeout) to finish and be recorded, so that a stop re-sends
// nothing.
func (s *Sender) Run(ctx context.Context) error {
	sem := make(chan struct{}, s.o.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	// The sends under way and their records outlive ctx, not the Timeout.
	settleCtx := context.WithoutCancel(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-timer.C:
		}
		for ctx.Err() == nil {
			batch, err := s.o.Queue.Claim(ctx, s.o.Concurrency, s.o.Lease)
			if err != nil {
				if ctx.Err() == nil {
					s.o.Log.Warn("claim notifications", "err", err)
				}
				break
			}
			if len(batch) == 0 {
				break
			}
			for i, n := range batch {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					s.release(settleCtx, batch[i:])
					return nil
				}
				wg.Go(func() {
					defer func() { <-sem }()
					s.deliver(settleCtx, n)
				})
			}
		}
		timer.Reset(s.o.Poll)
	}
}

func (s *Sender) release(ctx context.Context, ns []fleet.Notification) {
	for _, n := range ns {
		if err := s.o.Queue.Release(ctx, n.ID, n.Attempts); err != nil {
			s.o.Log.Warn("release notification", "notification", n.ID, "err", err)
		}
	}
}

// deliver sends n once and records the outcome.
func (s *Sender) deliver(ctx context.Context, n fleet.Notification) {
	sendCtx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	err := s.send(sendCtx, n)
	cancel()
	if err == nil {
		if err := s.o.Queue.MarkSent(ctx, n.ID, n.Attempts); err != nil {
			s.o.Log.Warn("record a sent notification", "notification", n.ID, "err", err)
		}
		return
	}
	var retryAt time.Time
	if wait, again := s.sched.Next(n.Attempts, err); again {
		retryAt = s.o.Now().Add(wait)
	}
	s.o.Log.Info("notification not sent", "notification", n.ID, "attempt", n.Attempts, "retry_at", retryAt, "err", err)
	if err := s.o.Queue.Retry(ctx, n.ID, n.Attempts, retryAt, err.Error()); err != nil {
		s.o.Log.Warn("record a failed notification", "notification", n.ID, "err", err)
	}
}

func (s *Sender) send(ctx context.Context, n fleet.Notification) error {
	sub := n.Subscriber
	unsubscribe := s.o.Links.UnsubscribeURL(sub.Nonce)
	switch sub.Kind {
	case fleet.SubscriberEmail:
		return s.o.Mailer.Send(ctx, Mail{
			To: sub.Address, Subject: n.Subject, Body: s.texts.withFooter(sub.Language, n.Body, unsubscribe),
			MessageID: "notification-" + strconv.FormatInt(n.ID, 10), Unsubscribe: unsubscribe,
		})
	case fleet.SubscriberWebhook:
		return s.o.Poster.Post(ctx, sub.Address, sub.Secret, Payload{
			Kind: "notification", Key: n.Key, Language: sub.Language, Subject: n.Subject, Body: n.Body,
			Time: n.Created, UnsubscribeURL: unsubscribe,
		})
	}
	return deliver.Permanent(fmt.Errorf("subscriber %d has an unknown kind %q", sub.ID, sub.Kind))
}
