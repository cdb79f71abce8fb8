package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/store"
)

// monitorTests check what the probes and alerts keep in the store.
var monitorTests = []test{
	{"probe buckets add up and prune", testProbeBuckets},
	{"probe buckets: a large batch in one transaction", testProbeBucketsLarge},
	{"silences: add, expire, list, prune", testSilences},
	{"alert state is replaced whole", testAlertState},
}

func testProbeBuckets(t *testing.T, s *store.Store) {
	c := ctx(t)
	day := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	hour := day.Add(14 * time.Hour)
	first := []store.ProbeBucket{
		{Target: "ssh@web1", Width: time.Hour, Start: hour, OK: 3, Total: 4, SumTook: 40 * time.Millisecond, MaxTook: 20 * time.Millisecond},
		{Target: "ssh@web1", Width: 24 * time.Hour, Start: day, OK: 3, Total: 4, SumTook: 40 * time.Millisecond, MaxTook: 20 * time.Millisecond},
		// Twice in one batch: merged.
		{Target: "ssh@web2", Width: 24 * time.Hour, Start: day, OK: 1, Total: 1, SumTook: time.Millisecond, MaxTook: time.Millisecond},
		{Target: "ssh@web2", Width: 24 * time.Hour, Start: day, OK: 0, Total: 1, SumTook: 5 * time.Millisecond, MaxTook: 5 * time.Millisecond},
		{Target: "ssh@web2", Width: 24 * time.Hour, Start: day.AddDate(0, 0, -100), OK: 1, Total: 1},
	}
	if err := s.AddProbeBuckets(c, first); err != nil {
		t.Fatal(err)
	}
	second := []store.ProbeBucket{
		{Target: "ssh@web1", Width: time.Hour, Start: hour, OK: 1, Total: 1, SumTook: 7 * time.Millisecond, MaxTook: 7 * time.Millisecond},
		{Target: "ssh@web1", Width: 24 * time.Hour, Start: day, OK: 1, Total: 1, SumTook: 30 * time.Millisecond, MaxTook: 30 * time.Millisecond},
	}
	if err := s.AddProbeBuckets(c, second); err != nil {
		t.Fatal(err)
	}
	hours := must(s.ProbeBuckets(c, time.Hour, day))(t)
	want := []store.ProbeBucket{{Target: "ssh@web1", Width: time.Hour, Start: hour, OK: 4, Total: 5, SumTook: 47 * time.Millisecond, MaxTook: 20 * time.Millisecond}}
	if !slices.Equal(hours, want) {
		t.Errorf("hours: got %+v, want %+v", hours, want)
	}
	days := must(s.ProbeBuckets(c, 24*time.Hour, day.AddDate(0, 0, -90)))(t)
	want = []store.ProbeBucket{
		{Target: "ssh@web1", Width: 24 * time.Hour, Start: day, OK: 4, Total: 5, SumTook: 70 * time.Millisecond, MaxTook: 30 * time.Millisecond},
		{Target: "ssh@web2", Width: 24 * time.Hour, Start: day, OK: 1, Total: 2, SumTook: 6 * time.Millisecond, MaxTook: 5 * time.Millisecond},
	}
	if !slices.Equal(days, want) {
		t.Errorf("days: got %+v, want %+v", days, want)
	}
	if n := must(s.PruneProbeBuckets(c, 24*time.Hour, day.AddDate(0, 0, -95)))(t); n != 1 {
		t.Errorf("pruned %d daily buckets, want the one of 100 days ago", n)
	}
	if all := must(s.ProbeBuckets(c, 24*time.Hour, time.Unix(0, 0)))(t); len(all) != 2 {
		t.Errorf("after pruning, %d daily buckets, want 2", len(all))
	}
	if n := must(s.PruneProbeBuckets(c, time.Hour, hour.Add(time.Hour)))(t); n != 1 {
		t.Errorf("pruned %d hourly buckets, want 1", n)
	}

	for _, bad := range []store.ProbeBucket{
		{Target: "ssh@web1", Width: time.Minute, Start: day, OK: 1, Total: 1},
		{Target: "", Width: time.Hour, Start: day, OK: 1, Total: 1},
		{Target: "ssh@web1", Width: time.Hour, Start: day, OK: 2, Total: 1},
	} {
		// A bad bucket fails the whole batch: the good one before it is not
		// added either.
		err := s.AddProbeBuckets(c, []store.ProbeBucket{{Target: "ssh@web9", Width: time.Hour, Start: day, OK: 1, Total: 1}, bad})
		wantKind(t, err, fleet.KindInvalid)
	}
	if got := must(s.ProbeBuckets(c, time.Hour, day))(t); len(got) != 0 {
		t.Errorf("refused batches left %+v", got)
	}
}

