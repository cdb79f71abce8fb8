package site

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/probe"
	"github.com/illico-dev/illico/internal/statuspage/page"
	"github.com/illico-dev/illico/internal/store"
)

// How the probes' history is kept: written every saveHistoryEvery and at
// shutdown, hourly buckets kept two days and daily ones more than the
// status page's 90, pruned every hour.
const (
	saveHistoryEvery = time.Minute
	keepHourly       = 49 * time.Hour
	keepDaily        = 100 * 24 * time.Hour
)

// bucketStore keeps the probes' aggregated runs; *store.Store is one.
type bucketStore interface {
	AddProbeBuckets(ctx context.Context, bs []store.ProbeBucket) error
	ProbeBuckets(ctx context.Context, width time.Duration, since time.Time) ([]store.ProbeBucket, error)
	PruneProbeBuckets(ctx context.Context, width time.Duration, before time.Time) (int64, error)
}

// history keeps the probes' runs across restarts, for the status page's
// bars: the Memory the bars are drawn from is filled from the store at
// start, and what it records is added to the store in batches. A crash
// loses at most the runs of the last minute.
type history struct {
	mem   *probe.Memory
	saver *probe.Saver
	store bucketStore
	log   *slog.Logger
	now   func() time.Time
	// pruned is when the store was last pruned; only run uses it.
	pruned time.Time
}

func newHistory(mem *probe.Memory, st bucketStore, log *slog.Logger, now func() time.Time) *history {
	return &history{mem: mem, saver: probe.NewSaver(mem, bucketSink{st}), store: st, log: log, now: now}
}

// load fills the Memory with the stored history. Run it before the probes.
func (h *history) load(ctx context.Context) error {
	now := h.now()
	hours, err := h.store.ProbeBuckets(ctx, time.Hour, now.Add(-keepHourly))
	if err != nil {
		return fmt.Errorf("load the probes' history: %w", err)
	}
	days, err := h.store.ProbeBuckets(ctx, 24*time.Hour, now.Add(-keepDaily))
	if err != nil {
		return fmt.Errorf("load the probes' history: %w", err)
	}
	hourly, daily := map[string][]probe.Bucket{}, map[string][]probe.Bucket{}
	for _, b := range hours {
		hourly[b.Target] = append(hourly[b.Target], probeBucket(b))
	}
	for _, b := range days {
		daily[b.Target] = append(daily[b.Target], probeBucket(b))
	}
	for id := range daily {
		h.mem.Restore(id, hourly[id], daily[id])
	}
	for id := range hourly {
		if daily[id] == nil {
			h.mem.Restore(id, hourly[id], nil)
		}
	}
	h.log.Info("probes' history loaded", "targets", len(daily), "hourly_buckets", len(hours), "daily_buckets", len(days))
	return nil
}

// run saves the history every saveHistoryEvery until ctx ends; the last
// runs are saved by save once the probes have stopped.
func (h *history) run(ctx context.Context) {
	tick := time.NewTicker(saveHistoryEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.save(ctx)
		if now := h.now(); now.Sub(h.pruned) >= time.Hour {
			h.prune(ctx, now)
		}
	}
}

// save adds the runs recorded since the last save to the store. What the
// store refused goes with the next save.
func (h *history) save(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := h.saver.Save(ctx); err != nil {
		h.log.Error("save the probes' history; trying again with the next batch", "err", err)
	}
}

func (h *history) prune(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for width, keep := range map[time.Duration]time.Duration{time.Hour: keepHourly, 24 * time.Hour: keepDaily} {
		if _, err := h.store.PruneProbeBuckets(ctx, width, now.Add(-keep)); err != nil {
			h.log.Error("prune the probes' history", "err", err)
			return
		}
	}
	h.pruned = now
}

// bucketSink is the store as the probes' Saver sees it.
type bucketSink struct{ st bucketStore }

// AddBuckets implements probe.BucketSink.
func (s bucketSink) AddBuckets(ctx context.Context, as []probe.Aggregate) error {
	bs := make([]store.ProbeBucket, len(as))
	for i, a := range as {
		bs[i] = store.ProbeBucket{Target: a.ID, Width: a.Width, Start: a.Start, OK: int64(a.OK), Total: int64(a.Total),
			SumTook: a.SumTook, MaxTook: a.MaxTook}
	}
	return s.st.AddProbeBuckets(ctx, bs)
}

func probeBucket(b store.ProbeBucket) probe.Bucket {
	return probe.Bucket{Start: b.Start, OK: uint32(min(b.OK, 1<<32-1)), Total: uint32(min(b.Total, 1<<32-1)),
		SumTook: b.SumTook, MaxTook: b.MaxTook}
}

// dailyRuns is the probes' history, as the status page's bars need it:
// the stored history and the runs since, which history keeps in one
// Memory.
type dailyRuns interface {
	Daily(id string, now time.Time, n int) []probe.Bucket
}

// uptime is the status page's History, drawn from the probes' runs: a
// component's day is the mean availability, that day, of the probes of the
// hosts of the groups naming it. A probe that did not run that day counts
// for nothing, and a day on which none ran has no data.
type uptime struct {
	runs      dailyRuns
	targets   func() []*probe.Target
	inventory func() *fleet.Inventory
	now       func() time.Time
}

// Daily implements page.History.
func (u *uptime) Daily(_ context.Context, component string, days int) ([]page.Day, error) {
	hosts := map[string]bool{}
	for _, g := range u.inventory().Groups {
		if g.Component != "" && componentID(g.Component) == component {
			for _, m := range g.Members {
				hosts[m] = true
			}
		}
	}
	if days <= 0 {
		return nil, nil
	}
	now, runs := u.now(), u.runs
	sums, counts := make([]float64, days), make([]int, days)
	for _, t := range u.targets() {
		if t.Host == nil || !hosts[t.Host.Name] {
			continue
		}
		bs := runs.Daily(t.ID, now, days)
		// Memory keeps fewer days than a page may ask for: align on today.
		off := days - len(bs)
		for i, b := range bs {
			if a := b.Availability(); a >= 0 {
				sums[off+i] += a
				counts[off+i]++
			}
		}
	}
	out := make([]page.Day, 0, days)
	// Memory's days are UTC days, as are the page's unless told otherwise.
	today := now.UTC().Truncate(24 * time.Hour)
	for i := range days {
		d := page.Day{Date: today.AddDate(0, 0, i-days+1), NoData: counts[i] == 0}
		if counts[i] > 0 {
			d.Availability = sums[i] / float64(counts[i])
		}
		out = append(out, d)
	}
	return out, nil
}
