package rollout

import (
	"cmp"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// PausedByAlert is a rollout that an alert paused, and the alert's labels.
type PausedByAlert struct {
	Rollout string
	Labels  labels.Set
}

// PauseOnAlerts pauses every running rollout whose plan's pause_on_alerts
// matchers all match the labels of one of the alerts firing, and returns
// those it paused, each with the first such alert, the most recent
// rollouts first. A rollout that takes no order (it ended meanwhile) is
// logged and left out.
func (e *Engine) PauseOnAlerts(firing []labels.Set) []PausedByAlert {
	e.mu.Lock()
	running := make([]*fleet.Rollout, 0, len(e.runs))
	for _, ru := range e.runs {
		ru.mu.Lock()
		running = append(running, snapshot(ru.r))
		ru.mu.Unlock()
	}
	e.mu.Unlock()
	var out []PausedByAlert
	for _, p := range alertsPause(running, firing) {
		if err := e.Order(p.Rollout, Pause, "alert "+p.Labels.String()); err != nil {
			e.opts.Logger.Warn("alertmanager: could not pause a rollout", "rollout", p.Rollout, "err", err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// alertsPause says which of the rollouts the firing alerts pause, and by
// which alert: a running rollout whose plan's pause_on_alerts matchers
// all match an alert's labels, the first such alert. The most recent
// rollouts come first.
func alertsPause(rollouts []*fleet.Rollout, firing []labels.Set) []PausedByAlert {
	rollouts = slices.Clone(rollouts)
	slices.SortFunc(rollouts, func(a, b *fleet.Rollout) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	var out []PausedByAlert
	for _, r := range rollouts {
		if r.State != fleet.RolloutRunning || r.Plan == nil || len(r.Plan.Strategy.PauseOnAlerts) == 0 {
			continue
		}
		ms, err := labels.ParseMatchers(r.Plan.Strategy.PauseOnAlerts)
		if err != nil {
			continue // refused when the plan was read; a plan read before cannot pause
		}
		if i := slices.IndexFunc(firing, ms.Match); i >= 0 {
			out = append(out, PausedByAlert{Rollout: r.ID, Labels: firing[i]})
		}
	}
	return out
}
