package monitor

import (
	"log/slog"
	"testing"
	"time"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// TestSilencesOutliveTheMonitor: a silence is kept in the store before it
// mutes, so that a monitor restored from the same store has it, and one
// expired is expired in both.
func TestSilencesOutliveTheMonitor(t *testing.T) {
	ctx := t.Context()
	st := openStore(t)
	now := time.Date(2026, 3, 12, 3, 0, 0, 0, time.UTC)
	newMonitor := func() *Monitor {
		return New(Options{Inventory: func() *fleet.Inventory { return &fleet.Inventory{} }, Store: st,
			Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Delivered: func(string, string) {}})
	}
	m := newMonitor()
	ms, err := labels.ParseMatchers([]string{`host="web-1"`})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		sl   alert.Silence
		kind fleet.Kind // of the error, if it is refused
	}{
		{"no matcher", alert.Silence{StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "ops", Comment: "why"}, fleet.KindInvalid},
		{"no comment", alert.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "ops"}, fleet.KindInvalid},
		{"ends before it starts", alert.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(-time.Hour), CreatedBy: "ops", Comment: "why"}, fleet.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.AddSilence(ctx, tc.sl); fleet.KindOf(err) != tc.kind {
				t.Errorf("AddSilence = %v, want a %v error", err, tc.kind)
			}
		})
	}
	if kept, _ := st.Silences(ctx); len(kept) != 0 {
		t.Fatalf("refused silences were kept: %+v", kept)
	}

	sl, err := m.AddSilence(ctx, alert.Silence{Matchers: ms, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "ops", Comment: "disk swap"})
	if err != nil {
		t.Fatal(err)
	}
	if sl.ID == "" || len(m.Silences()) != 1 || m.Silences()[0].ID != sl.ID {
		t.Fatalf("the silence added is not muting: %+v, %+v", sl, m.Silences())
	}
	again := newMonitor()
	if err := again.Restore(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := again.Silences(); len(got) != 1 || got[0].ID != sl.ID || got[0].Comment != "disk swap" {
		t.Fatalf("a restart restored %+v, want silence %s", got, sl.ID)
	}

	now = now.Add(10 * time.Minute)
	ended, err := m.ExpireSilence(ctx, sl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ended.EndsAt.Equal(now) || m.Silences()[0].Active(now) {
		t.Errorf("expired silence ends %s, active %v; want it ended at %s", ended.EndsAt, m.Silences()[0].Active(now), now)
	}
	if _, err := m.ExpireSilence(ctx, "no-such"); fleet.KindOf(err) != fleet.KindNotFound {
		t.Errorf("expiring a silence that does not exist: %v, want not found", err)
	}
}
