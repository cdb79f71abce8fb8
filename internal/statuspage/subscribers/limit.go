package subscribers

import (
	"sync"
	"time"
)

// Rate is a token bucket: Burst requests at once, then one every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// maxBuckets bounds the limiter's memory under a flood of distinct keys.
const maxBuckets = 100_000

// limiter keeps a token bucket per key, in memory: a restart forgets them,
// which costs an abuser at most one burst.
type limiter struct {
	rate    Rate
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(r Rate, now func() time.Time) *limiter {
	return &limiter{rate: r, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket, if it has one.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets && !l.sweep(now) {
			// Fail closed: a flood of keys must not buy unlimited requests.
			return false
		}
		b = &bucket{tokens: float64(l.rate.Burst), at: now}
		l.buckets[key] = b
	}
	b.refill(l.rate, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *bucket) refill(r Rate, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 && r.Every > 0 {
		b.tokens = min(float64(r.Burst), b.tokens+float64(elapsed)/float64(r.Every))
	}
	b.at = now
}

// sweep forgets the full buckets, which are as good as new ones, and
// reports whether that made room.
func (l *limiter) sweep(now time.Time) bool {
	for k, b := range l.buckets {
		b.refill(l.rate, now)
		if b.tokens >= float64(l.rate.Burst) {
			delete(l.buckets, k)
		}
	}
	return len(l.buckets) < maxBuckets
}
