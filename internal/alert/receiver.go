package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/illico-dev/illico/internal/deliver"
)

// Notifier tells someone about a notification: a webhook, a chat channel,
// a mailbox.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Integration is one receiver integration, retried with backoff.
type Integration struct {
	// Name says which receiver and kind, for logs and errors.
	Name     string
	Attempts int
	Backoff  time.Duration
	Log      *slog.Logger
	send     func(ctx context.Context, n Notification) error
}

// Notify sends n, trying again after about Backoff, doubled each time up to
// a minute, or after what the server asked for within that minute, until
// Attempts tries are spent, the answer says another try is pointless, or
// ctx ends.
func (it *Integration) Notify(ctx context.Context, n Notification) error {
	sched := deliver.Schedule{Attempts: it.Attempts, First: it.Backoff, Max: time.Minute}
	for attempt := 1; ; attempt++ {
		err := it.send(ctx, n)
		wait, again := sched.Next(attempt, err)
		if !again {
			if err != nil {
				return fmt.Errorf("notify %s: %w", it.Name, err)
			}
			return nil
		}
		it.Log.Warn("notification failed, will retry", "receiver", it.Name, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify %s: %w (gave up: %w)", it.Name, err, ctx.Err())
		case <-t.C:
		}
	}
}

// fanout sends to every integration of one receiver.
type fanout []Notifier

func (f fanout) Notify(ctx context.Context, n Notification) error {
	var errs []error
	for _, it := range f {
		errs = append(errs, it.Notify(ctx, n))
	}
	return errors.Join(errs...)
}

// Receivers builds the receivers of a loaded config, by name. client sends
// the webhooks; log hears about retries, never about secrets.
func Receivers(cfg *Config, client *http.Client, log *slog.Logger) map[string]Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := map[string]Notifier{}
	for i := range cfg.Receivers {
		rc := &cfg.Receivers[i]
		var f fanout
		add := func(kind string, send func(context.Context, Notification) error) {
			f = append(f, &Integration{Name: rc.Name + "/" + kind, Attempts: rc.Attempts, Backoff: rc.Backoff, Log: log, send: send})
		}
		if rc.Webhook != nil {
			add("webhook", (&webhook{cfg: *rc.Webhook, client: client}).send)
		}
		if rc.Chat != nil {
			add("chat", (&chat{cfg: *rc.Chat, client: client}).send)
		}
		if rc.Email != nil {
			add("email", newEmail(*rc.Email).send)
		}
		out[rc.Name] = f
	}
	return out
}

// Deliver sends each notification to its receiver.
func Deliver(ctx context.Context, receivers map[string]Notifier, ns []Notification) error {
	var errs []error
	for _, n := range ns {
		r, ok := receivers[n.Receiver]
		if !ok {
			errs = append(errs, fmt.Errorf("no receiver %q", n.Receiver))
			continue
		}
		errs = append(errs, r.Notify(ctx, n))
	}
	return errors.Join(errs...)
}
