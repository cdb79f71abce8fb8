// Package deliver hands one message to the outside world, a webhook over
// HTTP or a mail over SMTP, and says what the failure means for the next
// try: none (permanent), after the server's Retry-After, or after the
// backoff Schedule. The alert receivers and the status page's subscribers
// both send through it; what they send, and where they keep their retries,
// stays theirs.
package deliver

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"
)

// failure is an error that says something of the next try.
type failure struct {
	err       error
	permanent bool
	// after is the wait the server asked for, from Retry-After.
	after time.Duration
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// Permanent marks err as one that another try cannot fix.
func Permanent(err error) error { return &failure{err: err, permanent: true} }

// IsPermanent reports whether err was marked permanent.
func IsPermanent(err error) bool {
	var f *failure
	return errors.As(err, &f) && f.permanent
}

// RetryAfter is how long the server asked to wait before the next try; zero
// when it did not say.
func RetryAfter(err error) time.Duration {
	var f *failure
	if errors.As(err, &f) {
		return f.after
	}
	return 0
}

// Schedule says when to try again: after First, doubled after each failure
// up to Max, each wait drawn between its half and its whole so that the
// senders that failed together do not all come back at once; a server's
// Retry-After lengthens a wait, up to Max.
type Schedule struct {
	// Attempts is how many tries in all.
	Attempts int
	First    time.Duration
	Max      time.Duration
	// Jitter draws in [0, 1); math/rand/v2's Float64 when nil.
	Jitter func() float64
}

// Next says whether to try again after try number attempt (the first is 1)
// failed with err, and how long to wait first.
func (s Schedule) Next(attempt int, err error) (time.Duration, bool) {
	if err == nil || IsPermanent(err) || attempt >= s.Attempts {
		return 0, false
	}
	ceil := max(s.Max, s.First)
	d := s.First
	for i := 1; i < attempt && d < ceil; i++ {
		if d > ceil/2 {
			d = ceil
		} else {
			d *= 2
		}
	}
	jitter := s.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	d = d/2 + time.Duration(jitter()*float64(d-d/2))
	if after := RetryAfter(err); after > d {
		d = min(after, ceil)
	}
	return d, true
}

// withTimeout bounds ctx by d; a zero d keeps ctx's own deadline, or takes
// DefaultTimeout when it has none, so that no send hangs for ever.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		if _, ok := ctx.Deadline(); ok {
			return context.WithCancel(ctx)
		}
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// redacted hides secrets from an error's text, which ends up in logs and in
// the store, while keeping its chain for errors.Is and errors.As.
type redacted struct {
	err  error
	hide []string
}

func (r redacted) Error() string {
	s := r.err.Error()
	for _, h := range r.hide {
		if h != "" {
			s = strings.ReplaceAll(s, h, "<secret>")
		}
	}
	return s
}

func (r redacted) Unwrap() error { return r.err }
