package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
)

func TestOffset(t *testing.T) {
	const n, interval = 10000, 10 * time.Second
	perSecond := make([]int, 10)
	for i := range n {
		off := Offset(fmt.Sprintf("site@web-%05d", i), interval)
		if off < 0 || off >= interval {
			t.Fatalf("offset %s outside [0, %s)", off, interval)
		}
		perSecond[off/time.Second]++
	}
	for sec, c := range perSecond {
		// Evenly spread means about 1000 a second; a bunched hash would not
		// stay within 15%.
		if c < 850 || c > 1150 {
			t.Errorf("second %d holds %d first runs of %d, want about %d", sec, c, n, n/10)
		}
	}
	// The same id lands on the same offset on every start.
	if got := Offset("site@web-00001", interval); got != 3844682902 {
		t.Errorf("offset = %d, want 3844682902", got)
	}
}

func TestNext(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Duration
		want time.Duration
	}{
		{"on time", 0, 10 * time.Second},
		{"a little late keeps the grid", 3 * time.Second, 10 * time.Second},
		{"exactly on the next slot skips it", 10 * time.Second, 20 * time.Second},
		{"far behind skips missed slots", 35 * time.Second, 40 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := next(t0, 10*time.Second, t0.Add(tt.now)); !got.Equal(t0.Add(tt.want)) {
				t.Errorf("next = %s, want %s", got.Sub(t0), tt.want)
			}
		})
	}
}

// Two schedulers, as two leaders one after the other, run a target on the
// same grid of the clock, whenever each started: the second's first run
// comes an interval after the first's last, however soon it took over.
func TestSchedulersShareTheClocksGrid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 10 * time.Second
		tg := fakeTarget("boot", interval, 1, 1)
		var mu sync.Mutex
		var runs []time.Time
		probe := func(context.Context, *Target) Observation {
			mu.Lock()
			runs = append(runs, time.Now())
			mu.Unlock()
			return Observation{Connected: true}
		}
		lead := func(d time.Duration) {
			ctx, cancel := context.WithTimeout(t.Context(), d)
			defer cancel()
			NewScheduler([]Target{tg}, Options{Probe: probe}).Run(ctx)
		}
		// Off the grid's start, with takeovers of 3.7 s and 0.3 s.
		time.Sleep(1234 * time.Millisecond)
		lead(27 * time.Second)
		time.Sleep(3700 * time.Millisecond)
		lead(31 * time.Second)
		time.Sleep(300 * time.Millisecond)
		lead(25 * time.Second)
		if len(runs) < 6 {
			t.Fatalf("%d runs, want at least 6", len(runs))
		}
		off := Offset(tg.ID, interval)
		for i, at := range runs {
			if got := at.Sub(at.Truncate(interval)); got != off {
				t.Errorf("run %d at %s is %s into its interval, want %s", i, at.Format(time.TimeOnly), got, off)
			}
			if i > 0 && at.Sub(runs[i-1]) < interval {
				t.Errorf("run %d came %s after the one before, under the interval %s", i, at.Sub(runs[i-1]), interval)
			}
		}
	})
}

func TestObserve(t *testing.T) {
	d := &Definition{FailureThreshold: 3, SuccessThreshold: 2}
	tests := []struct {
		runs string // + success, - failure
		want string // state after each run: u(nknown) U(p) D(own)
	}{
		{"+", "U"},
		{"--+", "uuU"},
		{"---", "uuD"},
		{"+--+---", "UUUUUUD"},
		{"+---+-++", "UUUDDDDU"},
		{"---+-++", "uuDDDDU"},
	}
	for _, tt := range tests {
		t.Run(tt.runs, func(t *testing.T) {
			var st Status
			got := ""
			for _, r := range tt.runs {
				ok := r == '+'
				before := st.State
				changed := st.observe(ok, d)
				st.Last.OK = ok
				if changed == (before == st.State) {
					t.Errorf("observe reported changed=%v going %s → %s", changed, before, st.State)
				}
				got += map[State]string{StateUnknown: "u", StateUp: "U", StateDown: "D"}[st.State]
			}
			if got != tt.want {
				t.Errorf("states %s, want %s", got, tt.want)
			}
		})
	}
}

// fakeTarget is a target whose runs a test steers.
func fakeTarget(name string, interval time.Duration, failures, successes int) Target {
	d := &Definition{Name: name, Kind: KindTCP, Interval: interval, Timeout: interval, FailureThreshold: failures, SuccessThreshold: successes}
	d.SetDefaults()
	return d.Expand(&fleet.Host{Name: "h"})
}

