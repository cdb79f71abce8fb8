package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// sink is a BucketSink that keeps what it was given, and fails while err
// is set.
type sink struct {
	err     error
	calls   int
	buckets map[string]Aggregate // by id, width and start
}

func (s *sink) AddBuckets(_ context.Context, as []Aggregate) error {
	s.calls++
	if s.err != nil {
		return s.err
	}
	for _, a := range as {
		k := fmt.Sprintf("%s/%s/%d", a.ID, a.Width, a.Start.Unix())
		old := s.buckets[k]
		a.OK += old.OK
		a.Total += old.Total
		a.SumTook += old.SumTook
		a.MaxTook = max(a.MaxTook, old.MaxTook)
		s.buckets[k] = a
	}
	return nil
}

func (s *sink) get(tb testing.TB, id string, width time.Duration, start time.Time) Aggregate {
	tb.Helper()
	return s.buckets[fmt.Sprintf("%s/%s/%d", id, width, start.Unix())]
}

func TestSaver(t *testing.T) {
	day := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	mem := NewMemory(1)
	// Runs before the saver exists are not its business.
	mem.Record("ssh@web1", Record{At: at(9, 0), OK: true})
	sk := &sink{buckets: map[string]Aggregate{}}
	sv := NewSaver(mem, sk)
	save := func(want int) {
		t.Helper()
		n, err := sv.Save(context.Background())
		if err != nil || n != want {
			t.Fatalf("save: %d aggregates, error %v; want %d", n, err, want)
		}
	}

	mem.Record("ssh@web1", Record{At: at(10, 1), OK: true, Took: 10 * time.Millisecond})
	mem.Record("ssh@web1", Record{At: at(10, 2), OK: false, Took: 30 * time.Millisecond})
	mem.Record("ssh@web1", Record{At: at(11, 0), OK: true, Took: 20 * time.Millisecond})
	mem.Record("http@web2", Record{At: at(11, 0), OK: true})
	save(5) // two hours and a day of web1, an hour and a day of web2
	save(0)
	if sk.calls != 1 {
		t.Errorf("an empty save called the sink: %d calls", sk.calls)
	}

	// A refused batch goes with the next one, merged, counted once.
	sk.err = errors.New("database is down")
	mem.Record("ssh@web1", Record{At: at(11, 30), OK: false, Took: 50 * time.Millisecond})
	if _, err := sv.Save(context.Background()); err == nil {
		t.Fatal("save: the sink's error was not returned")
	}
	sk.err = nil
	mem.Record("ssh@web1", Record{At: at(11, 40), OK: true, Took: 5 * time.Millisecond})
	save(2)

	tests := []struct {
		id     string
		width  time.Duration
		start  time.Time
		ok     uint32
		total  uint32
		sum, m time.Duration
	}{
		{"ssh@web1", time.Hour, at(10, 0), 1, 2, 40 * time.Millisecond, 30 * time.Millisecond},
		{"ssh@web1", time.Hour, at(11, 0), 2, 3, 75 * time.Millisecond, 50 * time.Millisecond},
		{"ssh@web1", 24 * time.Hour, day, 3, 5, 115 * time.Millisecond, 50 * time.Millisecond},
		{"http@web2", 24 * time.Hour, day, 1, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tc.id, tc.width, tc.start.Format(time.TimeOnly)), func(t *testing.T) {
			got := sk.get(t, tc.id, tc.width, tc.start)
			if got.OK != tc.ok || got.Total != tc.total || got.SumTook != tc.sum || got.MaxTook != tc.m || !got.Start.Equal(tc.start) {
				t.Errorf("got %+v, want %d of %d, took %s (max %s)", got, tc.ok, tc.total, tc.sum, tc.m)
			}
		})
	}
}

// TestRestore brings a saved history back into a new Memory: the bars
// read the same, and the runs after the restart add to them.
func TestRestore(t *testing.T) {
	now := time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)
	today := now.Truncate(24 * time.Hour)
	before := NewMemory(1)
	sk := &sink{buckets: map[string]Aggregate{}}
	sv := NewSaver(before, sk)
	for d := range 5 {
		for i := range 4 {
			before.Record("ssh@web1", Record{At: today.AddDate(0, 0, -d).Add(time.Duration(i) * time.Hour), OK: i != d%4})
		}
	}
	if _, err := sv.Save(context.Background()); err != nil {
		t.Fatal(err)
	}

	after := NewMemory(1)
	var hourly, daily []Bucket
	for _, a := range sk.buckets {
		if a.Width == time.Hour {
			hourly = append(hourly, a.Bucket)
		} else {
			daily = append(daily, a.Bucket)
		}
	}
	// Older than Memory keeps: ignored.
	daily = append(daily, Bucket{Start: today.AddDate(0, 0, -200), OK: 1, Total: 1})
	after.Restore("ssh@web1", hourly, daily)
	if got, want := after.Daily("ssh@web1", now, 90), before.Daily("ssh@web1", now, 90); !slices.Equal(got, want) {
		t.Errorf("daily after restore:\n got %v\nwant %v", got, want)
	}
	if got, want := after.Hourly("ssh@web1", now, 48), before.Hourly("ssh@web1", now, 48); !slices.Equal(got, want) {
		t.Errorf("hourly after restore:\n got %v\nwant %v", got, want)
	}
	after.Record("ssh@web1", Record{At: now, OK: false})
	if got := after.Daily("ssh@web1", now, 1)[0]; got.OK != 3 || got.Total != 5 {
		t.Errorf("today after a run: %d of %d, want 3 of 5", got.OK, got.Total)
	}
}
