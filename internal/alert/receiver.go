package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Notifier tells someone about a notification: a webhook, a chat channel,
// a mailbox.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// permanent marks an error that another try cannot fix (a 4xx answer).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Integration is one receiver integration, retried with backoff.
type Integration struct {
	// Name says which receiver and kind, for logs and errors.
	Name     string
	Attempts int
	Backoff  time.Duration
	Log      *slog.Logger
	send     func(ctx context.Context, n Notification) error
}

// Notify sends n, trying again after Backoff, doubled each time, until
// Attempts tries are spent, the answer says another try is pointless, or
// ctx ends.
func (it *Integration) Notify(ctx context.Context, n Notification) error {
	wait := it.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = it.send(ctx, n)
		var perm permanent
		if err == nil || errors.As(err, &perm) || attempt >= it.Attempts {
			break
		}
		it.Log.Warn("notification failed, will retry", "receiver", it.Name, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify %s: %w (gave up: %w)", it.Name, err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
	if err != nil {
		return fmt.Errorf("notify %s: %w", it.Name, err)
	}
	return nil
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
			add("email", (&email{cfg: *rc.Email}).send)
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

// post sends body as JSON and judges the answer. Its errors never hold the
// URL, which may be the credential.
func post(ctx context.Context, client *http.Client, rawURL string, header http.Header, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(b))
	if err != nil {
		return permanent{errors.New("bad url")}
	}
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "illico")
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 500 || slices.Contains([]int{http.StatusTooManyRequests, http.StatusRequestTimeout}, resp.StatusCode):
		return fmt.Errorf("post to %s: %s", req.URL.Host, resp.Status)
	}
	return permanent{fmt.Errorf("post to %s: %s", req.URL.Host, resp.Status)}
}