func TestSchedulerSpreadsAndFlips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		targets := []Target{
			fakeTarget("a", 10*time.Second, 2, 1),
			fakeTarget("b", 10*time.Second, 2, 1),
			fakeTarget("slow", 10*time.Second, 1, 1),
		}
		var mu sync.Mutex
		runs := map[string][]time.Duration{}
		failing := map[string]bool{}
		probe := func(ctx context.Context, tg *Target) Observation {
			mu.Lock()
			runs[tg.ID] = append(runs[tg.ID], time.Since(start))
			fail := failing[tg.ID]
			mu.Unlock()
			if tg.Def.Name == "slow" {
				// Hangs past its interval: only its own next slot is lost.
				select {
				case <-time.After(15 * time.Second):
				case <-ctx.Done():
				}
				return Observation{Err: errors.New("timed out")}
			}
			if fail {
				return Observation{Err: errors.New("refused")}
			}
			return Observation{Connected: true}
		}
		var changes []Change
		mem := NewMemory(8)
		s := NewScheduler(targets, Options{Probe: probe, Concurrency: 2, Recorder: mem, OnChange: func(c Change) {
			mu.Lock()
			changes = append(changes, c)
			mu.Unlock()
		}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(25 * time.Second)
		synctest.Wait()
		mu.Lock()
		failing["a@h"] = true
		mu.Unlock()
		time.Sleep(20 * time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}

		// Each target runs on its own grid from its offset; slow runs 15s,
		// so every other slot of its finds it still running and is skipped.
		slots := func(id string, every int) (want []time.Duration, failed int) {
			for at := Offset(id, 10*time.Second); at < 45*time.Second; at += time.Duration(every) * 10 * time.Second {
				want = append(want, at)
				if at >= 25*time.Second {
					failed++
				}
			}
			return want, failed
		}
		wantA, failedA := slots("a@h", 1)
		wantB, _ := slots("b@h", 1)
		wantSlow, _ := slots("slow@h", 2)
		allSlow, _ := slots("slow@h", 1)
		for id, want := range map[string][]time.Duration{"a@h": wantA, "b@h": wantB, "slow@h": wantSlow} {
			if fmt.Sprint(runs[id]) != fmt.Sprint(want) {
				t.Errorf("%s ran at %v, want %v", id, runs[id], want)
			}
		}
		st := s.Stats()
		if st.Skipped != int64(len(allSlow)-len(wantSlow)) || st.DriftMax != 0 {
			t.Errorf("stats = %+v, want %d skipped and no drift", st, len(allSlow)-len(wantSlow))
		}

		got := map[string]string{}
		for _, c := range changes {
			got[c.Target.ID] += c.From.String() + "→" + c.To.String() + " "
		}
		want := map[string]string{"a@h": "unknown→up up→down ", "b@h": "unknown→up ", "slow@h": "unknown→down "}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changes %v, want %v", got, want)
		}
		status := s.Status()
		if status[0].State != StateDown || status[0].Streak != failedA || status[0].Last.Reason != "[CONNECTED] == true (saw false)" {
			t.Errorf("status of a = %+v", status[0])
		}
		if rec := mem.Recent("a@h"); len(rec) != min(8, len(wantA)) || !rec[0].OK || rec[len(rec)-1].OK {
			t.Errorf("recent of a = %+v", rec)
		}
	})
}

func TestSchedulerBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var targets []Target
		for i := range 20 {
			targets = append(targets, fakeTarget(fmt.Sprint(i), time.Second, 1, 1))
		}
		var mu sync.Mutex
		inFlight, most := 0, 0
		probe := func(ctx context.Context, tg *Target) Observation {
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			time.Sleep(500 * time.Millisecond)
			mu.Lock()
			inFlight--
			mu.Unlock()
			return Observation{Connected: true}
		}
		s := NewScheduler(targets, Options{Probe: probe, Concurrency: 4})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		s.Run(ctx)
		if most != 4 {
			t.Errorf("at most %d probes in flight, want 4", most)
		}
		// 20 targets of 500ms a second on 4 workers: they cannot all keep
		// up, and the drift says so.
		if st := s.Stats(); st.DriftMax < time.Second || st.Skipped == 0 {
			t.Errorf("stats = %+v, want drift and skipped slots", st)
		}
	})
}

func TestMemory(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	m := NewMemory(3)
	for d := range 100 {
		for i := range 4 {
			m.Record("p", Record{At: day(d).Add(time.Duration(i) * time.Minute), Took: time.Duration(i+1) * time.Millisecond, OK: d%10 != 0 || i == 0})
		}
	}
	now := day(99)
	rec := m.Recent("p")
	if len(rec) != 3 || !rec[0].At.Equal(now.Add(time.Minute)) || !rec[2].At.Equal(now.Add(3*time.Minute)) {
		t.Errorf("recent = %+v", rec)
	}
	days := m.Daily("p", now, 90)
	if len(days) != 90 || !days[89].Start.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 99)) {
		t.Fatalf("daily: %d buckets, last starts %s", len(days), days[89].Start)
	}
	// Days 10..99 are kept; every tenth day passed 1 run of 4.
	if got, want := Availability(days), (81*4+9*1)/float64(90*4); got != want {
		t.Errorf("availability = %v, want %v", got, want)
	}
	if d := days[0]; d.Total != 4 || d.OK != 1 || d.MaxTook != 4*time.Millisecond || d.SumTook != 10*time.Millisecond {
		t.Errorf("day 10 = %+v", d)
	}
	// An old record does not overwrite a newer day in its slot.
	m.Record("p", Record{At: day(0), OK: false})
	if got := Availability(m.Daily("p", now, 90)); got != (81*4+9*1)/float64(90*4) {
		t.Errorf("availability after an old record = %v", got)
	}
	hours := m.Hourly("p", now.Add(2*time.Hour), 3)
	if hours[0].Total != 4 || hours[1].Total != 0 || hours[0].Availability() != 1 || hours[1].Availability() != -1 {
		t.Errorf("hourly = %+v", hours)
	}
	if m.Recent("none") != nil || Availability(m.Daily("none", now, 90)) != -1 {
		t.Error("an unknown probe has history")
	}
}
