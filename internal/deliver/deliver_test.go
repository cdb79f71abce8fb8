package deliver

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	temp := errors.New("connection refused")
	after := func(d time.Duration) error { return &failure{err: temp, after: d} }
	s := func(jitter float64) Schedule {
		return Schedule{Attempts: 5, First: time.Second, Max: 10 * time.Second, Jitter: func() float64 { return jitter }}
	}
	tests := []struct {
		name    string
		s       Schedule
		attempt int
		err     error
		wait    time.Duration
		again   bool
	}{
		{"success", s(0), 1, nil, 0, false},
		{"permanent", s(0), 1, Permanent(temp), 0, false},
		{"permanent, wrapped", s(0), 1, fmt.Errorf("notify x: %w", Permanent(temp)), 0, false},
		{"attempts spent", s(0), 5, temp, 0, false},
		{"first wait, least jitter", s(0), 1, temp, 500 * time.Millisecond, true},
		{"first wait, half jitter", s(0.5), 1, temp, 750 * time.Millisecond, true},
		{"doubled", s(0.5), 3, temp, 3 * time.Second, true},
		{"capped", Schedule{Attempts: 100, First: time.Second, Max: 10 * time.Second, Jitter: func() float64 { return 0.5 }}, 60, temp, 7500 * time.Millisecond, true},
		{"no overflow", Schedule{Attempts: 1000, First: time.Second, Max: time.Duration(1<<63 - 1), Jitter: func() float64 { return 0 }}, 999, temp, time.Duration(1<<63-1) / 2, true},
		{"first above max", Schedule{Attempts: 3, First: time.Hour, Max: time.Minute, Jitter: func() float64 { return 0 }}, 2, temp, 30 * time.Minute, true},
		{"retry-after lengthens", s(0), 1, after(7 * time.Second), 7 * time.Second, true},
		{"retry-after bounded by max", s(0), 1, after(time.Hour), 10 * time.Second, true},
		{"retry-after shorter than the schedule", s(0), 4, after(time.Second), 4 * time.Second, true},
		{"retry-after through a wrap", s(0), 1, fmt.Errorf("notify x: %w", after(3*time.Second)), 3 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, again := tt.s.Next(tt.attempt, tt.err)
			if wait != tt.wait || again != tt.again {
				t.Errorf("Next(%d, %v) = %v, %v; want %v, %v", tt.attempt, tt.err, wait, again, tt.wait, tt.again)
			}
		})
	}
}

// TestScheduleJitter checks that the default jitter spreads the waits
// within their bounds.
func TestScheduleJitter(t *testing.T) {
	s := Schedule{Attempts: 10, First: time.Second, Max: time.Minute}
	seen := map[time.Duration]bool{}
	for range 100 {
		wait, _ := s.Next(2, errors.New("x"))
		if wait < time.Second || wait > 2*time.Second {
			t.Fatalf("wait %v outside [1s, 2s]", wait)
		}
		seen[wait] = true
	}
	if len(seen) < 10 {
		t.Errorf("100 waits took only %d values", len(seen))
	}
}