// testProbeBucketsLarge adds a day's worth of buckets for 3000 targets,
// more rows than one statement takes, twice: every count doubles.
func testProbeBucketsLarge(t *testing.T, s *store.Store) {
	c := ctx(t)
	day := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	var bs []store.ProbeBucket
	for i := range 3000 {
		target := fmt.Sprintf("http@host-%04d", i)
		bs = append(bs,
			store.ProbeBucket{Target: target, Width: time.Hour, Start: day, OK: int64(i % 7), Total: 7, SumTook: time.Second, MaxTook: time.Second},
			store.ProbeBucket{Target: target, Width: 24 * time.Hour, Start: day, OK: int64(i % 7), Total: 7, SumTook: time.Second, MaxTook: time.Second})
	}
	for range 2 {
		if err := s.AddProbeBuckets(c, bs); err != nil {
			t.Fatal(err)
		}
	}
	for _, width := range []time.Duration{time.Hour, 24 * time.Hour} {
		got := must(s.ProbeBuckets(c, width, day))(t)
		if len(got) != 3000 {
			t.Fatalf("width %s: %d buckets, want 3000", width, len(got))
		}
		for i, b := range got {
			if b.Total != 14 || b.OK != int64(2*(i%7)) || b.SumTook != 2*time.Second || b.MaxTook != time.Second {
				t.Fatalf("width %s: bucket %d is %+v", width, i, b)
			}
		}
	}
}

func testSilences(t *testing.T, s *store.Store) {
	c := ctx(t)
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	a := must(s.AddSilence(c, store.Silence{Matchers: []string{`host="web1"`, `probe=~"ss.*"`}, StartsAt: now, EndsAt: now.Add(2 * time.Hour),
		CreatedBy: "alice", Comment: "disk swap"}))(t)
	b := must(s.AddSilence(c, store.Silence{Matchers: []string{`datacenter="rbx-2"`}, StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour),
		CreatedBy: "bob", Comment: "fibre cut"}))(t)
	if a.ID == "" || a.ID == b.ID {
		t.Fatalf("ids %q and %q", a.ID, b.ID)
	}
	got := must(s.Silences(c))(t)
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
		t.Fatalf("silences: %+v", got)
	}
	if g := got[0]; !slices.Equal(g.Matchers, a.Matchers) || !g.StartsAt.Equal(now) || !g.EndsAt.Equal(now.Add(2*time.Hour)) ||
		g.CreatedBy != "alice" || g.Comment != "disk swap" {
		t.Errorf("read back %+v, added %+v", g, a)
	}

	expired := must(s.ExpireSilence(c, a.ID, now.Add(30*time.Minute)))(t)
	if !expired.EndsAt.Equal(now.Add(30 * time.Minute)) {
		t.Errorf("expired at %v", expired.EndsAt)
	}
	// Expiring later does not bring it back.
	if again := must(s.ExpireSilence(c, a.ID, now.Add(time.Hour)))(t); !again.EndsAt.Equal(expired.EndsAt) {
		t.Errorf("expiring again moved the end to %v", again.EndsAt)
	}
	for _, id := range []string{"999", "x", ""} {
		_, err := s.ExpireSilence(c, id, now)
		wantKind(t, err, fleet.KindNotFound)
	}
	_, err := s.AddSilence(c, store.Silence{StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "x", Comment: "y"})
	wantKind(t, err, fleet.KindInvalid)

	if n := must(s.PruneSilences(c, now.Add(time.Hour)))(t); n != 1 {
		t.Errorf("pruned %d silences, want the expired one", n)
	}
	if got := must(s.Silences(c))(t); len(got) != 1 || got[0].ID != b.ID {
		t.Errorf("after pruning: %+v", got)
	}
	// Ids are not reused: a silence named in a log stays that one.
	if c := must(s.AddSilence(c, store.Silence{Matchers: []string{"a=b"}, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "c", Comment: "d"}))(t); c.ID == a.ID || c.ID == b.ID {
		t.Errorf("id %s reused", c.ID)
	}
}

func testAlertState(t *testing.T, s *store.Store) {
	c := ctx(t)
	if got := must(s.AlertState(c))(t); got != nil {
		t.Fatalf("a new store has alert state %q", got)
	}
	for _, doc := range []string{`{"groups":[1]}`, `{"groups":[]}`, `{"alerts":"é ✓"}`} {
		if err := s.SaveAlertState(c, []byte(doc)); err != nil {
			t.Fatal(err)
		}
		if got := must(s.AlertState(c))(t); string(got) != doc {
			t.Errorf("got %q, want %q", got, doc)
		}
	}
}
