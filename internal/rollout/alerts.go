package rollout

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/illico-dev/illico/internal/fleet"
	"github.com/illico-dev/illico/internal/labels"
)

// AlertNotice is what one notification of Alertmanager says: the labels
// of its alerts that fire, and of those that resolved.
type AlertNotice struct {
	Firing, Resolved []labels.Set
}

// PausedByAlert is a rollout that an alert paused, and the alert's labels.
type PausedByAlert struct {
	Rollout string
	Labels  labels.Set
}

// ResolvedAlert is an alert that resolved, one of those that match a
// rollout's pause_on_alerts and fired while it ran or stood paused.
type ResolvedAlert struct {
	Rollout string
	Labels  labels.Set
	// StillFiring counts the rollout's other matching alerts that fire.
	StillFiring int
	// Resumed says that the rollout resumed: it was the last of them, the
	// plan says resume_when_resolved, and alerts paused the rollout, not
	// an operator.
	Resumed bool
}

// AlertOutcome is what a notice did to the rollouts, the most recent
// rollouts first.
type AlertOutcome struct {
	Paused   []PausedByAlert
	Resolved []ResolvedAlert
}

// OnAlerts applies a notice of Alertmanager to the rollouts the engine
// runs (see decideAlerts), one notice at a time, and returns what it did.
// Which alerts fire for which rollout is kept with the rollout's run, in
// memory: a restart of the daemon forgets it. A rollout that takes no
// order (it ended meanwhile) is logged and left out.
func (e *Engine) OnAlerts(n AlertNotice) AlertOutcome {
	e.notices.Lock()
	defer e.notices.Unlock()
	e.mu.Lock()
	runs := make(map[string]*run, len(e.runs))
	maps.Copy(runs, e.runs)
	e.mu.Unlock()
	views := make([]alertView, 0, len(runs))
	for _, ru := range runs {
		ru.mu.Lock()
		views = append(views, alertView{r: snapshot(ru.r), firing: ru.alerts, byAlerts: ru.pausedByAlerts})
		ru.mu.Unlock()
	}
	d := decideAlerts(views, n)
	for id, firing := range d.firing {
		ru := runs[id]
		ru.mu.Lock()
		ru.alerts = firing
		ru.mu.Unlock()
	}
	var out AlertOutcome
	for _, p := range d.pause {
		if _, err := e.command(p.Rollout, order{c: Pause, by: "alert " + p.Labels.String(), alerts: true}); err != nil {
			e.opts.Logger.Warn("alertmanager: could not pause a rollout", "rollout", p.Rollout, "err", err)
			continue
		}
		out.Paused = append(out.Paused, p)
	}
	for _, ra := range d.resolved {
		if ra.Resumed {
			applied, err := e.command(ra.Rollout, order{c: Resume, by: "Alertmanager, every alert that paused it resolved,", alerts: true})
			if err != nil {
				e.opts.Logger.Warn("alertmanager: could not resume a rollout", "rollout", ra.Rollout, "err", err)
			}
			ra.Resumed = applied
		}
		out.Resolved = append(out.Resolved, ra)
	}
	return out
}

// alertView is a rollout as decideAlerts sees it: its matching alerts
// that fire, by fingerprint, and whether alerts paused it.
type alertView struct {
	r        *fleet.Rollout
	firing   map[string]labels.Set
	byAlerts bool
}

// alertDecision is what a notice does: the rollouts to pause, the alerts
// resolved (Resumed: the rollout is to resume), and the new set of
// matching alerts firing of each rollout whose set changed.
type alertDecision struct {
	pause    []PausedByAlert
	resolved []ResolvedAlert
	firing   map[string]map[string]labels.Set
}

// decideAlerts says what a notice does to the rollouts, the most recent
// first. For a running or paused rollout whose plan has pause_on_alerts,
// an alert matches when all its matchers match the alert's labels:
//   - a matching alert that fires joins the rollout's firing set, and the
//     first one pauses it if it runs;
//   - a matching alert of the set that resolved leaves it, and is told;
//     the last one resumes the rollout when the plan says
//     resume_when_resolved and alerts paused it, not an operator.
func decideAlerts(views []alertView, n AlertNotice) alertDecision {
	views = slices.Clone(views)
	slices.SortFunc(views, func(a, b alertView) int {
		return cmp.Or(b.r.CreatedAt.Compare(a.r.CreatedAt), strings.Compare(b.r.ID, a.r.ID))
	})
	d := alertDecision{firing: map[string]map[string]labels.Set{}}
	for _, v := range views {
		r := v.r
		if r.State != fleet.RolloutRunning && r.State != fleet.RolloutPaused || r.Plan == nil || len(r.Plan.Strategy.PauseOnAlerts) == 0 {
			continue
		}
		ms, err := labels.ParseMatchers(r.Plan.Strategy.PauseOnAlerts)
		if err != nil {
			continue // refused when the plan was read; a plan read before cannot pause
		}
		firing := maps.Clone(v.firing)
		if firing == nil {
			firing = map[string]labels.Set{}
		}
		changed := false
		var first labels.Set
		for _, l := range n.Firing {
			if !ms.Match(l) {
				continue
			}
			if first == nil {
				first = l
			}
			if fp := l.Fingerprint(); firing[fp] == nil {
				firing[fp], changed = l, true
			}
		}
		var resolved []labels.Set
		for _, l := range n.Resolved {
			if fp := l.Fingerprint(); firing[fp] != nil {
				delete(firing, fp)
				resolved, changed = append(resolved, l), true
			}
		}
		if first != nil && r.State == fleet.RolloutRunning {
			d.pause = append(d.pause, PausedByAlert{Rollout: r.ID, Labels: first})
		}
		for i, l := range resolved {
			ra := ResolvedAlert{Rollout: r.ID, Labels: l, StillFiring: len(firing)}
			ra.Resumed = i == len(resolved)-1 && len(firing) == 0 && r.State == fleet.RolloutPaused && v.byAlerts && r.Plan.Strategy.ResumeWhenResolved
			d.resolved = append(d.resolved, ra)
		}
		if changed {
			d.firing[r.ID] = firing
		}
	}
	return d
}
