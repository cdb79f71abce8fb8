package monitor

import (
	"context"
	"fmt"

	"github.com/illico-dev/illico/internal/alert"
	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
	"github.com/illico-dev/illico/internal/store"
)

// AddSilence keeps sl in the store, then mutes the alerts it matches from
// then on, and returns it with the id and times the store gave it. The
// store comes first: a silence the daemon shows must outlive it.
func (m *Monitor) AddSilence(ctx context.Context, sl alert.Silence) (alert.Silence, error) {
	if err := sl.Validate(); err != nil {
		return alert.Silence{}, err
	}
	stored, err := m.alerts.store.AddSilence(ctx, storedSilence(sl))
	if err != nil {
		return alert.Silence{}, err
	}
	sl.ID, sl.StartsAt, sl.EndsAt = stored.ID, stored.StartsAt, stored.EndsAt
	return m.alerts.pipe.AddSilence(sl)
}

// ExpireSilence ends silence id now, in the store and then in the
// pipeline, and returns it as it now stands.
func (m *Monitor) ExpireSilence(ctx context.Context, id string) (alert.Silence, error) {
	stored, err := m.alerts.store.ExpireSilence(ctx, id, m.alerts.now())
	if err != nil {
		return alert.Silence{}, err
	}
	// A silence the pipeline pruned already has nothing left to mute.
	if err := m.alerts.pipe.ExpireSilence(id, stored.EndsAt); err != nil && fleet.KindOf(err) != fleet.KindNotFound {
		return alert.Silence{}, err
	}
	return silenceFrom(stored)
}

// Silences is every silence, expired ones included, in order.
func (m *Monitor) Silences() []alert.Silence { return m.alerts.pipe.Silences() }

// storedSilence is sl as the store keeps it, its matchers written out.
func storedSilence(sl alert.Silence) store.Silence {
	out := store.Silence{ID: sl.ID, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, CreatedBy: sl.CreatedBy, Comment: sl.Comment}
	for _, m := range sl.Matchers {
		out.Matchers = append(out.Matchers, m.String())
	}
	return out
}

// silenceFrom reads a silence back from the store.
func silenceFrom(st store.Silence) (alert.Silence, error) {
	ms, err := labels.ParseMatchers(st.Matchers)
	if err != nil {
		return alert.Silence{}, fmt.Errorf("silence %s: %w", st.ID, err)
	}
	return alert.Silence{ID: st.ID, Matchers: ms, StartsAt: st.StartsAt, EndsAt: st.EndsAt, CreatedBy: st.CreatedBy, Comment: st.Comment}, nil
}
