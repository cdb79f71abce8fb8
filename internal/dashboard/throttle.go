package dashboard

import (
	"sync"
	"time"
)

// Login throttling: the first freeFailures failures of a key (a client
// address, an account name) cost nothing; each one after locks the key for
// twice as long as the one before, from firstDelay up to maxDelay. A key
// forgets its failures after forgetAfter without one.
const (
	freeFailures = 5
	firstDelay   = 5 * time.Second
	maxDelay     = 15 * time.Minute
	forgetAfter  = time.Hour
	// maxThrottled bounds the memory failed logins can take.
	maxThrottled = 10000
)

// failures is what one key has failed.
type failures struct {
	count int
	last  time.Time
	until time.Time
}

// throttle counts failed logins per key.
type throttle struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*failures
}

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, m: map[string]*failures{}}
}

// wait says how long the longest locked of keys stays locked, rounded up
// to the second; zero when none is.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for _, k := range keys {
		if f, ok := t.m[k]; ok {
			longest = max(longest, f.until.Sub(now))
		}
	}
	if longest <= 0 {
		return 0
	}
	return (longest + time.Second - 1).Truncate(time.Second)
}

// fail records a failure for each of keys.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		f, ok := t.m[k]
		if !ok || now.Sub(f.last) >= forgetAfter {
			if len(t.m) >= maxThrottled {
				t.prune(now)
			}
			f = &failures{}
			t.m[k] = f
		}
		f.count++
		f.last = now
		if f.count >= freeFailures {
			delay := maxDelay
			if n := f.count - freeFailures; n < 20 {
				delay = min(maxDelay, firstDelay<<n)
			}
			f.until = now.Add(delay)
		}
	}
}

// clear forgets key's failures, after a login that succeeded.
func (t *throttle) clear(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

// prune drops the keys that have forgotten, and the one that failed
// longest ago if none had.
func (t *throttle) prune(now time.Time) {
	var oldest string
	var at time.Time
	for k, f := range t.m {
		if now.Sub(f.last) >= forgetAfter && !now.Before(f.until) {
			delete(t.m, k)
			continue
		}
		if at.IsZero() || f.last.Before(at) {
			oldest, at = k, f.last
		}
	}
	if len(t.m) >= maxThrottled {
		delete(t.m, oldest)
	}
}
